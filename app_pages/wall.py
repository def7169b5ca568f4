"""Digits wall: every digit of the class's handwriting, framed by how many students' best models it fooled."""

import streamlit as st

from mnist_dash.classroom.wall import describe, order, read_wall
from mnist_dash.data import enlarge
from mnist_dash.plots.wall import wall_figure
from mnist_dash.text import md
from mnist_dash.ui import board_view, charts, resources
from mnist_dash.ui import teacher as teacher_ui

if not teacher_ui.signed_in():
    st.info("The digits wall is the teacher's: sign in on the Teacher page.", icon=":material/school:")
    st.stop()

st.title("The class's digits on the wall")
digits = resources.store().digits.all()
models = {}
for row in board_view.read().rows:  # one model per student: their best on the board
    found = board_view.answers(row.run_id, digits)
    if found is not None:
        models[f"{row.owner}: {row.name or 'design'}"] = found
wall = read_wall(digits.ids, digits.y, models)
st.markdown(md(describe(wall)))
if not len(digits) or not models:
    st.stop()
hardest = st.segmented_control("Order", ("Hardest first", "As drawn"), default="Hardest first", key="wall_order")
shown = order(wall, hardest_first=hardest != "As drawn")
figure = wall_figure(digits.x[shown], wall.labels[shown], wall.wrong[shown], len(wall.models))
table = [
    {"digit": f"#{int(wall.ids[i])}", "label": int(wall.labels[i]), "models wrong": int(wall.wrong[i])} for i in shown
]
clicked = charts.chart(
    figure,
    key="wall_chart",
    alt=describe(wall),
    table=table,
    where=st.container(key="wall_board"),
    theme=None,
    on_select="rerun",
    selection_mode="points",
)
st.caption("Each frame: how many of the students' best models read that digit wrongly (pale: none; dark red: all).")
points = (clicked or {}).get("selection", {}).get("points", [])
if points and "customdata" in points[0]:  # a click on the wall chooses the digit below it
    st.session_state["wall_pick"] = int(shown[int(points[0]["customdata"])])
chosen = st.selectbox(
    "The digit to look at (click one on the wall, or choose here)",
    [int(i) for i in shown],
    format_func=lambda i: f"#{int(wall.ids[i])}: a {int(wall.labels[i])}, wrong for {int(wall.wrong[i])}",
    key="wall_pick",
)
left, right = st.columns([1, 3])
label = int(wall.labels[chosen])
left.image(
    enlarge(digits.x[chosen], 6),
    caption=f"handwritten digit {label}",
    alt=f"handwritten digit {label}, read wrongly by {int(wall.wrong[chosen])} of {len(wall.models)} models",
)
right.dataframe(
    [{"model": model, "answer": answer, "right": ok} for model, answer, ok in wall.answered(chosen)],
    hide_index=True,
    key="wall_answers",
)
