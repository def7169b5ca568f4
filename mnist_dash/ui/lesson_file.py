"""The Teacher page's lesson file: export chosen runs, the class's digits and the challenge as one file; import one.

The file is `classroom.lesson`'s. Here it is made only when the teacher presses Download (the
button's data is a function), and an import is checked whole before anything is written: a
damaged or foreign file is refused with the reason, and nothing changes. Uploads here are at
most `MAX_UPLOAD_MB`, the most one tab may hold (`ui.uploads`); a larger lesson goes in with
`python -m mnist_dash lesson import FILE`.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import streamlit as st

from mnist_dash.classroom import lesson
from mnist_dash.runs import DamagedRunError, RunNotFound
from mnist_dash.text import md
from mnist_dash.ui import class_view, resources, runs_view, uploads
from mnist_dash.ui import teacher as teacher_ui

MAX_UPLOAD_MB = uploads.MAX_BYTES >> 20


def _file(run_ids: list[str], digits: bool, challenge: bool, compact: bool):
    def make() -> bytes:
        store = resources.store()
        present = []
        for run_id in run_ids:  # a run deleted since it was chosen is left out, never a failed download
            with contextlib.suppress(RunNotFound, DamagedRunError):
                store.get(run_id)
                present.append(run_id)
        return lesson.export(store, present, digits=digits, challenge=challenge, compact=compact)

    return make


def section() -> None:
    st.subheader("The lesson as a file")
    st.caption(
        "Take this lesson to another copy of the app (a laptop when the hosted app sleeps, next year's class): "
        "its runs with their curves and weights, the class's digits and the challenge, in one file."
    )
    runs = {run.run_id: run for run in resources.store().list().runs}
    today = {run.run_id for run in class_view.lesson_runs(class_view.since("today"))}
    chosen = st.multiselect(
        "Runs to put in it (today's, to begin with)",
        list(runs),
        default=[run_id for run_id in runs if run_id in today],
        format_func=lambda run_id: f"{runs[run_id].owner_name or 'nobody'}: {runs_view.label(runs[run_id])}",
        key="teacher_lesson_runs",
    )
    row = st.container(horizontal=True)
    digits = row.checkbox("The class's digits", value=True, key="teacher_lesson_digits")
    challenge = row.checkbox("The challenge", value=True, key="teacher_lesson_challenge")
    compact = row.checkbox(
        "Compact", key="teacher_lesson_compact", help="Final weights as float16: half the size; answers alike."
    )
    st.download_button(
        "Download the lesson file",
        data=_file(list(chosen), digits, challenge, compact),
        file_name=f"mnist_dash-lesson-{datetime.now(UTC):%Y-%m-%d}.zip",
        mime="application/zip",
        on_click="ignore",
        icon=":material/download:",
        key="teacher_lesson_download",
    )
    if said := st.session_state.pop("teacher_lesson_said", None):
        st.success(md(said), icon=":material/upload:")
    uploaded = st.file_uploader(
        f"Import a lesson file (up to {MAX_UPLOAD_MB} MB here; a larger one with "
        "`python -m mnist_dash lesson import FILE`)",
        type=["zip"],
        max_upload_size=MAX_UPLOAD_MB,
        key="teacher_lesson_upload",
    )
    if uploaded is not None and st.button("Import it", key="teacher_lesson_import"):
        try:
            done = lesson.import_lesson(resources.store(), uploaded.getvalue())
        except lesson.LessonError as error:
            st.error(f"**{md(uploaded.name)} was not imported**: {md(str(error))}. Nothing was changed.")
        else:
            teacher_ui.changed()
            st.session_state["teacher_lesson_said"] = f"Imported {uploaded.name}: {done.describe()}"
            st.rerun()
