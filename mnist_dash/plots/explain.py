"""Plotly figures for Draw's "why this answer": the saliency map, the layers' activity, units' images.

No Streamlit. Images are drawn as heatmaps with row 0 at the top, as the eye reads them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_dash.plots.style import FONT_SIZE, VALIDATION_COLOUR, WEIGHT_SCALE
from mnist_dash.predict import LayerActivity
from mnist_dash.text import plotly

# Blue where more ink would lower the digit's probability, red where it would raise it, and
# see-through in between, so the drawing shows under the map.
SALIENCY_SCALE = [[0.0, "rgba(33,102,172,0.95)"], [0.5, "rgba(255,255,255,0)"], [1.0, "rgba(178,24,43,0.95)"]]
FIRES = [[0, "#b0b7c3"], [1, VALIDATION_COLOUR]]  # a unit's bar: grey at or below zero, blue above


def _image_axes(figure: go.Figure, **where) -> None:
    figure.update_xaxes(visible=False, constrain="domain", fixedrange=True, **where)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", fixedrange=True, **where)


def saliency_overlay(image: np.ndarray, saliency: np.ndarray, digit: int) -> go.Figure:
    """The 28 x 28 input in grey with `saliency` (d p(digit) / d pixel) over it, zero see-through."""
    reach = float(np.abs(saliency).max()) or 1.0
    figure = go.Figure(
        [
            go.Heatmap(z=image, colorscale="gray", zmin=0, zmax=255, showscale=False, hoverinfo="skip"),
            go.Heatmap(
                z=saliency / reach,  # -1..1: only the pattern matters, its size depends on the pixel scale
                colorscale=SALIENCY_SCALE,
                zmin=-1,
                zmax=1,
                showscale=False,
                # + raises p(digit), - lowers it; relative to the strongest pixel (±1)
                hovertemplate=f"row %{{y}}, column %{{x}}: %{{z:+.2f}} for {digit}<extra></extra>",
            ),
        ]
    )
    _image_axes(figure)
    figure.update_layout(height=220, width=220, margin={"l": 0, "r": 0, "t": 0, "b": 0}, font_size=FONT_SIZE - 2)
    return figure


def layer_activity(layers: tuple[LayerActivity, ...]) -> go.Figure:
    """One compact bar chart per hidden layer: each unit's output for this drawing, in unit order."""
    # Axes laid out by hand, in one layout: make_subplots took 60 ms a stroke, most of Draw's time.
    count, layout, data, titles = len(layers), {}, [], []
    for row, layer in enumerate(layers):
        axis = "" if row == 0 else str(row + 1)
        top = 1 - row / count
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "showticklabels": False, "fixedrange": True}
        layout[f"yaxis{axis}"] = {"anchor": f"x{axis}", "domain": [top - 0.62 / count, top - 0.2 / count]}
        layout[f"yaxis{axis}"] |= {"fixedrange": True, "nticks": 3}
        title = f"{layer.name}: {(layer.values > 0).sum()} of {layer.values.size} units above 0"
        titles.append({"text": plotly(title), "x": 0, "xref": "paper", "xanchor": "left"})
        titles[-1] |= {"y": top - 0.2 / count, "yref": "paper", "yanchor": "bottom", "showarrow": False}
        data.append(
            go.Bar(
                x=np.arange(layer.values.size),
                y=layer.values.astype(float),
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                # 0/1 through a two-colour scale: a list of 500 colour names took plotly 5 ms a layer to check.
                marker={"color": (layer.values > 0).astype(np.int8), "colorscale": FIRES, "cmin": 0, "cmax": 1},
                hovertemplate=plotly(layer.name) + " unit %{x}: %{y:.2f}<extra></extra>",
                showlegend=False,
            )
        )
    layout |= {"annotations": titles, "height": 40 + 110 * count, "bargap": 0, "font_size": FONT_SIZE - 3}
    return go.Figure(data, {**layout, "margin": {"l": 40, "r": 10, "t": 10, "b": 10}})


def unit_tiles(images: np.ndarray, labels: list[str], columns: int = 4) -> go.Figure:
    """Units' 28 x 28 weight images in a grid, one colour scale centred on zero shared by all.

    One heatmap of the tiles side by side (gaps left empty), not a subplot per unit: eight
    subplots took 45 ms to build, more than the whole explanation.
    """
    side, gap_x, gap_y = images.shape[1] if len(images) else 28, 3, 7  # gap_y leaves room for the labels
    rows = max(1, -(-len(images) // columns))
    mosaic = np.full((rows * (side + gap_y), columns * (side + gap_x)), np.nan)
    notes = []
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        top, left = (index // columns) * (side + gap_y) + gap_y, (index % columns) * (side + gap_x)
        mosaic[top : top + side, left : left + side] = image
        notes.append({"x": left + side / 2, "y": top - 0.5, "text": plotly(label), "showarrow": False})
        notes[-1] |= {"yanchor": "bottom", "font": {"size": FONT_SIZE - 4}}
    reach = float(np.nanmax(np.abs(images))) if len(images) else 1.0
    heatmap = go.Heatmap(
        z=mosaic,
        colorscale=WEIGHT_SCALE,
        zmin=-reach,
        zmax=reach,
        showscale=False,
        hoverongaps=False,
        hovertemplate="weight %{z:.3f}<extra></extra>",
    )
    figure = go.Figure(heatmap, {"annotations": notes, "height": 20 + 125 * rows})
    _image_axes(figure)
    figure.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0})
    return figure
