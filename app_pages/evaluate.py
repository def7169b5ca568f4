"""Evaluate: a stored run on the 10,000 test images: confusion matrix, per-class accuracy, its mistakes."""

from functools import partial

import numpy as np
import streamlit as st

from mnist_dash import descriptions
from mnist_dash.data import enlarge
from mnist_dash.evaluation import (
    clicked_cell,
    confusion_matrix,
    largest_confusion,
    mistakes,
    per_class_accuracy,
)
from mnist_dash.plots.model import confusion_heatmap
from mnist_dash.ui import charts, class_set, resources, runs_view, tables

CLICKS = "evaluate_clicks"  # how many cells were clicked: the chart's key, so each click starts a fresh selection


def digit_choice(column, label: str, key: str) -> int | None:
    """A digit 0-9, or None for any (its value set in session state: by default, by a click, or by hand)."""
    return column.selectbox(
        label, [None, *range(10)], key=key, format_func=lambda digit: "any" if digit is None else str(digit)
    )


def pick_clicked_cell(chart_key: str) -> None:
    """A click on the matrix picks its cell's mistakes (runs before the page, so the select boxes follow)."""
    cell = clicked_cell(st.session_state[chart_key].selection.points)
    if cell is not None:
        st.session_state["evaluate_true"], st.session_state["evaluate_pred"] = cell
        # A new chart key forgets the selection: a second click on this cell picks it again, not deselects it.
        st.session_state[CLICKS] = st.session_state.get(CLICKS, 0) + 1


st.title("Evaluate")
run = runs_view.pick_run(runs_view.stored_runs(), key="evaluate_run")
probabilities = runs_view.load_or_explain(runs_view.test_probabilities, run.run_id) if run else None
if probabilities is not None:
    y_true = resources.dataset().y_test
    matrix = confusion_matrix(y_true, probabilities.argmax(axis=1))
    errors = int(matrix.sum() - np.trace(matrix))
    st.metric("Test accuracy", f"{np.trace(matrix) / matrix.sum():.2%}", help=f"{errors:,} of {matrix.sum():,} wrong")
    worst_true, worst_pred = largest_confusion(matrix)
    st.session_state.setdefault("evaluate_true", worst_true)  # the select boxes below start at the worst cell
    st.session_state.setdefault("evaluate_pred", worst_pred)
    # Side by side where both fit, the table under the matrix where not (a projector's 1024 px, a phone);
    # the table's width shows all of it, its accuracies were cut off in a column.
    top = st.container(horizontal=True, gap="medium", key="evaluate_top")
    left, right = top.container(width=480), top.container(width=320)
    with left:
        normalised = st.toggle("Share of each true digit (row-normalised)", key="evaluate_normalised")
        chart_key = f"evaluate_matrix_{st.session_state.get(CLICKS, 0)}"
        picked = (st.session_state["evaluate_true"], st.session_state["evaluate_pred"])
        with st.container(key="evaluate_matrix"):  # one name for the chart, whatever its key
            charts.chart(
                confusion_heatmap(matrix, normalised, picked),
                key=chart_key,
                alt=descriptions.confusion(matrix),
                on_select=partial(pick_clicked_cell, chart_key),
                selection_mode="points",
                config={"displayModeBar": False},  # nothing to zoom; the bar would cover the digits' axis title
            )
        st.caption(
            "Rows: the true digit; columns: what the model said. The diagonal is right; a bright cell off it is a "
            "confusion (a 4 read as a 9). Click a cell to see its mistakes below."
        )
    with right:
        st.subheader("Accuracy per digit")
        accuracy = per_class_accuracy(matrix)
        progress = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
        with tables.table_area("evaluate_digits", run.run_id):
            st.dataframe(
                {"digit": list(range(10)), "accuracy": accuracy, "test images": matrix.sum(axis=1)},
                hide_index=True,
                column_config={"accuracy": progress},
            )
    st.subheader("Mistakes, most confident first")
    pick_true, pick_pred = st.columns(2)
    true_label = digit_choice(pick_true, "True digit", "evaluate_true")
    predicted = digit_choice(pick_pred, "Predicted as", "evaluate_pred")
    found = mistakes(y_true, probabilities, true_label, predicted, limit=24)
    if not found:
        st.info("No mistakes in this cell.", icon=":material/check_circle:")
    images = [enlarge(resources.dataset().x_test[m.index]) for m in found]
    captions = [f"true {m.true_label} → {m.predicted} ({m.confidence:.0%})" for m in found]
    alts = [f"handwritten digit {m.true_label}, read as {m.predicted}" for m in found]
    with st.container(horizontal=True, key="evaluate_mistakes"):  # wraps: 8 a row on a laptop, 3 on a phone
        for image, caption, alt in zip(images, captions, alts, strict=True):
            st.image(image, caption=caption, width=84, alt=alt)
    class_set.evaluate(run.run_id, np.trace(matrix) / matrix.sum())
