"""Compare: runs side by side, their curves overlaid, and what the numbers say about over- and underfitting."""

import streamlit as st

from mnist_dash.observations import observe, summarise, table_row
from mnist_dash.plan import describe
from mnist_dash.plots import compare_curves
from mnist_dash.text import md
from mnist_dash.ui import runs_view, state, tables


def experiment_progress() -> tuple[bool, ...]:
    """Which of the experiment's jobs are still going, then one entry per preset still waiting (empty: idle)."""
    return tuple(not job.done for job in state.experiment_jobs()) + (True,) * len(state.experiment_waiting())


st.title("Compare runs")
with st.container(border=True):
    st.markdown("**The notebook's experiment**: train its three models one after another and compare them here.")
    controls = st.container(horizontal=True, vertical_alignment="bottom", key="compare_controls")
    status_area = st.container()  # the experiment's jobs, said by the view below
    cap = state.limits().max_epochs  # the server's cap holds here too
    epochs = controls.number_input("Epochs each", 1, cap, min(20, cap), key="compare_epochs", width=160)
    state.advance_experiment(state.dataset())  # presets the owner's job limit held back start as jobs end
    progress = experiment_progress()
    busy = any(progress)
    needs = state.experiment_needs(int(epochs), state.dataset())
    blockers = [] if busy or not needs else state.start_blockers(None)
    if controls.button(
        "Run the notebook's experiment", type="primary", disabled=busy or bool(blockers), key="compare_start"
    ):
        state.start_experiment(int(epochs), state.dataset())
        # The selection becomes the experiment's runs alone, each joining as it finishes.
        st.session_state["compare_runs"], st.session_state["compare_added"] = [], []
        st.rerun()
    state.show_refusal()
    for reason in blockers:
        st.warning(md(reason), icon=":material/block:")


@st.fragment(run_every=2.0 if busy else None, key="compare_view")
def comparison() -> None:
    if experiment_progress() != progress:
        st.rerun()  # the whole page: a waiting preset starts, the button comes back when all have ended
    snapshots = [job.snapshot() for job in state.experiment_jobs()]
    lines = [f"{snap.spec.name}: {snap.status_line}" for snap in snapshots]
    lines += [f"{spec.name}: waits for one of your jobs to end" for spec in state.experiment_waiting()]
    if lines:
        status_area.caption(md(" · ".join(lines)))
    runs = {run.run_id: run for run in runs_view.stored_runs()}
    runs |= runs_view.still_stored(st.session_state.get("compare_runs", []), runs)  # chosen, now past the newest
    # Runs of the experiment join the selection as they finish (once each, so they can be removed).
    added = st.session_state.setdefault("compare_added", [])
    fresh = [snap.run_id for snap in snapshots if snap.run_id in runs and snap.run_id not in added]
    if "compare_runs" in st.session_state or fresh:  # deleted runs leave the selection
        st.session_state["compare_runs"] = [i for i in st.session_state.get("compare_runs", []) if i in runs] + fresh
        added.extend(fresh)
    me = state.owner().key
    default = None if "compare_runs" in st.session_state else [i for i, run in runs.items() if run.owner == me][:3]
    chosen_ids = st.multiselect(
        "Runs to compare",
        list(runs),
        default=default,
        key="compare_runs",
        format_func=lambda run_id: runs_view.short_label(runs[run_id]),  # as the charts and the table name it
    )
    if note := runs_view.offered_note(list(runs.values())):
        st.caption(note.removeprefix(" · ").capitalize())
    chosen = [runs[run_id] for run_id in chosen_ids]
    if not chosen:
        waiting = "The experiment's runs join here as they finish."
        st.info(
            waiting if busy else "Choose runs to compare, or run the notebook's experiment above.",
            icon=":material/info:",
        )
        return
    histories = {run.run_id: runs_view.load_or_explain(runs_view.epoch_history, run.run_id) for run in chosen}
    chosen = [run for run in chosen if histories[run.run_id] is not None]  # a damaged history is said, not drawn
    if not chosen:
        return
    summaries = [
        summarise(
            runs_view.short_label(run),
            run.spec,
            histories[run.run_id],
            run.params_total,
            run.test_accuracy,
            run.status,
            run.data_fingerprint,
        )
        for run in chosen
    ]
    named = [(summary.name, list(summary.history)) for summary in summaries]
    st.caption(
        "Dashed: training; solid: validation. One colour per run: click its name to hide it. Look for a "
        "validation curve that turns up (loss) or flattens (accuracy) while training keeps improving: that run "
        "has started to memorise the training digits."
    )
    loss, accuracy = st.columns(2)
    loss.plotly_chart(compare_curves(named, "loss"), key="compare_loss")
    accuracy.plotly_chart(compare_curves(named, "accuracy"), key="compare_accuracy")
    rows = [table_row(summary, describe(run.spec)) for summary, run in zip(summaries, chosen, strict=True)]
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
    with tables.table_area("compare_table", chosen_ids):  # a missing value reads "—", not "None"
        st.dataframe(rows, hide_index=True, width="stretch", column_config=formats, column_order=order, placeholder="—")
    # Each design under the table, not in a column of it: that column was cut off even at 1366 px.
    st.markdown("  \n".join(f"**{md(row['run'])}**: {row['architecture']}" for row in rows))
    st.subheader("Observations")
    st.markdown(observe(summaries).markdown())


comparison()
