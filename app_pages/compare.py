"""Compare: runs side by side, their curves overlaid, and what the numbers say about over- and underfitting."""

import streamlit as st

from mnist_dash.ui import compare_view, resources

st.title("Compare runs")
status_area = compare_view.experiment_controls()
progress = compare_view.experiment_progress()
busy = any(progress)


@st.fragment(run_every=2.0 if busy else None, key="compare_view")
@resources.outage_safe
def comparison() -> None:
    if compare_view.experiment_progress() != progress:
        st.rerun()  # the whole page: a waiting preset starts, the button comes back when all have ended
    snapshots = compare_view.experiment_status(status_area)
    chosen = compare_view.pick_runs(snapshots, busy)
    pairs = compare_view.summaries(chosen) if chosen else []
    if pairs:
        compare_view.curves([summary for _, summary in pairs])
        compare_view.table(pairs)


comparison()
