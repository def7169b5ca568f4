"""Projector: the class board in large type, the scatter, and the job training now, redrawn by itself; or what the
class tried, without names."""

import streamlit as st

from mnist_dash import descriptions
from mnist_dash.jobs import JobStatus
from mnist_dash.plots.board import board_scatter
from mnist_dash.plots.training import training_curves
from mnist_dash.text import md
from mnist_dash.ui import board_view, class_view, resources
from mnist_dash.ui import teacher as teacher_ui

REFRESH_S = 3

if not teacher_ui.signed_in():
    st.info("The projector view is the teacher's: sign in on the Teacher page.", icon=":material/school:")
    st.stop()
shown = st.segmented_control("Show", ("The board", "What the class tried"), default="The board", key="projector_show")
if shown == "What the class tried":
    start = class_view.window_choice("projector_window")
    st.markdown("## What the class tried")
    class_view.tried_section(start, names=False)  # on the wall: choices and results, never who
    st.stop()


@st.fragment(run_every=REFRESH_S)
@resources.outage_safe
def projector() -> None:
    board = board_view.read()
    if board.challenge is not None:
        st.markdown(f"## Challenge: {md(board.challenge.describe())}")
    if not board.rows:
        st.markdown(f"## {md(board_view.nothing_ranked(board))}")
    else:
        st.html(board_view.large_table(board.rows))
    # One above the other: side by side, a 1024 x 768 projector (the sidebar open) cut both charts' titles.
    figure = board_scatter(board.runs, None, budget=board.challenge.max_params if board.challenge else None)
    st.plotly_chart(
        figure.update_layout(font_size=20, height=560),
        key="projector_scatter",
        theme=None,
        alt=descriptions.board(board.runs),
    )
    st.caption("Each dot is a run: higher is more accurate, further right is bigger. The staircase: best for its size.")
    running = next((job for job in resources.queue().everyone() if job.snapshot().status == JobStatus.RUNNING), None)
    with st.container():
        if running is None:
            st.markdown("## Nothing is training right now.")
            return
        snap = running.snapshot()
        st.markdown(f"## Training now: {md(running.owner.name)}'s {md(running.spec.name or 'design')}")
        figure = training_curves(snap.history, snap.batch_history, "accuracy", snap.spec.epochs, snap.job_id)
        words = descriptions.curves(list(snap.history), "accuracy", snap.spec.epochs)
        st.plotly_chart(figure.update_layout(font_size=20, height=480), key="projector_live", alt=words)
        st.caption("Dashed: training accuracy, solid: validation accuracy, epoch by epoch.")
        st.markdown(f"### {md(snap.status_line)}")


projector()
