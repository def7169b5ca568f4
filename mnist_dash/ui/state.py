"""Process-wide resources (dataset, run store, queue) and the session's owner, design and jobs."""

from __future__ import annotations

import copy
import os

import streamlit as st

from mnist_dash import teacher
from mnist_dash.data import (
    Mnist,
    MnistDataError,
    MnistFileNotFound,
    MnistNotNpz,
    MnistUnavailable,
    load_mnist,
)
from mnist_dash.jobs import JobQueue, JobRefused, Limits, LimitsError, TrainingJob, default_queue
from mnist_dash.jobs.reuse import ReusedRun
from mnist_dash.jobs.runners import app_runner
from mnist_dash.owners import Owner
from mnist_dash.presets import DEFAULT_PRESET, NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import DamagedRunError, DatabaseError, RunNotFound, RunStore
from mnist_dash.share import has_spec, layer_rows, read_link
from mnist_dash.spec import ModelSpec, field_label
from mnist_dash.text import excerpt, md
from mnist_dash.ui import owner as owner_ui

DESIGN_KEY = "design"  # the design being edited, in its JSON form (may be invalid)
JOB_KEY = "train_job"
REFUSED_KEY = "start_refused"  # why the last press of a Train button started nothing
NOTICE_KEY = "design_notice"  # what in the page's link could not be used


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

    Raises DatabaseError when it cannot be opened (not cached: the next page run tries again).
    """
    return RunStore()


def explain_store_problem() -> bool:
    """When the run store cannot be opened, say why and how to fix it (no raw exception); True if it can."""
    try:
        store()
        return True
    except DatabaseError as error:
        st.error(f"**The run store cannot be opened.** {md(str(error))}", icon=":material/database:")
        st.caption("Fix it and reload this page; nothing stored is lost by this.")
        return False


def queue() -> JobQueue:
    return default_queue()


@st.cache_resource
def _drafts() -> dict[str, dict]:
    """Each owner's design being edited, so a reload or a new tab finds it (process-wide, small)."""
    return {}


def owner() -> Owner:
    """Who this page belongs to; their pages being drawn keeps their queued jobs in line."""
    me = owner_ui.current()
    queue().seen(me.key)
    return me


def warm_up_training() -> None:
    """Have a training worker ready (a process that has loaded Keras), so the first Start is quick.

    Called at the end of the Design and Train pages. The worker imports TensorFlow in its
    own process, so this process (and every page it draws) never waits for it; Home
    appears without it.
    """
    if app_runner() != "process":
        return  # jobs train on a Ray cluster: nothing to start here
    from mnist_dash.jobs import workers

    workers.prestart(slots=queue().slots)


def init_design() -> None:
    """Give the session a design: from the link if it has one, else the owner's last one, else the default.

    A link's good fields are kept and its problems kept for `show_link_notice`, whichever page it opens.
    """
    if DESIGN_KEY in st.session_state:
        return
    query = st.query_params.to_dict()
    draft = _drafts().get(owner().key)
    spec = PRESETS[DEFAULT_PRESET]
    if has_spec(query):
        spec, problems = read_link(query, base=spec, caps=limits())
        if problems:
            st.session_state[NOTICE_KEY] = [f"{field_label(p.field)}: {p.message}" for p in problems]
    elif draft is not None:
        st.session_state[DESIGN_KEY] = copy.deepcopy(draft)  # this tab's own, from now on
        st.session_state["design_version"] = st.session_state.get("design_version", 0) + 1
        return
    set_design(spec)


def show_link_notice() -> None:
    """What in the page's link could not be used (the rest of its design was), once, on any page."""
    if problems := st.session_state.pop(NOTICE_KEY, None):
        lines = "\n".join(f"- {md(problem)}" for problem in problems)
        st.warning(
            f"**Parts of the link's design could not be used**; the rest of it is loaded:\n{lines}",
            icon=":material/link:",
        )


def set_design(spec: ModelSpec) -> None:
    """Replace the design being edited (a preset, an upload, a link)."""
    st.session_state[DESIGN_KEY] = spec.to_dict() | {"layers": layer_rows(spec)}
    # New widget keys make the Design page's table start afresh from these rows.
    st.session_state["design_version"] = st.session_state.get("design_version", 0) + 1
    keep_draft()


def keep_draft() -> None:
    """Remember the session's design as the owner's, for their next reload or tab."""
    if DESIGN_KEY in st.session_state:
        _drafts()[owner().key] = st.session_state[DESIGN_KEY]


def design() -> dict:
    return st.session_state[DESIGN_KEY]


def limits() -> Limits:
    """The server's limits (environment variables, or root-level secrets, which Streamlit exports as such).

    With the teacher's rules on top (mnist_dash.teacher.ClassRules): caps changed for this class, and a lock.
    """
    try:
        host = Limits.from_env()
    except LimitsError as error:
        st.error(f"**A limit setting is wrong, so the defaults apply.** {md(str(error))}", icon=":material/tune:")
        host = Limits()
    return teacher.rules_from(class_setting(teacher.RULES_SETTING)).apply(host)  # the teacher's, on top


@st.cache_data(ttl=2, show_spinner=False)  # read by every input of every page: from the store every 2 s at most
def class_setting(key: str) -> str | None:
    """A class setting the teacher keeps in the store (mnist_dash.teacher); `class_setting.clear()` after a change."""
    return store().setting(key)


def locked(field: str) -> bool:
    """Whether the teacher's lock holds this design setting ("layers" for the table): shown disabled."""
    rules = limits()
    if rules.lock == "presets":
        return field not in ("name", "epochs", "seed", "validation")
    return rules.lock == "fixed" and field in dict(rules.fixed)


def apply_locks() -> None:
    """Give the design the values the teacher fixed (the inputs then show them, disabled)."""
    fixed = dict(limits().fixed)
    design = st.session_state[DESIGN_KEY]
    if any(design.get(key) != value for key, value in fixed.items()):
        design.update(fixed)
        st.session_state["design_version"] = st.session_state.get("design_version", 0) + 1


def current_job() -> TrainingJob | ReusedRun | None:
    """This session's job; after a reload or in a new tab, the owner's latest (a running one first)."""
    job = st.session_state.get(JOB_KEY)
    if job is not None and not job.done:
        return job
    mine = queue().jobs_of(owner().key)
    active = next((other for other in mine if not other.done), None)
    if active is not None or job is None:
        job = active or (mine[0] if mine else None)
        if job is not None:
            st.session_state[JOB_KEY] = job
    return job


def job_active() -> bool:
    """Whether this session's training job is queued or running."""
    job = current_job()
    return job is not None and not job.done


def start_blockers(spec: ModelSpec | None, count: int = 1) -> list[str]:
    """Why this owner may not start `count` more jobs of `spec` now (the rule `start` applies); empty if they may."""
    me = owner()
    return queue().refusals(spec, me.key, limits(), stored_runs=store().count_owned(me.key), count=count)


def start(spec: ModelSpec, data: Mnist) -> TrainingJob | None:
    """Start training `spec` for this owner, or None with the reasons kept for `show_refusal`."""
    job = TrainingJob(spec, data, store=store(), runner=app_runner(), owner=owner(), limits=limits())
    try:
        job.start()
    except JobRefused as refused:
        st.session_state[REFUSED_KEY] = refused.reasons
        return None
    st.session_state.pop(REFUSED_KEY, None)
    return job


def start_job(spec: ModelSpec, data: Mnist) -> TrainingJob | None:
    """Start training `spec` as this session's job; it outlives reruns, page switches and reloads."""
    job = start(spec, data)
    if job is not None:
        st.session_state[JOB_KEY] = job
    return job


def show_refusal() -> None:
    """Say why the last Train button pressed started nothing (a limit reached between drawing and pressing)."""
    for reason in st.session_state.pop(REFUSED_KEY, []):
        st.warning(md(reason), icon=":material/block:")


def finished_twin(spec: ModelSpec | None, data: Mnist | None):
    """The stored finished run of this exact design, seed and data, if any (the result cache)."""
    if spec is None or data is None:
        return None
    return store().find_same(spec, data)


def reuse_run(info) -> ReusedRun | None:
    """Make a stored run this session's current one, as if it had just trained; None (said why) if it is damaged."""
    try:
        job = ReusedRun.from_store(store(), info)
    except (DamagedRunError, RunNotFound) as error:
        st.error(f"That run cannot be used: {md(str(error))}. Press Start to train the design again.")
        return None
    st.session_state[JOB_KEY] = job
    return job


def _reused(spec: ModelSpec, twin) -> ReusedRun | ModelSpec:
    """The stored twin as a finished job; the spec itself (to train) when there is none or it is damaged."""
    try:
        return ReusedRun.from_store(store(), twin) if twin else spec
    except (DamagedRunError, RunNotFound):
        return spec


EXPERIMENT_KEY = "compare_jobs"


def experiment_jobs() -> list[TrainingJob | ReusedRun]:
    """The experiment's jobs started so far (see `advance_experiment` for the ones still to start)."""
    return [job for job in st.session_state.get(EXPERIMENT_KEY, []) if not isinstance(job, ModelSpec)]


def experiment_waiting() -> list[ModelSpec]:
    """The experiment's presets not started yet: the owner's job limit lets them in one by one."""
    return [item for item in st.session_state.get(EXPERIMENT_KEY, []) if isinstance(item, ModelSpec)]


def experiment_active() -> bool:
    """Whether an experiment job is queued or running, or a preset still waits to start."""
    return any(not job.done for job in experiment_jobs()) or bool(experiment_waiting())


def _experiment(epochs: int, data: Mnist) -> list[tuple[ModelSpec, object]]:
    """The notebook's presets for `epochs`, each with its finished twin in the store (or None)."""
    specs = [PRESETS[name].replace(epochs=epochs) for name in NOTEBOOK_PRESETS]
    return list(zip(specs, store().find_each(specs, data), strict=True))


def experiment_needs(epochs: int, data: Mnist | None) -> int:
    """How many of the notebook's presets the experiment would train (the others are in the store)."""
    return len(NOTEBOOK_PRESETS) if data is None else sum(twin is None for _, twin in _experiment(epochs, data))


def start_experiment(epochs: int, data: Mnist) -> None:
    """The notebook's three presets: stored ones taken from the store, the others queued as the limits allow.

    After the first student, the experiment is near-instant for a class. What the owner's
    job limit does not let in now waits in the session and starts as their jobs end.
    """
    items = [_reused(spec, twin) for spec, twin in _experiment(epochs, data)]
    st.session_state[EXPERIMENT_KEY] = items
    advance_experiment(data)


def advance_experiment(data: Mnist) -> None:
    """Start the experiment's waiting presets while the owner's limit allows (called on each redraw)."""
    items = st.session_state.get(EXPERIMENT_KEY, [])
    for index, item in enumerate(items):
        if isinstance(item, ModelSpec) and not start_blockers(item):
            job = start(item, data)
            if job is None:
                break
            items[index] = job
