"""The sidebar every page shares: the current design and the state of this session's job."""

from __future__ import annotations

import streamlit as st

from mnist_dash.plan import count_params, describe
from mnist_dash.spec import SpecError, from_dict
from mnist_dash.ui import state


def _job_status() -> None:
    job = state.current_job()
    if job is None:
        st.markdown("**Training:** idle")
        return
    snap = job.snapshot()
    st.markdown(f"**Training:** {snap.status_line}")
    if snap.status == snap.status.RUNNING:
        st.progress(snap.progress)


def render() -> None:
    with st.sidebar:
        try:
            spec = from_dict(state.design())
            st.markdown(
                f"**Design:** {spec.name or 'custom'}  \n{describe(spec)}  \n{count_params(spec).total:,} parameters"
            )
        except SpecError as error:
            st.markdown(f"**Design:** has {len(error.problems)} problem(s) to fix")
        st.fragment(run_every=2.0 if state.job_active() else None)(_job_status)()
