"""Process-wide resources (dataset, run store) and the session's design and job."""

from __future__ import annotations

import streamlit as st

from mnist_dash.caps import Caps, CapsError
from mnist_dash.data import Mnist, MnistDataError, load_mnist
from mnist_dash.jobs import TrainingJob
from mnist_dash.presets import DEFAULT_PRESET, NOTEBOOK_PRESETS, PRESETS
from mnist_dash.reuse import ReusedRun
from mnist_dash.runs import RunStore
from mnist_dash.share import from_query, has_spec, layer_rows
from mnist_dash.spec import ModelSpec, SpecError, field_label

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


def warm_up_training() -> None:
    """Have a training worker ready (a process that has loaded Keras), so the first Start is quick.

    Called at the end of the Design and Train pages. The worker imports TensorFlow in its
    own process, so this process (and every page it draws) never waits for it; Home
    appears without it.
    """
    from mnist_dash import worker
    from mnist_dash.limiter import default_limiter

    worker.prestart(slots=default_limiter().max_jobs)


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


def caps() -> Caps:
    """The server's caps (environment variables, or root-level secrets, which Streamlit exports as such)."""
    try:
        return Caps.from_env()
    except CapsError as error:
        st.error(f"**A cap setting is wrong, so the defaults apply.** {error}", icon=":material/tune:")
        return Caps()


def current_job() -> TrainingJob | ReusedRun | None:
    return st.session_state.get(JOB_KEY)


def session_jobs() -> list[TrainingJob]:
    """This session's jobs that are queued or running (its own and the experiment's)."""
    jobs = [current_job(), *experiment_jobs()]
    return [job for job in jobs if job is not None and not job.done]


def start_blockers(spec: ModelSpec | None, count: int = 1) -> list[str]:
    """Why this session may not start `count` more jobs of `spec` now; empty when it may."""
    limits = caps()
    reasons = [f"{field_label(p.field)}: {p.message}." for p in limits.problems(spec)] if spec is not None else []
    active = len(session_jobs())
    if active + count > limits.session_jobs:
        reasons.append(
            f"This session has {active} job(s) queued or running and the server allows {limits.session_jobs} "
            "per session (MNIST_DASH_SESSION_JOBS): wait for one to finish, or stop one."
        )
    return reasons


def finished_twin(spec: ModelSpec | None, data: Mnist | None):
    """The stored finished run of this exact design, seed and data, if any (the result cache)."""
    if spec is None or data is None:
        return None
    return store().find_same(spec, data)


def reuse_run(info) -> ReusedRun:
    """Make a stored run this session's current one, as if it had just trained."""
    job = ReusedRun.from_store(store(), info)
    st.session_state[JOB_KEY] = job
    return job


def job_active() -> bool:
    """Whether this session's training job is queued or running."""
    job = current_job()
    return job is not None and not job.done


EXPERIMENT_KEY = "compare_jobs"


def experiment_jobs() -> list[TrainingJob]:
    return st.session_state.get(EXPERIMENT_KEY, [])


def _experiment(epochs: int, data: Mnist) -> list[tuple[ModelSpec, object]]:
    """The notebook's presets for `epochs`, each with its finished twin in the store (or None)."""
    specs = [PRESETS[name].replace(epochs=epochs) for name in NOTEBOOK_PRESETS]
    return list(zip(specs, store().find_each(specs, data), strict=True))


def experiment_needs(epochs: int, data: Mnist | None) -> int:
    """How many of the notebook's presets the experiment would train (the others are in the store)."""
    return len(NOTEBOOK_PRESETS) if data is None else sum(twin is None for _, twin in _experiment(epochs, data))


def start_experiment(epochs: int, data: Mnist) -> list[TrainingJob | ReusedRun]:
    """Queue the notebook's three presets (the process-wide limit runs them in turn).

    A preset already trained for these epochs on this data is taken from the store, not
    trained again: after the first student, the experiment is near-instant for a class.
    """
    jobs = [
        ReusedRun.from_store(store(), twin) if twin else _job(spec, data) for spec, twin in _experiment(epochs, data)
    ]
    st.session_state[EXPERIMENT_KEY] = jobs
    return jobs


def start_job(spec: ModelSpec, data: Mnist) -> TrainingJob:
    """Start training `spec` for this session; the job outlives reruns and page switches."""
    job = _job(spec, data)
    st.session_state[JOB_KEY] = job
    return job


def _job(spec: ModelSpec, data: Mnist) -> TrainingJob:
    # In a worker process: this server's Python stays free to draw every student's pages.
    return TrainingJob(spec, data, store=store(), runner="process").start()
