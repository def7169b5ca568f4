"""The Design page's picture of a network: its widths, input to output. No Streamlit."""

from __future__ import annotations

import plotly.graph_objects as go

from mnist_dash.plots.style import FONT_SIZE, PALETTE
from mnist_dash.spec import INPUT_SIZE, NUM_CLASSES, ModelSpec


def width_diagram(spec: ModelSpec) -> go.Figure:
    """The network's widths as centred bars, input to output: its shape at a glance."""
    names = ["input (28×28 pixels)", *[f"hidden {i}: {_layer_note(x)}" for i, x in enumerate(spec.layers, 1)]]
    names.append("output (softmax)")
    widths = [INPUT_SIZE, *[x.units for x in spec.layers], NUM_CLASSES]
    figure = go.Figure(
        go.Funnel(
            y=names,
            x=widths,
            text=[f"{w:,}" for w in widths],
            textinfo="text",
            textposition="auto",
            marker={"color": ["#6b6b6b", *[PALETTE[0]] * len(spec.layers), PALETTE[2]]},
            connector={"fillcolor": "#e8eef7"},
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        font_size=FONT_SIZE - 3,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=60 + 40 * len(names),
        showlegend=False,
    )
    figure.update_yaxes(automargin=True)
    return figure


def _layer_note(layer) -> str:
    note = layer.activation
    if layer.batch_norm != "none":
        note += f", BN {layer.batch_norm}"
    if layer.dropout:
        note += f", dropout {layer.dropout:g}"
    return note
