"""Entry point: `streamlit run streamlit_app.py`. Page config and navigation over pages/."""

import streamlit as st

st.set_page_config(page_title="mnist_dash", page_icon="🔢", layout="wide")
navigation = st.navigation([st.Page("pages/home.py", title="Home", icon="🏠", default=True)])
navigation.run()
