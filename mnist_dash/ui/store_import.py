"""The one-time offer to bring runs from a folder store (the layout before the database) into the run store."""

from __future__ import annotations

import subprocess
import sys
import threading

import streamlit as st

from mnist_dash.classroom import lesson, teacher
from mnist_dash.folder_store import IMPORT_SETTING, run_folders
from mnist_dash.runs.database import HOME_ENV, default_home
from mnist_dash.text import count, md
from mnist_dash.ui import resources

CHECKED_KEY = "store_import_checked"  # looked once per session: a redraw costs nothing
SHIPPED_KEY = "shipped_lesson_checked"
_RUNNING = threading.Lock()  # one import at a time in this server, whoever presses


@st.cache_resource(show_spinner="Adding the notebook's three trained models…")
def _shipped_once(where: str) -> None:
    lesson.ship(resources.store())


def ship_lesson() -> None:
    """A new deployment's empty store gets the notebook's three runs (`classroom.lesson.ship`): once per server."""
    if not st.session_state.get(SHIPPED_KEY):
        _shipped_once(resources.store().where)
        st.session_state[SHIPPED_KEY] = True


def offer(teachers_page: bool = False) -> None:
    """If MNIST_DASH_HOME holds runs of the folder store and they were never imported, offer to import them.

    Where a teacher is configured, only on the Teacher page (`teachers_page`, the teacher signed in);
    on a server without one (a laptop), on the first page. Never with the server's path.
    """
    if teacher.teachers_configured() != teachers_page:
        return
    if st.session_state.get(CHECKED_KEY):
        return
    home = default_home()
    folders = run_folders(home)
    if not folders or resources.store().setting(IMPORT_SETTING) is not None:
        st.session_state[CHECKED_KEY] = True
        return
    with st.container(border=True, key="store_import"):
        st.markdown(
            f"**{count(len(folders), 'run')} from an earlier version of this app** are in this server's folder "
            f"store ({HOME_ENV}). Bring them into the run store, so every page lists them? The folders stay as "
            "they are."
        )
        row = st.container(horizontal=True)
        go = row.button("Import them", type="primary", key="store_import_go")
        if row.button("Not now", key="store_import_later"):
            st.session_state[CHECKED_KEY] = True
            st.rerun()
        if go:
            if not _RUNNING.acquire(blocking=False):
                st.info("An import is already running on this server; reload in a minute to see its runs.")
                return
            try:
                _run_import(str(home))
            finally:
                _RUNNING.release()


def _run_import(home: str) -> None:
    """The CLI's import in a process of its own (it loads Keras to read each model), its lines shown as they come."""
    with st.status("Importing the runs of the folder store…", expanded=True) as status:
        command = [sys.executable, "-m", "mnist_dash", "store", "import", home]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
            said = []
            for line in process.stdout:
                said.append(line.rstrip())
                if line.startswith(("imported", "already", "skipped")):
                    status.write(md(line.strip()))
        if process.returncode == 0:
            status.update(label=md(said[-1]), state="complete", expanded=False)
            st.session_state[CHECKED_KEY] = True
        else:
            st.code("\n".join(said[-5:]), language=None)
            status.update(label="The import stopped early: the end of what it said is above", state="error")
