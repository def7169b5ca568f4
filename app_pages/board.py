"""Class board: each student's best run, every run of the class by size and accuracy, and "try this one"."""

import streamlit as st

from mnist_dash import descriptions
from mnist_dash.classroom.board import COLUMNS, board_csv
from mnist_dash.plan import describe
from mnist_dash.plots.board import board_scatter
from mnist_dash.text import md
from mnist_dash.ui import board_view, charts, resources, state, tables

REFRESH_S = 5  # seconds between redraws while the class trains: one indexed read when nothing changed

st.title("Class board")
st.caption(
    "Each student's best stored run, and every finished run of the class by size and test accuracy. "
    "It updates by itself while the class trains."
)


@st.fragment(run_every=REFRESH_S)
@resources.outage_safe
def board() -> None:
    now = board_view.read()
    challenge, runs, rows = now.challenge, now.runs, now.rows
    if challenge is not None:
        st.info(f"**Challenge:** {challenge.describe()}. Only runs inside it are ranked.", icon=":material/flag:")
    me = state.owner().key
    if waiting := board_view.waiting_entries(now):
        st.caption(md(waiting))
    if not rows:
        st.info(board_view.nothing_ranked(now), icon=":material/info:")
        if runs:  # the class's runs are there: the scatter shows them, the budget drawn
            figure = board_scatter(runs, me, budget=challenge.max_params if challenge else None)
            words, table = descriptions.board(runs, me), descriptions.board_rows(runs, me)
            charts.chart(figure, key="board_scatter", alt=words, table=table, theme=None)
        return
    table = [
        {
            "owner": row.owner + (" (you)" if row.owner_key == me else ""),
            "design": row.design,
            "params": row.params,
            "epochs": row.epochs,
            "test_accuracy": row.test_accuracy * 100,
            "gap": None if row.gap is None else row.gap * 100,
            "seconds_per_epoch": row.seconds_per_epoch,
            "class_accuracy": None if row.class_accuracy is None else row.class_accuracy * 100,
            "run_id": row.run_id,
        }
        for row in rows
    ]
    titles = dict(COLUMNS)
    tables.table_area("board", *(row["run_id"] for row in table)).dataframe(  # clear of its toolbar on a phone
        table,
        hide_index=True,
        key="board_table",
        # The design last: the longest column, it may run past a projector's edge without hiding a number.
        column_order=[
            name
            for name in ("owner", "test_accuracy", "class_accuracy", "params", "epochs", "gap", "seconds_per_epoch")
            if name != "class_accuracy" or any(row.class_accuracy is not None for row in rows)  # once the class drew
        ]
        + ["design"],
        column_config={
            "owner": st.column_config.TextColumn(titles["owner"], pinned=True),
            "design": st.column_config.TextColumn(titles["design"]),
            "params": st.column_config.NumberColumn(titles["params"], format="localized"),
            "epochs": st.column_config.NumberColumn(titles["epochs"]),
            "test_accuracy": st.column_config.NumberColumn(titles["test_accuracy"], format="%.2f%%"),
            "gap": st.column_config.NumberColumn(
                titles["gap"], format="%.2f pts", help="last epoch's training accuracy minus validation accuracy"
            ),
            "seconds_per_epoch": st.column_config.NumberColumn(titles["seconds_per_epoch"], format="%.1f s"),
            "class_accuracy": st.column_config.NumberColumn(
                titles["class_accuracy"], format="%.2f%%", help="on the digits the class drew (Draw adds them)"
            ),
            "run_id": None,
        },
    )
    st.download_button("Board (CSV)", board_csv(rows), file_name="class-board.csv", key="board_csv")
    figure = board_scatter(runs, me, budget=challenge.max_params if challenge else None)
    words, table = descriptions.board(runs, me), descriptions.board_rows(runs, me)
    chosen = charts.chart(
        figure, key="board_scatter", alt=words, table=table, on_select="rerun", selection_mode="points", theme=None
    )
    st.caption(
        "Each dot is one run; the dotted staircase is the best accuracy reached at each size so far, ringed dots "
        "are yours. A dot above and left of the staircase would be a new best for its size. Click a dot to see it."
    )
    picked = [point.get("customdata") for point in (chosen.selection.points if chosen else [])]
    picked = [run for run in runs if run.run_id in picked]
    if picked:
        run = picked[0]
        with st.container(border=True, key="board_picked"):
            st.markdown(
                f"**{md(run.spec.name or 'custom')}** by {md(run.owner_name or 'someone')}: {describe(run.spec)}, "
                f"{run.params_total:,} parameters, {run.epochs_run} epochs, test accuracy {run.test_accuracy:.2%}"
            )
            if st.button("Try this one", key="board_try", type="primary"):
                state.set_design(run.spec)
                st.switch_page("app_pages/design.py")


board()
