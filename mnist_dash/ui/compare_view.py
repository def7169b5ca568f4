"""The Compare page's parts: the notebook's experiment, the run picker, and the comparison of the chosen runs."""

from __future__ import annotations

import streamlit as st

from mnist_dash import descriptions
from mnist_dash.jobs.experiment import notebook_specs
from mnist_dash.observations import RunSummary, observe, summarise, table_row
from mnist_dash.plan import describe
from mnist_dash.plots.training import compare_curves
from mnist_dash.runs import RunInfo
from mnist_dash.text import md
from mnist_dash.ui import charts, resources, runs_view, state, tables

RUNS_KEY, ADDED_KEY = "compare_runs", "compare_added"  # the runs chosen; the experiment's runs added once each


def experiment_progress() -> tuple[bool, ...]:
    """Which of the experiment's jobs are still going, then one entry per preset still waiting (empty: idle)."""
    running = state.experiment()
    return running.progress() if running is not None else ()


def experiment_controls():
    """The experiment's box: its epochs and its button (disabled, with the reasons, while it may not start).

    Returns the container its jobs' status goes in (`experiment_status`, redrawn with the comparison).
    """
    with st.container(border=True):
        st.markdown("**The notebook's experiment**: train its three models one after another and compare them here.")
        controls = st.container(horizontal=True, vertical_alignment="bottom", key="compare_controls")
        status_area = st.container()
        limits = resources.limits()
        if limits.holds("epochs"):  # the teacher fixed them: the input says so and offers nothing else
            fixed = int(dict(limits.fixed)["epochs"])
            epochs = controls.number_input(
                "Epochs each",
                fixed,
                fixed,
                fixed,
                key="compare_epochs_fixed",
                width=160,
                disabled=True,
                help="set by your teacher",
            )
        else:
            cap = limits.max_epochs  # the server's cap holds here too
            epochs = controls.number_input("Epochs each", 1, cap, min(20, cap), key="compare_epochs", width=160)
        state.advance_experiment(resources.dataset())  # presets the owner's job limit held back start as jobs end
        busy = any(experiment_progress())
        needs = state.experiment_needs(int(epochs), resources.dataset())
        # Each model's own refusals (a teacher's lock or cap included), said at the press: the experiment
        # waited for ever for a model the lock would never let start.
        blockers = [] if busy or not needs else _experiment_blockers(int(epochs))
        if controls.button(
            "Run the notebook's experiment", type="primary", disabled=busy or bool(blockers), key="compare_start"
        ):
            state.start_experiment(int(epochs), resources.dataset())
            # The selection becomes the experiment's runs alone, each joining as it finishes.
            st.session_state[RUNS_KEY], st.session_state[ADDED_KEY] = [], []
            st.rerun()
        state.show_refusal()
        state.show_refusals(blockers)
    return status_area


def _experiment_blockers(epochs: int) -> list:
    """Why the experiment may not start now: its models' refusals, each said once."""
    said: dict[str, object] = {}
    for spec in notebook_specs(epochs):
        for refusal in state.start_blockers(spec):
            said.setdefault(str(refusal), refusal)
    return list(said.values())


def experiment_status(area) -> list:
    """Each experiment job's state in one line, in `area`; the jobs' snapshots (their runs join the choice)."""
    running = state.experiment()
    if running is None:
        return []
    snapshots = [job.snapshot() for job in running.jobs()]
    lines = [f"{snap.spec.name}: {snap.status_line}" for snap in snapshots]
    lines += [f"{spec.name}: waits for one of your jobs to end" for spec in running.waiting()]
    if lines:
        area.caption(md(" · ".join(lines)))
    return snapshots


def pick_runs(snapshots: list, busy: bool) -> list[RunInfo]:
    """The run picker (the owner's newest three by default, else nobody's: the shipped lesson's; the experiment's
    runs join as they finish)."""
    runs = {run.run_id: run for run in runs_view.stored_runs()}
    runs |= runs_view.still_stored(st.session_state.get(RUNS_KEY, []), runs)  # chosen, now past the newest
    added = st.session_state.setdefault(ADDED_KEY, [])
    fresh = [snap.run_id for snap in snapshots if snap.run_id in runs and snap.run_id not in added]
    if RUNS_KEY in st.session_state or fresh:  # deleted runs leave the selection
        st.session_state[RUNS_KEY] = [i for i in st.session_state.get(RUNS_KEY, []) if i in runs] + fresh
        added.extend(fresh)
    me = state.owner().key
    # To begin with: the owner's newest, or (nothing of theirs yet) the shipped lesson's, which are nobody's.
    mine = [i for i, run in runs.items() if run.owner == me] or [i for i, run in runs.items() if run.owner is None]
    default = None if RUNS_KEY in st.session_state else mine[:3]
    chosen_ids = st.multiselect(
        "Runs to compare",
        list(runs),
        default=default,
        key=RUNS_KEY,
        format_func=lambda run_id: runs_view.compare_label(runs[run_id]),  # whose, how far, how well; charts: short
    )
    if note := runs_view.offered_note(list(runs.values())):
        st.caption(note.removeprefix(" · ").capitalize())
    if not chosen_ids:
        waiting = "The experiment's runs join here as they finish."
        st.info(
            waiting if busy else "Choose runs to compare, or run the notebook's experiment above.",
            icon=":material/info:",
        )
    return [runs[run_id] for run_id in chosen_ids]


def summaries(chosen: list[RunInfo]) -> list[tuple[RunInfo, RunSummary]]:
    """Each chosen run with its summary for the observations; a damaged history is said, not drawn."""
    histories = {run.run_id: runs_view.load_or_explain(runs_view.epoch_history, run.run_id) for run in chosen}
    return [
        (
            run,
            summarise(
                runs_view.short_label(run),
                run.spec,
                histories[run.run_id],
                run.params_total,
                run.test_accuracy,
                run.status,
                run.data_fingerprint,
            ),
        )
        for run in chosen
        if histories[run.run_id] is not None
    ]


def curves(summarised: list[RunSummary]) -> None:
    named = [(summary.name, list(summary.history)) for summary in summarised]
    st.caption(
        "Dashed: training; solid: validation. One colour and marker shape per run: click its name to hide it. "
        "Look for a validation curve that turns up (loss) or flattens (accuracy) while training keeps improving: "
        "that run has started to memorise the training digits."
    )
    loss, accuracy = st.columns(2)
    for column, metric in ((loss, "loss"), (accuracy, "accuracy")):
        words = descriptions.compared(named, metric)
        rows = [
            {"run": name, "epoch": h["epoch"], f"train {metric}": h[metric], f"validation {metric}": h[f"val_{metric}"]}
            for name, history in named
            for h in history
        ]
        charts.chart(compare_curves(named, metric), key=f"compare_{metric}", alt=words, table=rows, where=column)
    heard = [(name, history) for name, history in named if len(history) > 1]
    if heard:
        names = [name for name, _ in heard]
        chosen = st.selectbox("Listen to", range(len(heard)), format_func=names.__getitem__, key="compare_listen")
        name, history = heard[chosen or 0]
        charts.listen(history, name)


def table(pairs: list[tuple[RunInfo, RunSummary]]) -> None:
    """The numbers side by side, then each design in words, then the written observations."""
    rows = [table_row(summary, describe(run.spec)) for run, summary in pairs]
    number = st.column_config.NumberColumn
    formats = {
        # Named while the numbers scroll sideways on a narrow page; a set width, not one guessed from the first rows.
        "run": st.column_config.TextColumn(pinned=True, width="medium"),
        "test accuracy": number(format="percent"),
        "parameters": number(format="localized"),
        "best val_loss": number(format="%.4f"),
        "gap at end": number(format="%+.4f"),
        "s / epoch": number(format="%.1f"),
    }
    # What the runs learned first: on a narrow page these show beside the pinned names, the rest scroll.
    order = ("run", "test accuracy", "best val_loss", "at epoch", "gap at end", "epochs", "parameters", "s / epoch")
    with tables.table_area("compare_table", [run.run_id for run, _ in pairs]):  # a missing value reads "—"
        st.dataframe(rows, hide_index=True, width="stretch", column_config=formats, column_order=order, placeholder="—")
    # Each design under the table, not in a column of it: that column was cut off even at 1366 px.
    st.markdown("  \n".join(f"**{md(row['run'])}**: {row['architecture']}" for row in rows))
    st.subheader("Observations")
    st.markdown(observe([summary for _, summary in pairs]).markdown())
