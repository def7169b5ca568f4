"""Plotly figures for Draw's "why this answer": the saliency map, the layers' activity, units' images.

No Streamlit. Images are drawn as heatmaps with row 0 at the top, as the eye reads them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_dash.plots import FONT_SIZE, VALIDATION_COLOUR
from mnist_dash.predict import LayerActivity
from mnist_dash.text import plotly

# Blue where more ink would lower the digit's probability, red where it would raise it, and
# see-through in between, so the drawing shows under the map.
SALIENCY_SCALE = [[0.0, "rgba(33,102,172,0.95)"], [0.5, "rgba(255,255,255,0)"], [1.0, "rgba(178,24,43,0.95)"]]
WEIGHT_SCALE = "RdBu_r"  # a unit's weights: red excites, blue inhibits, white is zero


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
                hovertemplate=f"row %{{y}}, column %{{x}}: more ink here %{{customdata}} p({digit})<extra></extra>",
                customdata=np.where(saliency >= 0, "raises", "lowers"),
            ),
        ]
    )
    _image_axes(figure)
    figure.update_layout(height=220, width=220, margin={"l": 0, "r": 0, "t": 0, "b": 0}, font_size=FONT_SIZE - 2)
    return figure


def layer_activity(layers: tuple[LayerActivity, ...]) -> go.Figure:
    """One compact bar chart per hidden layer: each unit's output for this drawing, in unit order."""
    titles = [
        plotly(f"{layer.name}: {int((layer.values > 0).sum())} of {layer.values.size} units above 0")
        for layer in layers
    ]
    figure = make_subplots(rows=len(layers), cols=1, subplot_titles=titles, vertical_spacing=0.5 / max(len(layers), 1))
    for row, layer in enumerate(layers, start=1):
        figure.add_trace(
            go.Bar(
                x=np.arange(layer.values.size),
                y=layer.values.astype(float),
                marker_color=np.where(layer.values > 0, VALIDATION_COLOUR, "#b0b7c3"),
                marker_line_width=0,
                hovertemplate=plotly(layer.name) + " unit %{x}: %{y:.2f}<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
    figure.update_xaxes(showticklabels=False, fixedrange=True)
    figure.update_yaxes(fixedrange=True, nticks=3)
    figure.update_annotations(font_size=FONT_SIZE - 3, x=0, xanchor="left")
    figure.update_layout(
        height=70 + 95 * len(layers), bargap=0, margin={"l": 40, "r": 10, "t": 30, "b": 10}, font_size=FONT_SIZE - 3
    )
    return figure


def unit_tiles(images: np.ndarray, labels: list[str], columns: int = 4) -> go.Figure:
    """Units' 28 x 28 weight images in a grid, one colour scale centred on zero shared by all."""
    rows = max(1, -(-len(images) // columns))
    reach = float(np.abs(images).max()) if len(images) else 1.0
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[plotly(label) for label in labels],
        horizontal_spacing=0.03,
        vertical_spacing=0.3 / rows,  # room for each row's titles
    )
    for index, image in enumerate(images):
        figure.add_trace(
            go.Heatmap(
                z=image,
                colorscale=WEIGHT_SCALE,
                zmin=-reach,
                zmax=reach,
                zmid=0,
                showscale=False,
                hovertemplate="weight %{z:.3f}<extra></extra>",
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    _image_axes(figure)
    figure.update_annotations(font_size=FONT_SIZE - 4)
    figure.update_layout(height=30 + 130 * rows, margin={"l": 0, "r": 0, "t": 25, "b": 0})
    return figure
