"""The whole app of the reproduction: one file uploader, nothing else (`streamlit run unchosen_uploads_app.py`)."""

import streamlit as st

st.file_uploader("A photo", key="photo")
