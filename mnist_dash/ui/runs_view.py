"""Choosing a stored run, and the cached loads of what pages show about it."""

from __future__ import annotations

import contextlib
from datetime import datetime

import numpy as np
import streamlit as st

from mnist_dash.owners import may_act_for
from mnist_dash.plan import describe
from mnist_dash.predict import Network
from mnist_dash.runs import DamagedRunError, RunInfo, RunNotFound
from mnist_dash.runs.reading import CHOICES
from mnist_dash.text import count, md
from mnist_dash.ui import resources, state
from mnist_dash.ui import teacher as teacher_ui
from mnist_dash.weights import WeightHistory


def label(run: RunInfo) -> str:
    """A run as a picker shows it, short enough for a phone: "notebook-2-hidden · test 97.51% · 27 Nov 07:23".

    A stopped run says so instead of an accuracy ("stopped after 1 of 3 epochs"); the rest is in `details`.
    """
    done = f"test {run.test_accuracy:.2%}" if run.test_accuracy is not None else ""
    if run.status == "stopped":
        done = f"stopped after {run.epochs_run} of {count(run.spec.epochs, 'epoch')}"
    when = datetime.fromisoformat(run.created).strftime("%-d %b %H:%M")
    return " · ".join(part for part in (run.spec.name or "custom", done, when) if part)


def details(run: RunInfo) -> str:
    """What the picker's short label leaves out: the design, how far it trained, when (UTC)."""
    trained = count(run.epochs_run, "epoch")
    if run.status == "stopped":
        trained = f"stopped after {run.epochs_run} of {count(run.spec.epochs, 'epoch')}"
    return f"{describe(run.spec)} · {trained} · {run.created[:16].replace('T', ' ')} UTC"


def compare_label(run: RunInfo) -> str:
    """A run in Compare's picker: its short label with whose it is, how far it trained and how it scored, as
    "notebook-2-hidden (edited) (b746) · Ada · 5 epochs · test 97.51%" (options are text, never markdown)."""
    parts = [short_label(run), run.owner_name or "nobody's", count(run.epochs_run, "epoch")]
    if run.status == "stopped":
        parts[-1] = f"stopped after {run.epochs_run} of {count(run.spec.epochs, 'epoch')}"
    elif run.test_accuracy is not None:
        parts.append(f"test {run.test_accuracy:.2%}")
    return " · ".join(parts)


def short_label(run: RunInfo, accuracy: bool = False) -> str:
    """A run in a few words, whole even in a phone's picker: its name and the end of its id, as "tiny (40ce)".

    With `accuracy`, its test accuracy too, as "tiny (40ce) · test 91.92%" (when it has one).
    """
    name = f"{run.spec.name or 'custom'} ({run.run_id[-4:]})"
    return f"{name} · test {run.test_accuracy:.2%}" if accuracy and run.test_accuracy is not None else name


def stored_runs() -> list[RunInfo]:
    """The runs a page offers, newest first: the owner's and the class's newest (`RunStore.choices`).

    Damaged ones are reported on the page and left out; interrupted ones are shown with Dismiss.
    """
    listing = resources.store().choices(state.owner().key)
    for damaged in listing.damaged:
        st.warning(f"Skipped a damaged run, {md(damaged.run_id)}: {md(damaged.reason)}", icon=":material/warning:")
    me, teacher = state.owner(), teacher_ui.signed_in()
    for lost in listing.interrupted:
        if may_act_for(me, lost.owner, teacher=teacher):  # a classmate's lost run is theirs to read and dismiss
            _interrupted(lost)
    return listing.runs


def _interrupted(lost) -> None:
    name = (lost.spec.name or "a custom design") if lost.spec is not None else "a run"
    text, dismiss = st.columns([5, 1], vertical_alignment="center")
    when = lost.started[:16].replace("T", " ")
    if lost.phase == "saved":  # news, not a loss: the worker kept its epochs when the server went
        text.info(f"**The server restarted:** {md(name)}: {md(lost.reason)}.", icon=":material/restart_alt:")
    elif lost.phase == "queued":
        text.warning(
            f"**The server restarted:** {md(name)}, queued {when} UTC: {md(lost.reason)}.",
            icon=":material/restart_alt:",
        )
    else:
        text.warning(
            f"**Interrupted:** {md(name)}, started {when} UTC: {md(lost.reason)}. "
            "It was not saved; train it again to get it back.",
            icon=":material/power_off:",
        )
    if dismiss.button("Dismiss", key=f"dismiss_{lost.marker_id}"):
        resources.store().dismiss_interrupted(lost.marker_id)
        st.rerun()


def default_index(runs: list[RunInfo]) -> int:
    """Which run a page shows first: this session's job's run, else the owner's newest finished, else the newest."""
    job = state.current_job()
    current = job.snapshot().run_id if job is not None else None
    me = state.owner().key
    ids = [run.run_id for run in runs]
    if current in ids:
        return ids.index(current)
    return next((i for i, run in enumerate(runs) if run.owner == me and run.status == "finished"), 0)


def still_stored(run_ids: list[str], offered: dict[str, RunInfo]) -> dict[str, RunInfo]:
    """The runs of `run_ids` that a page no longer offers but the store still holds (a choice stays chosen)."""
    found = {}
    for run_id in run_ids:
        if run_id not in offered:
            with contextlib.suppress(RunNotFound, DamagedRunError):
                found[run_id] = resources.store().get(run_id)
    return found


def offered_note(runs: list[RunInfo]) -> str:
    """When the class has stored more runs than a picker offers, a few words saying which ones it offers."""
    total = resources.store().count()
    if total <= len(runs):
        return ""
    return f" · offered: your runs and the class's {CHOICES} newest, of {total:,} stored"


def pick_run(runs: list[RunInfo], key: str, label_text: str = "Run") -> RunInfo | None:
    """A select box of runs (see `default_index` for the first shown); None (with a hint) when there are none."""
    if not runs:
        st.info("No stored runs yet. Train one on the Train page and it will appear here.", icon=":material/info:")
        st.page_link("app_pages/train.py", label="Go to Train", icon=":material/monitoring:")
        return None
    run = st.selectbox(label_text, runs, index=default_index(runs), key=key, format_func=label)
    st.caption(details(run) + offered_note(runs))
    return run


def manage_own_runs(expanded: bool = False) -> None:
    """The owner's stored runs, to delete old ones (only their own: `owners.may_act_for`)."""
    me = state.owner()
    mine = resources.store().owned(me.key)
    limit = resources.limits().owner_runs
    with st.expander(f"Your stored runs ({len(mine)} of {limit})", expanded=expanded):
        if not mine:
            st.caption("You have no stored runs yet.")
            return
        doomed = st.multiselect("Runs to delete", mine, key="runs_delete_choice", format_func=label)
        if st.button("Delete", key="runs_delete", disabled=not doomed, type="primary" if expanded else "secondary"):
            for run in doomed:
                if may_act_for(me, run.owner):
                    resources.store().delete(run.run_id)
            st.session_state.pop("runs_delete_choice", None)
            st.rerun()
        st.caption("Deleted runs are gone for good: download what you want to keep first (Train page).")


@st.cache_data(max_entries=64, show_spinner=False)
def epoch_history(run_id: str) -> list[dict]:
    return resources.store().history(run_id)["epochs"]


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)  # released when idle for 30 min
def weight_history(run_id: str) -> WeightHistory:
    return resources.store().weights(run_id)


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)  # its weights: about 2 MB for the presets
def network(run_id: str) -> Network:
    """The run's network, computed in NumPy from its stored weights (no Keras in the server)."""
    return Network.of_run(resources.store(), run_id)


@st.cache_data(max_entries=8, show_spinner="Running the model on the 10,000 test images…")
def test_probabilities(run_id: str) -> np.ndarray:
    return network(run_id).probabilities(resources.dataset().x_test)


def load_or_explain(loader, run_id: str):
    """`loader(run_id)`, or None with the reason shown when the run's files are damaged."""
    try:
        return loader(run_id)
    except DamagedRunError as error:
        st.error(f"This run cannot be shown: {md(str(error))}", icon=":material/broken_image:")
        return None
