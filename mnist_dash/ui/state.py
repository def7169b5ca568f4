"""The session's owner, design and jobs (the process-wide resources they use are in `resources`)."""

from __future__ import annotations

import copy

import streamlit as st

from mnist_dash.data import Mnist
from mnist_dash.jobs import JobRefused, TrainingJob
from mnist_dash.jobs.admission import Refusal
from mnist_dash.jobs.cache import CachedRun
from mnist_dash.jobs.experiment import NotebookExperiment, still_to_train
from mnist_dash.jobs.replay import Replay
from mnist_dash.jobs.runners import app_runner
from mnist_dash.owners import Owner
from mnist_dash.presets import DEFAULT_PRESET, NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import DamagedRunError, RunNotFound
from mnist_dash.share import has_spec, layer_rows, read_link
from mnist_dash.spec import ModelSpec, field_label
from mnist_dash.text import md
from mnist_dash.ui import live, resources
from mnist_dash.ui import owner as owner_ui

DESIGN_KEY = "design"  # the design being edited, in its JSON form (may be invalid)
JOB_KEY = "train_job"
REFUSED_KEY = "start_refused"  # why the last press of a Train button started nothing
NOTICE_KEY = "design_notice"  # what in the page's link could not be used


@st.cache_resource
def _drafts() -> dict[str, dict]:
    """Each owner's design being edited, so a reload or a new tab finds it (process-wide, small)."""
    return {}


def owner() -> Owner:
    """Who this page belongs to; their pages being drawn keeps their queued jobs in line."""
    me = owner_ui.current()
    resources.queue().seen(me.key, me.name)
    return me


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
        spec, problems = read_link(query, base=spec, caps=resources.limits())
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


def apply_locks() -> None:
    """Give the design the values the teacher fixed (the inputs then show them, disabled)."""
    fixed = dict(resources.limits().fixed)
    design = st.session_state[DESIGN_KEY]
    if any(design.get(key) != value for key, value in fixed.items()):
        design.update(fixed)
        st.session_state["design_version"] = st.session_state.get("design_version", 0) + 1


def current_job() -> TrainingJob | CachedRun | Replay | None:
    """This session's job; after a reload or in a new tab, the owner's latest (a running one first).

    Every page and every fragment that shows a job asks here, so each of their redraws (a fragment's
    tick too) tells the queue that this owner's page is open: their queued jobs keep their place.
    """
    me = owner()
    job = st.session_state.get(JOB_KEY)
    if isinstance(job, TrainingJob) and job.owner.key != me.key:  # the name was changed: the new name's jobs
        st.session_state.pop(JOB_KEY)
        job = None
    if job is not None and not job.done:
        return job
    mine = resources.queue().jobs_of(me.key)
    active = next((other for other in mine if not other.done), None)
    if active is not None or job is None:
        job = active or (mine[0] if mine else None)
        if job is not None:
            st.session_state[JOB_KEY] = job
    return job


def owner_busy() -> bool:
    """Whether any of this owner's jobs is queued or running, whichever session started it."""
    return bool(resources.queue().active_of(owner().key))


def job_active() -> bool:
    """Whether this session's training job is queued or running."""
    job = current_job()
    return job is not None and not job.done


def start_blockers(spec: ModelSpec | None, count: int = 1) -> list[Refusal]:
    """Why this owner may not start `count` more jobs of `spec` now (the rule `start` applies); empty if they may."""
    me = owner()
    stored = resources.store().count_owned(me.key)
    return resources.queue().refusals(spec, me.key, resources.limits(), stored_runs=stored, count=count)


def start(spec: ModelSpec, data: Mnist) -> TrainingJob | None:
    """Start training `spec` for this owner, or None with the reasons kept for `show_refusal`."""
    job = TrainingJob(
        spec, data, store=resources.store(), runner=app_runner(), owner=owner(), limits=resources.limits()
    )
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


def show_refusals(refusals: list[Refusal], topic: str = "blockers") -> None:
    """Each reason a job may not start, as a warning (a student's own words in it stay text), and said aloud
    (`topic`: one per place on a page that shows refusals)."""
    for refusal in refusals:
        st.warning(md(refusal.text), icon=":material/block:")
    if refusals:
        live.announce("Not started: " + " ".join(refusal.text for refusal in refusals), topic)


def show_refusal() -> None:
    """Say why the last Train button pressed started nothing (a limit reached between drawing and pressing)."""
    show_refusals(st.session_state.pop(REFUSED_KEY, []), topic="refused")


def cached_run(spec: ModelSpec | None, data: Mnist | None):
    """The stored finished run of this exact design, seed and data, if any (the result cache)."""
    if spec is None or data is None:
        return None
    return resources.store().cached_run(spec, data)


def start_replay(info, speed: float | None) -> Replay | None:
    """Play a stored run back as this session's job (`jobs.replay`); None (said why) if it cannot be read."""
    try:
        job = Replay(info, resources.store().history(info.run_id), speed or 1)
    except (DamagedRunError, RunNotFound) as error:
        st.error(f"That run cannot be replayed: {md(str(error))}.")
        return None
    st.session_state[JOB_KEY] = job
    return job


def use_cached_run(info) -> CachedRun | None:
    """Make a stored run this session's current one, as if it had just trained; None (said why) if it is damaged."""
    try:
        job = CachedRun.from_store(resources.store(), info)
    except (DamagedRunError, RunNotFound) as error:
        st.error(f"That run cannot be used: {md(str(error))}. Press Start to train the design again.")
        return None
    st.session_state[JOB_KEY] = job
    return job


EXPERIMENT_KEY = "compare_experiment"


def experiment() -> NotebookExperiment | None:
    """This session's run of the notebook's experiment (Compare), if it started one."""
    return st.session_state.get(EXPERIMENT_KEY)


def experiment_active() -> bool:
    """Whether an experiment job is queued or running, or a preset still waits to start."""
    running = experiment()
    return running is not None and running.active


def experiment_needs(epochs: int, data: Mnist | None) -> int:
    """How many of the notebook's presets the experiment would train (the others are in the store)."""
    return len(NOTEBOOK_PRESETS) if data is None else still_to_train(epochs, resources.store(), data)


def start_experiment(epochs: int, data: Mnist) -> None:
    """The notebook's three presets: stored ones taken from the store, the others queued as the limits allow."""
    st.session_state[EXPERIMENT_KEY] = NotebookExperiment(epochs, resources.store(), data)
    advance_experiment(data)


def advance_experiment(data: Mnist) -> None:
    """Start the experiment's waiting presets while the owner's limit allows (called on each redraw)."""
    if (running := experiment()) is not None:
        running.advance(lambda spec: not start_blockers(spec), lambda spec: start(spec, data))
