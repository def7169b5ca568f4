"""Evaluate: a stored run on the 10,000 test images: confusion matrix, per-class accuracy, its mistakes."""

import numpy as np
import streamlit as st

from mnist_dash.data import enlarge
from mnist_dash.evaluation import confusion_matrix, largest_confusion, mistakes, per_class_accuracy
from mnist_dash.plots_model import confusion_heatmap
from mnist_dash.ui import runs_view, state


def digit_choice(column, label: str, default: int, key: str) -> int | None:
    """A digit 0-9, or None for any."""
    return column.selectbox(
        label,
        [None, *range(10)],
        index=default + 1,
        key=key,
        format_func=lambda digit: "any" if digit is None else str(digit),
    )


st.title("Evaluate")
run = runs_view.pick_run(runs_view.stored_runs(), key="evaluate_run")
probabilities = runs_view.load_or_explain(runs_view.test_probabilities, run.run_id) if run else None
if probabilities is not None:
    y_true = state.dataset().y_test
    matrix = confusion_matrix(y_true, probabilities.argmax(axis=1))
    errors = int(matrix.sum() - np.trace(matrix))
    st.metric("Test accuracy", f"{np.trace(matrix) / matrix.sum():.2%}", help=f"{errors:,} of {matrix.sum():,} wrong")
    left, right = st.columns([3, 2], gap="large")
    with left:
        normalised = st.toggle("Share of each true digit (row-normalised)", key="evaluate_normalised")
        st.plotly_chart(confusion_heatmap(matrix, normalised), key="evaluate_matrix")
    with right:
        st.subheader("Accuracy per digit")
        accuracy = per_class_accuracy(matrix)
        st.dataframe(
            {"digit": list(range(10)), "accuracy": accuracy, "test images": matrix.sum(axis=1)},
            hide_index=True,
            column_config={"accuracy": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)},
        )
    st.subheader("Mistakes, most confident first")
    worst_true, worst_pred = largest_confusion(matrix)
    pick_true, pick_pred = st.columns(2)
    true_label = digit_choice(pick_true, "True digit", worst_true, "evaluate_true")
    predicted = digit_choice(pick_pred, "Predicted as", worst_pred, "evaluate_pred")
    found = mistakes(y_true, probabilities, true_label, predicted, limit=24)
    if not found:
        st.info("No mistakes in this cell.", icon=":material/check_circle:")
    images = [enlarge(state.dataset().x_test[m.index]) for m in found]
    captions = [f"true {m.true_label} → {m.predicted} ({m.confidence:.0%})" for m in found]
    for start in range(0, len(images), 8):
        for column, image, caption in zip(st.columns(8), images[start:], captions[start:], strict=False):
            column.image(image, caption=caption, width=84)
