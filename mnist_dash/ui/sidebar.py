"""The sidebar every page shares: who you are, the current design and the state of your job."""

from __future__ import annotations

import streamlit as st

from mnist_dash.plan import count_params, describe
from mnist_dash.spec import SpecError, from_dict
from mnist_dash.text import md
from mnist_dash.ui import owner as owner_ui
from mnist_dash.ui import resources, state


def _job_status() -> None:
    job = state.current_job()  # also tells the queue this owner's page is open (each tick)
    experiment = state.experiment()
    if state.experiment_active() and (job is None or job.done or job in experiment.jobs()):
        lines = [f"{md(j.spec.name)}: {md(j.snapshot().status_line)}" for j in experiment.jobs()]
        lines += [f"{md(spec.name)}: waiting" for spec in experiment.waiting()]
        st.markdown("**Experiment:**  \n" + "  \n".join(lines))
        return
    if job is None:
        st.markdown("**Training:** idle")
        return
    snap = job.snapshot()
    st.markdown(f"**{'Replay' if snap.replay else 'Training'}:** {md(snap.status_line)}")  # a replay trains nothing
    if snap.status == snap.status.RUNNING:
        st.progress(snap.progress)


def render() -> None:
    with st.sidebar:
        owner_ui.name_field(state.owner())
        try:
            spec = from_dict(state.design())
            params = count_params(spec).total
            st.markdown(f"**Design:** {md(spec.name or 'custom')}  \n{describe(spec)}  \n{params:,} parameters")
        except SpecError as error:
            st.markdown(f"**Design:** has {len(error.problems)} problem(s) to fix")
        # Ticking while any of the owner's jobs is queued or running (a challenge's seeds too, which are
        # no session's job): each tick keeps them in line while one of the owner's pages is open.
        busy = state.owner_busy() or state.experiment_active()
        st.fragment(run_every=3.0 if busy else None, key="sidebar_status")(resources.outage_safe(_job_status))()
