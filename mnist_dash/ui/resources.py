"""Process-wide resources every session shares: the dataset, the run store, the queue, the class's settings
and limits, the app's runner. Each is made once per server process (`st.cache_resource`) or read at most
every few seconds (`st.cache_data`), and said plainly when it cannot be had."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from mnist_dash.classroom import rules as class_rules
from mnist_dash.data import (
    Mnist,
    MnistDataError,
    MnistFileNotFound,
    MnistNotNpz,
    MnistUnavailable,
    load_mnist,
)
from mnist_dash.jobs import JobQueue, Limits, LimitsError, default_queue
from mnist_dash.jobs.runners import app_runner
from mnist_dash.runs import DatabaseError, RunStore, spool
from mnist_dash.text import excerpt, md

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner="Loading MNIST…")
def _dataset() -> Mnist:
    return load_mnist()


def dataset() -> Mnist | None:
    """The dataset, loaded once per process and shared; None when it cannot be had (see `explain_missing_data`)."""
    try:
        return _dataset()
    except MnistDataError:
        return None


MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_WHAT_WENT_WRONG = {  # by the kind of error: what a person can act on, never the raw exception
    MnistFileNotFound: "the file that MNIST_DASH_DATA names does not exist",
    MnistNotNpz: "the file that MNIST_DASH_DATA names is not a NumPy .npz archive (is it the right file?)",
    MnistUnavailable: "MNIST_DASH_DATA is not set, and Keras could not download MNIST (is this machine offline?)",
}


def explain_missing_data() -> None:
    """Why MNIST is missing and how to start the app with it: the command, and where to get the file."""
    try:
        _dataset()
        return
    except MnistDataError as error:
        problem = _WHAT_WENT_WRONG.get(
            type(error),
            "the file that MNIST_DASH_DATA names is not in Keras's MNIST layout (x_train, y_train, x_test, "
            "y_test: 28 × 28 uint8 images and labels 0-9)",
        )
    given = os.environ.get("MNIST_DASH_DATA")
    st.error(f"**MNIST could not be loaded**: {problem}.", icon=":material/block:")
    if given:
        st.caption(f"MNIST_DASH_DATA is now {md(excerpt(given, 120))}")
    st.markdown(
        f"Get Keras's `mnist.npz` (11 MB) from {MNIST_URL}, then stop the app (Ctrl+C) and start it again "
        "with the file's path (an environment variable is read when the app starts, so a reload is not enough):"
    )
    st.code("MNIST_DASH_DATA=/path/to/mnist.npz streamlit run streamlit_app.py", language="bash")
    st.caption("On Streamlit Community Cloud, put MNIST_DASH_DATA in the app's secrets, or let the app download it.")


@st.cache_resource(show_spinner="Opening the run store…")
def store() -> RunStore:
    """The run store (MNIST_DASH_DB_URL, else a SQLite file under MNIST_DASH_HOME), shared by every session.

    Raises DatabaseError when it cannot be opened (not cached: the next page run tries again). Its spool
    (runs saved while the database did not answer) is put into the database every few seconds.
    """
    opened = RunStore()
    spool.Flusher(opened).start()
    return opened


def explain_store_problem() -> bool:
    """When the run store cannot be opened, say why and how to fix it (no raw exception); True if it can."""
    try:
        store()
        return True
    except DatabaseError as error:
        log.error("the run store cannot be opened: %s", error)
        teacher = st.session_state.get("teacher_signed_in")  # ui.teacher's flag: the details are for the teacher
        st.error(
            f"**The run store cannot be opened.** {md(str(error) if teacher else error.brief)}",
            icon=":material/database:",
        )
        st.caption("Fix it and reload this page; nothing stored is lost by this.")
        return False


@contextlib.contextmanager
def outage_explained() -> Iterator[None]:
    """Run a page (or a fragment) so that a database that stops answering is explained, never raised: the
    students read what it means for their work; the details (host, user, port) go to the server's log only."""
    try:
        yield
    except SQLAlchemyError as error:
        log.warning("the run store's database did not answer a page: %s", str(error).splitlines()[0][:300])
        st.warning(
            "**The run store's database is not answering right now.** Training goes on: a run that ends "
            "meanwhile is kept on the server and goes into the database when it answers again. Stored runs "
            "come back then; this page tries again on its next refresh, or reload it in a minute.",
            icon=":material/cloud_off:",
        )


def outage_safe(function: Callable) -> Callable:
    """`function` (a fragment's, usually) run inside `outage_explained`."""

    @functools.wraps(function)
    def explained(*args, **kwargs):
        with outage_explained():
            return function(*args, **kwargs)

    return explained


def queue() -> JobQueue:
    return default_queue()


def host_limits() -> Limits:
    """The host's limits alone (environment variables or secrets), the defaults where one is wrong."""
    try:
        return Limits.from_env()
    except LimitsError:
        return Limits()


def limits() -> Limits:
    """The server's limits (environment variables, or root-level secrets, which Streamlit exports as such).

    With the teacher's rules on top (mnist_dash.classroom.rules.ClassRules): caps changed for this class, and a lock.
    """
    try:
        host = Limits.from_env()
    except LimitsError as error:
        st.error(f"**A limit setting is wrong, so the defaults apply.** {md(str(error))}", icon=":material/tune:")
        host = Limits()
    return class_rules.rules_from(class_setting(class_rules.RULES_SETTING)).apply(host)  # the teacher's, on top


@st.cache_data(ttl=2, show_spinner=False)  # read by every input of every page: from the store every 2 s at most
def class_setting(key: str) -> str | None:
    """A class setting the teacher keeps in the store (mnist_dash.classroom); `class_setting.clear()` after a change."""
    return store().setting(key)


def warm_up_training() -> None:
    """Have a training worker ready (a process that has loaded Keras), so the first Start is quick.

    Called at the end of the Design and Train pages. The worker imports TensorFlow in its
    own process, so this process (and every page it draws) never waits for it; Home
    appears without it.
    """
    app_runner().warm_up(queue().slots)
