"""Home: what the app is for, a look at the data, and the way in."""

import streamlit as st

from mnist_dash.data import class_counts, enlarge, examples_per_class
from mnist_dash.ui import resources

data = resources.dataset()
st.title("How does a neural network learn?")
st.markdown(
    "Design a multilayer perceptron, press **Train**, and watch its loss fall and its accuracy climb, "
    "epoch by epoch, on MNIST's 70,000 handwritten digits. "
    "Look inside it to see how its weights spread as it learns, and compare designs to see when a "
    "network starts to memorise instead of generalise. "
    "It starts from the three models of a 2019 Keras notebook, and lets you go further."
)
with st.container(horizontal=True, key="home_links"):
    st.page_link("app_pages/design.py", label="Design a network", icon=":material/edit:")
    st.page_link("app_pages/train.py", label="Train it", icon=":material/monitoring:")

st.subheader("The data: handwritten digits, 28 × 28 pixels")
picks = examples_per_class(data.y_train, per_class=2)
# A row that wraps: ten to a row on a laptop, fewer on a projector or a phone (ten columns there cut the images).
with st.container(horizontal=True, gap="xxsmall", key="home_examples"):
    for index in picks:
        label = data.y_train[index]
        st.image(enlarge(data.x_train[index]), caption=f"label {label}", width=80, alt=f"handwritten digit {label}")

facts, balance = st.columns([1, 2], gap="large")
with facts:
    st.metric("Training images", f"{len(data.x_train):,}")
    st.metric("Test images", f"{len(data.x_test):,}")
    st.caption("Each image is 784 numbers from 0 (black) to 255 (white); the network sees them scaled to 0-1.")
with balance:
    # Bars of Streamlit's own, not a chart: a chart library is the slowest thing a first page can load.
    st.markdown("**Images per digit**: the classes are nearly balanced, so accuracy is a fair score.")
    train_counts, test_counts = class_counts(data.y_train), class_counts(data.y_test)
    halves = st.columns(2)
    for digit, (train_count, test_count) in enumerate(zip(train_counts, test_counts, strict=True)):
        halves[digit // 5].progress(
            float(train_count / train_counts.max()),
            text=f"**{digit}**: {train_count:,} training · {test_count:,} test",
        )
