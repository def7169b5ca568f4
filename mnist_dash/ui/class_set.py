"""The class's own handwriting on the pages: adding a drawing on Draw, a run's accuracy on it on Evaluate."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_dash.data import enlarge
from mnist_dash.runs.digits import DigitRefused
from mnist_dash.text import count, md
from mnist_dash.ui import owner as owner_ui
from mnist_dash.ui import resources, runs_view, state

ADDED_KEY = "class_set_added"  # how many this session added: the picker's key, so it starts afresh each time


def offer_add(image: np.ndarray) -> None:
    """Under Draw's answer: one click on the digit the student meant adds the drawing to the class set."""
    added = st.session_state.get(ADDED_KEY, 0)
    digits = resources.store().digits
    label = st.pills(
        "Add it to the class's handwriting: which digit did you mean?",
        list(range(10)),
        key=f"class_set_label_{added}",
        help="The class's own digits become a test set: Evaluate shows how a model does on your hands.",
    )
    if label is not None:
        try:  # what the model saw: to_mnist gives uint8 pixels, as MNIST stores them
            digits.add(image, int(label), state.owner(), browser=owner_ui.browser_key())
        except DigitRefused as refused:
            st.warning(md(str(refused)), icon=":material/block:")
            return
        st.session_state[ADDED_KEY] = added + 1
        size = count(len(digits.all()), "digit")
        st.session_state["class_set_said"] = f"Added as a {label}: the class set has {size}."
        st.rerun()
    if said := st.session_state.pop("class_set_said", None):
        st.success(said, icon=":material/check:")


@st.cache_data(max_entries=16, show_spinner="Reading the class's handwriting…")
def _predictions(run_id: str, digits_seen: int, _x: np.ndarray) -> np.ndarray:
    """The run's answers on the class set (`digits_seen`: the set's size and last id, so a change reads again)."""
    return runs_view.network(run_id).probabilities(_x).argmax(axis=1)


def evaluate(run_id: str, test_accuracy: float) -> None:
    """A run's accuracy on the class's handwriting beside MNIST's, and the class digits it gets wrong."""
    digits = resources.store().digits.all()
    st.subheader("On the class's own handwriting")
    if not len(digits):
        st.caption("No class digits yet: on Draw, draw a digit and click the one you meant to add it here.")
        return
    seen = hash((len(digits), int(digits.ids[-1])))
    predicted = _predictions(run_id, seen, digits.x)
    right = predicted == digits.y
    row = st.container(horizontal=True)
    row.metric("MNIST test set", f"{test_accuracy:.2%}", width="content")
    row.metric(
        "The class's digits",
        f"{right.mean():.2%}",
        delta=f"{(right.mean() - test_accuracy) * 100:+.1f} points",
        help=f"{int(right.sum())} of {len(digits)} right",
        width="content",
    )
    st.download_button(
        "Class digits (.npz, Keras's MNIST layout)",
        resources.store().digits.npz(),
        file_name="class-digits.npz",
        key="evaluate_class_npz",
    )
    wrong = np.flatnonzero(~right)[:24]
    if len(wrong):
        st.markdown(f"**The class digits it gets wrong** ({len(np.flatnonzero(~right))}):")
    with st.container(horizontal=True, key="evaluate_class_mistakes"):
        for index in wrong:
            caption = f"{md(digits.owner_names[index])}'s {digits.y[index]} → {predicted[index]}"
            alt = f"{digits.owner_names[index]}'s handwritten {digits.y[index]}, read as {predicted[index]}"
            st.image(enlarge(digits.x[index]), caption=caption, width=84, alt=alt)
