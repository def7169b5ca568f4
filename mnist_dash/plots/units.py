"""Plotly figures of what hidden units look for: their weights as 28 x 28 images, in grids. No Streamlit.

A grid is one heatmap (a mosaic of the images with gaps of zero between them), not a
subplot per image: 64 subplots made 128 axes for the browser to lay out on every slider
move, and one trace keeps the colour scale one and the same for every image by
construction. Its values travel as int8 levels of the colour scale (-127 for -limit, 127
for +limit): a quarter of float32's bytes, on every move of the epoch slider, and 255
colours are more than the eye tells apart.

Each view comes as two such figures, the first half of the units and the second, for
the page to set in two columns: side by side on a laptop (8 images across), one above
the other on a phone (4 across, each still about 78 px). A figure's height is fixed when it is
built, before anyone knows the screen; half a grid is about as wide on both, so its
images stay square without a band of white under them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_dash.plots.style import FONT_SIZE, INK, WEIGHT_SCALE
from mnist_dash.spec import IMAGE_SHAPE
from mnist_dash.text import plotly
from mnist_dash.units import Inputs, UnitGrid

SIDE = IMAGE_SHAPE[0]
GAP = 4  # image pixels between two images side by side
LABEL_BAND = 9  # image pixels above each image for its label
COLUMNS = 4  # images across in each half
# Screen pixels per image pixel the heights are made for: a half is about 430 px wide on a laptop (3.4 px
# per image pixel) and 358 px on a phone (2.8); where there is more, the images stay square with room at
# their sides. A deeper layer's rows of 5 beside their headers get 1.9 on a phone, 2.3 on a laptop.
PIXEL_PX = 2.8
INPUT_PIXEL_PX = 2.0
# Image pixels left of each row of a deeper layer's inputs, for the row's unit ("unit 171"). Inside the
# heatmap: Plotly leaves out an annotation placed outside its axes' ranges.
HEADER_BAND = 30
LABEL_FONT = 11
SCALE_PX = 58  # the colour bar under the second half
TOP_PX = 6
LEVELS = 127  # int8 levels each side of zero


def halves(count: int) -> tuple[slice, slice]:
    """The first and second half of `count` images (the first gets the odd one)."""
    middle = -(-count // 2)
    return slice(0, middle), slice(middle, count)


def mosaic(
    images: np.ndarray,
    labels: list[str],
    columns: int,
    limit: float,
    headers: list[str] | None = None,
    scale: bool = False,
    pixel_px: float = PIXEL_PX,
    toward: str = "center",
) -> go.Figure:
    """`images` (n, 28, 28) as one heatmap, `columns` across, each under its label (and each row beside
    its header when `headers` are given), on one colour scale from -limit to +limit centred on zero;
    the colour bar under them with `scale`. The gaps are zero: white, as a weight of zero. Where the
    figure is wider than its images, they keep to its `toward` side ("left", "right", "center")."""
    rows = max(1, -(-len(images) // columns))
    row_height, column_width = LABEL_BAND + SIDE, SIDE + GAP
    start = HEADER_BAND if headers else 0
    limit = limit or 1.0  # all zero (a layer that never moved from zeros): any scale draws it white
    z = np.zeros((rows * row_height, start + columns * column_width - GAP), np.int8)
    annotations = []
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        row, column = divmod(index, columns)
        top, left = row * row_height + LABEL_BAND, start + column * column_width
        z[top : top + SIDE, left : left + SIDE] = np.round(np.asarray(image) / limit * LEVELS)
        annotations.append(_note(label, left + SIDE / 2, top - 1, "center", "bottom"))
    for row, header in enumerate(headers or ()):
        annotations.append(
            _note(header, start - GAP, row * row_height + LABEL_BAND + SIDE / 2, "right", "middle", True)
        )
    ticks = np.linspace(-1, 1, 5)
    colour_bar = {
        "orientation": "h",
        "thickness": 10,
        "len": 0.7,
        "x": 0,  # from the images' left edge: the second half keeps to its left
        "xanchor": "left",
        "y": 0,
        "yanchor": "top",
        "ypad": 10,
        "title": {"text": "weight", "side": "right"},
        "tickvals": (ticks * LEVELS).tolist(),
        "ticktext": [f"{tick * limit:.2f}".replace("-", "−") for tick in ticks],
    }
    figure = go.Figure(
        go.Heatmap(
            z=z,
            colorscale=WEIGHT_SCALE,
            zmin=-LEVELS,
            zmax=LEVELS,
            showscale=scale,
            colorbar=colour_bar,
            hoverinfo="skip",  # a level, not a weight: the labels and the colour bar say the numbers
        )
    )
    height, width = z.shape
    figure.update_xaxes(
        visible=False, range=[-0.5, width - 0.5], constrain="domain", constraintoward=toward, fixedrange=True
    )
    figure.update_yaxes(
        visible=False,
        range=[height - 0.5, -0.5],  # row 0 on top
        scaleanchor="x",
        constrain="domain",
        constraintoward="top",
        fixedrange=True,
    )
    bottom = SCALE_PX if scale else 4
    figure.update_layout(
        annotations=annotations,
        font_size=FONT_SIZE - 4,
        height=round(TOP_PX + bottom + pixel_px * height),
        margin={"l": 4, "r": 4, "t": TOP_PX, "b": bottom},
    )
    return figure


def _note(text: str, x: float, y: float, xanchor: str, yanchor: str, bold: bool = False) -> dict:
    return {
        "text": f"<b>{plotly(text)}</b>" if bold else plotly(text),
        "x": x,
        "y": y,
        "xref": "x",
        "yref": "y",
        "xanchor": xanchor,
        "yanchor": yanchor,
        "showarrow": False,
        "font": {"size": LABEL_FONT, "color": INK},
    }


def unit_grid(grid: UnitGrid, epoch: int, count: int) -> list[go.Figure]:
    """The first `count` units of `grid` at `epoch`, in two halves, each image under "unit · change since epoch 0".

    The colour scale spans those units over every epoch (`UnitGrid.limit`), so moving through
    the epochs shows the images forming instead of each epoch rescaled to look the same.
    """
    changes = grid.changes(epoch)[:count]
    labels = [f"{unit} · {change:.1f}" for unit, change in zip(grid.ids[:count], changes, strict=True)]
    images, limit = grid.images[epoch, :count], grid.limit(count)
    first, second = halves(len(labels))
    # Side by side, the halves keep to the middle: one grid of 8 with a wider gap, not two far apart.
    return [
        mosaic(images[first], labels[first], COLUMNS, limit, toward="right"),
        mosaic(images[second], labels[second], COLUMNS, limit, scale=True, toward="left"),
    ]


def input_grid(layer: str, units: list[Inputs]) -> list[go.Figure]:
    """Each of `units` of `layer` (a row, headed by the unit) and its strongest inputs from the layer below,
    each labelled with its unit and the signed weight from it; in two halves, on one colour scale."""
    limit = max((float(np.abs(unit.images).max()) for unit in units), default=0.0)
    named = "digit {}" if layer == "output" else "unit {}"
    figures = []
    for part, scale, toward in zip(halves(len(units)), (False, True), ("right", "left"), strict=True):
        shown = units[part]
        images = np.concatenate([unit.images for unit in shown]) if shown else np.zeros((0, SIDE, SIDE))
        labels = [
            f"{source} {weight:+.2f}".replace("-", "−")  # a minus as wide as the plus
            for unit in shown
            for source, weight in zip(unit.inputs, unit.weights, strict=True)
        ]
        columns = max((len(unit.inputs) for unit in shown), default=1)
        headers = [named.format(unit.unit) for unit in shown]
        figures.append(mosaic(images, labels, columns, limit, headers, scale, INPUT_PIXEL_PX, toward))
    return figures
