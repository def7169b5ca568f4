"""The Weights page's parts: the epoch slider and Play, the weight distributions, a job's weights as it trains."""

from __future__ import annotations

import math

import streamlit as st

from mnist_dash import descriptions
from mnist_dash.jobs import TrainingJob
from mnist_dash.plots.model import weight_violins
from mnist_dash.runs import RunInfo
from mnist_dash.text import md
from mnist_dash.ui import charts, resources, tables, units_view
from mnist_dash.weights import (
    KIND_LABELS,
    STAT_NAMES,
    WeightHistory,
    sample_range,
    stats_rows,
    violin_series,
    weight_kinds,
)

TICK_SECONDS = 0.8  # how long each epoch shows while playing


def toggle_play(run_id: str, last: int) -> None:
    """Play from the epoch shown (from 0 when it is the last), or pause where it is."""
    playing, slider = f"weights_play_{run_id}", f"weights_epoch_{run_id}"
    if st.session_state.pop(playing, None) is None:
        shown = st.session_state.get(slider, last)
        st.session_state[playing] = 0 if shown >= last else shown


@resources.outage_safe  # one function object for every run: the fragment's own
def epoch_view(source: RunInfo | TrainingJob, history: WeightHistory) -> None:
    """The slider, then at its epoch the violins and statistics, and the units' images (a tab each).

    One fragment: while playing it reruns each tick and moves the slider itself, so the
    slider, the charts and the table always show the same epoch.
    """
    run_id = source.run_id if isinstance(source, RunInfo) else source.job_id
    last = history.epochs - 1
    playing, slider = f"weights_play_{run_id}", f"weights_epoch_{run_id}"
    upcoming = st.session_state.get(playing)
    if upcoming is not None:
        if upcoming > last:  # played to the end: a full rerun stops the ticks and brings back Play
            del st.session_state[playing]
            st.rerun()
        st.session_state[slider] = upcoming
        st.session_state[playing] = upcoming + 1
    if last > 0:
        st.session_state.setdefault(slider, last)
        epoch = st.slider("Epoch (0 = the initial weights)", 0, last, key=slider, disabled=upcoming is not None)
    else:  # A run stopped in its first epoch has only the initial weights: nothing to slide through.
        epoch = 0
        st.caption("This run stopped before its first epoch ended: these are its initial weights.")
    # Tabs under the one slider (and Play): both views follow it without a second slider far down the page.
    # Only the open tab is built ("rerun" on a change of tab): the unit grids cost a redraw four times the
    # violins', and a student on the distributions never sees them.
    distributions, units = st.tabs(["Distributions", "What each unit looks for"], key="weights_tab", on_change="rerun")
    if distributions.open:
        with distributions:
            distributions_view(run_id, history, epoch)
    if units.open:
        with units:
            units_view.section(history, epoch, source)


def distributions_view(run_id: str, history: WeightHistory, epoch: int) -> None:
    """The violins of one kind of weight at `epoch`, and every weight's statistics."""
    kinds = weight_kinds(history)
    if st.session_state.get("weights_kind") not in kinds:  # e.g. gamma chosen, then a run without batch norm
        st.session_state.pop("weights_kind", None)
    kind = st.segmented_control(
        "Weights shown", kinds, default="kernel", required=True, format_func=KIND_LABELS.get, key="weights_kind"
    )
    names = (kind,)
    series = violin_series(history, epoch, names)
    figure = weight_violins(series, epoch, kind, sample_range(history, names), revision=f"{run_id}/{kind}")
    words = descriptions.violins(series, violin_series(history, 0, names), epoch)
    charts.chart(figure, key="weights_violins", alt=words)
    st.subheader(f"Statistics at epoch {epoch}, over every weight")
    # Narrow enough for every column to show on a projector's 1024 px beside the sidebar: the layer and
    # its weight in one column, three decimals.
    columns = {name: st.column_config.NumberColumn(format="%.3f") for name in STAT_NAMES}
    columns |= {
        "weight": st.column_config.TextColumn(pinned=True),  # named while a phone scrolls the table sideways
        "near_zero": st.column_config.TextColumn("near 0"),
        "change": st.column_config.TextColumn(),
        "count": st.column_config.NumberColumn(format="localized"),
    }
    rows = stats_rows(history, epoch)  # every row shown: "content" sizes the table to them, no inner scrolling
    table = [{"weight": f"{row.pop('layer')} {row.pop('weight')}"} | row | _shares(row) for row in rows]
    with tables.table_area("weights_table", table):
        st.dataframe(table, hide_index=True, width="stretch", height="content", column_config=columns)
    st.caption(
        "near 0: share of weights with |w| < 0.01. change: ‖W − W₀‖ / ‖W₀‖, how far the layer moved "
        "from its initial weights (– for biases and beta, which start at zero)."
    )


def _shares(row: dict) -> dict:
    """The table's two shares as text with one decimal ("12.3%"), and "–" where there is none: Streamlit
    wrote a missing number as "None" and its percent format mixed "14.29%" with "21%"."""
    return {
        name: f"{row[name]:.1%}" if row[name] is not None and math.isfinite(row[name]) else "–"
        for name in ("near_zero", "change")
    }


def play_button(view_id: str, epochs: int) -> bool:
    """Play/Pause through the epochs of `view_id`; whether it is playing."""
    playing = f"weights_play_{view_id}" in st.session_state
    if epochs > 1:
        st.button(
            "Pause" if playing else "Play epochs",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            key="weights_play",
            on_click=toggle_play,
            args=(view_id, epochs - 1),
            help="Step the slider through every epoch; the chart and the table follow it.",
        )
    return playing


@resources.outage_safe  # one function object for every run: the fragment's own
def live_view(job) -> None:
    """This session's job while it trains: each epoch's snapshot joins as the epoch ends (the slider follows)."""
    if job.done:
        st.rerun()  # the whole page again: the job is a stored run now
    history = job.weight_history()
    slider, seen = f"weights_epoch_{job.job_id}", f"weights_live_last_{job.job_id}"
    if st.session_state.get(slider) == st.session_state.get(seen):  # on the newest epoch: stay on the newest
        st.session_state.pop(slider, None)
    st.session_state[seen] = history.epochs - 1
    st.caption(md(f"{job.spec.name or 'Your design'}: {job.snapshot().status_line}"))
    epoch_view(job, history)


@resources.outage_safe  # one function object for every run: the fragment's own
def until_it_trains(job) -> None:
    """This session's job is queued or starting: the page turns live when its first snapshot arrives."""
    if job.done or job.weight_history() is not None:
        st.rerun()
    st.caption(md(f"{job.spec.name or 'Your design'}: {job.snapshot().status_line}"))
