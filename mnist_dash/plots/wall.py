"""The class's digits on the wall: every digit a 28 x 28 tile in a frame coloured by how many models it fooled.

Two heatmaps (the frames, on a colour scale with its bar; the ink, in greys) and an invisible
marker on each tile, which is what a click selects (`st.plotly_chart(on_select=...)`), with the
digit's words on hover. The frames' scale runs from pale grey through orange to dark red, its
lightness falling all the way: told apart without hue too.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_dash.plots.style import FONT_SIZE, INK

SIDE, FRAME, GAP = 28, 3, 8  # a digit, its coloured frame, the room between tiles (its label sits there)
TILE = SIDE + 2 * FRAME
WRONG_SCALE = [[0.0, "#ececec"], [0.34, "#E69F00"], [0.67, "#D55E00"], [1.0, "#4a1500"]]


def wall_figure(images: np.ndarray, labels: np.ndarray, wrong: np.ndarray, models: int, columns: int = 12):
    """The tiles in rows of `columns`, in the order given; `wrong[i]` of `models` read digit i wrongly."""
    count = len(images)
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    height, width = rows * (TILE + GAP), columns * (TILE + GAP)
    frames, ink = np.full((height, width), np.nan), np.full((height, width), np.nan)
    xs, ys, words, notes = [], [], [], []
    for index in range(count):
        top, left = (index // columns) * (TILE + GAP) + GAP, (index % columns) * (TILE + GAP)
        frames[top : top + TILE, left : left + TILE] = wrong[index]
        ink[top + FRAME : top + FRAME + SIDE, left + FRAME : left + FRAME + SIDE] = images[index] / 255.0
        xs.append(left + TILE / 2)
        ys.append(top + TILE / 2)
        words.append(f"a {int(labels[index])}: read wrongly by {int(wrong[index])} of {models}")
        notes.append({"x": left + TILE / 2, "y": top - 0.5, "text": str(int(labels[index])), "showarrow": False})
        notes[-1] |= {"yanchor": "bottom", "font": {"size": FONT_SIZE - 4, "color": INK}}
    bar = {"title": {"text": "models<br>wrong"}, "thickness": 16, "len": 1.0, "dtick": 1 if models <= 10 else None}
    data = [
        go.Heatmap(z=frames, zmin=0, zmax=max(models, 1), colorscale=WRONG_SCALE, colorbar=bar, hoverinfo="skip"),
        go.Heatmap(z=ink, zmin=0, zmax=1, colorscale="Greys", showscale=False, hoverinfo="skip"),
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            marker={"size": 24, "opacity": 0, "symbol": "square"},
            customdata=list(range(count)),
            hovertext=words,
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        ),
    ]
    # About 80 px a row of tiles on a laptop's page (12 tiles across): big enough to read a digit from the back.
    figure = go.Figure(data, {"annotations": notes, "height": max(200, 40 + 80 * rows), "dragmode": False})
    figure.update_xaxes(visible=False, range=[-1, width], constrain="domain")
    figure.update_yaxes(visible=False, range=[height, -1], scaleanchor="x")
    figure.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, plot_bgcolor="white", clickmode="event+select")
    return figure
