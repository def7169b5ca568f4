"""Process-wide resources (dataset, run store) and the session's design and job."""

from __future__ import annotations

import importlib
import threading

import streamlit as st

from mnist_dash.data import Mnist, MnistDataError, load_mnist
from mnist_dash.jobs import TrainingJob
from mnist_dash.presets import DEFAULT_PRESET, NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import RunStore
from mnist_dash.share import from_query, has_spec, layer_rows
from mnist_dash.spec import ModelSpec, SpecError

DESIGN_KEY = "design"  # the design being edited, in its JSON form (may be invalid)
JOB_KEY = "train_job"


@st.cache_resource(show_spinner="Loading MNIST…")
def _dataset() -> Mnist:
    return load_mnist()


def dataset() -> Mnist | None:
    """The dataset, loaded once per process and shared; None (and a message shown) if unavailable."""
    try:
        return _dataset()
    except MnistDataError as error:
        st.error(f"**MNIST could not be loaded.** {error}", icon=":material/block:")
        return None


@st.cache_resource
def store() -> RunStore:
    """The run store ($MNIST_DASH_HOME), shared by every session."""
    return RunStore()


@st.cache_resource
def warm_up_training() -> threading.Thread:
    """Import Keras and TensorFlow on a background thread, once per process.

    Called once the Train page has drawn, so the first Start does not wait seconds for
    the import. Not on Design: the import holds the GIL for seconds and would freeze
    the editing there; Home and Design appear without ever loading TensorFlow.
    """
    thread = threading.Thread(
        target=importlib.import_module, args=("mnist_dash.training",), daemon=True, name="mnist-dash-warm-up"
    )
    thread.start()
    return thread


def init_design() -> None:
    """Give the session a design: from the URL's query parameters if it has one, else the default preset."""
    if DESIGN_KEY in st.session_state:
        return
    spec = PRESETS[DEFAULT_PRESET]
    query = st.query_params.to_dict()
    if has_spec(query):
        try:
            spec = from_query(query, base=spec)
        except SpecError as error:
            st.session_state["design_notice"] = (
                "The link's design has problems, so the default design is shown instead: "
                + "; ".join(str(p) for p in error.problems)
            )
    set_design(spec)


def set_design(spec: ModelSpec) -> None:
    """Replace the design being edited (a preset, an upload, a link)."""
    st.session_state[DESIGN_KEY] = spec.to_dict() | {"layers": layer_rows(spec)}
    # New widget keys make the Design page's table start afresh from these rows.
    st.session_state["design_version"] = st.session_state.get("design_version", 0) + 1


def design() -> dict:
    return st.session_state[DESIGN_KEY]


def current_job() -> TrainingJob | None:
    return st.session_state.get(JOB_KEY)


def job_active() -> bool:
    """Whether this session's training job is queued or running."""
    job = current_job()
    return job is not None and not job.done


EXPERIMENT_KEY = "compare_jobs"


def experiment_jobs() -> list[TrainingJob]:
    return st.session_state.get(EXPERIMENT_KEY, [])


def start_experiment(epochs: int, data: Mnist) -> list[TrainingJob]:
    """Queue the notebook's three presets (the process-wide limit runs them in turn)."""
    jobs = [TrainingJob(PRESETS[name].replace(epochs=epochs), data, store=store()).start() for name in NOTEBOOK_PRESETS]
    st.session_state[EXPERIMENT_KEY] = jobs
    return jobs


def start_job(spec: ModelSpec, data: Mnist) -> TrainingJob:
    """Start training `spec` for this session; the job outlives reruns and page switches."""
    job = TrainingJob(spec, data, store=store()).start()
    st.session_state[JOB_KEY] = job
    return job
