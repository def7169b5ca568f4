"""Home: what the app is for (the Design and Train pages come next)."""

import streamlit as st

from mnist_dash.presets import PRESETS
from mnist_dash.spec import count_params, describe

st.title("mnist_dash")
st.write(
    "Design a multilayer perceptron, train it on MNIST while its curves grow, and look inside it. "
    "The pages for designing and training are on their way; the engine below them is ready."
)
st.subheader("The notebook's models")
rows = [{"preset": name, "parameters": count_params(s).total, "layers": describe(s)} for name, s in PRESETS.items()]
st.dataframe(rows, hide_index=True)
st.caption("Train one headless: `python -m mnist_dash train --preset notebook-2-hidden --epochs 1`")
