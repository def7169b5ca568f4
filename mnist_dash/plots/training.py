"""Training curves: one run's live curves (Train), several runs' overlaid (Compare). No Streamlit.

The same colour for a metric's train and validation curves (train dashed, as in the
Compare page's convention; validation solid). A user's text (a run's name) goes into a
figure through `text.plotly`, never as it is: Plotly reads HTML in names and titles.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from mnist_dash.plots.style import (
    FONT_SIZE,
    RUN_COLOURS,
    SYMBOLS,
    TITLE_TOP,
    TRAIN_COLOUR,
    VALIDATION_COLOUR,
    titled,
)
from mnist_dash.text import plotly

_LABELS = {"loss": "Cross-entropy loss", "accuracy": "Accuracy"}


def _layout(figure: go.Figure, title: str, y_title: str, revision: str) -> go.Figure:
    figure.update_layout(
        title=titled(title),
        xaxis_title="epoch",
        yaxis_title=y_title,
        font_size=FONT_SIZE,
        hovermode="x unified",
        legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top", "font_size": FONT_SIZE - 3},
        margin={"l": 60, "r": 20, "t": TITLE_TOP, "b": 40},
        # A constant uirevision keeps the user's zoom and legend clicks across live updates.
        uirevision=revision,
        height=465,
    )
    return figure


def training_curves(
    history, batch_history, metric: str = "loss", epochs: int | None = None, revision: str = "live"
) -> go.Figure:
    """Train and validation `metric` per epoch, plus the running per-batch value as a thin line.

    Args:
        history: per-epoch records with `epoch`, `<metric>` and `val_<metric>`.
        batch_history: per-batch points with a fractional `epoch` and `<metric>`.
        epochs: the planned number of epochs, to fix the x range while training.
        revision: the Plotly uirevision; keep it constant to keep zoom across updates.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[p["epoch"] for p in batch_history],
            y=[p[metric] for p in batch_history],
            name=f"train {metric} (during the epoch)",
            mode="lines",
            line={"color": TRAIN_COLOUR, "width": 1},
            opacity=0.45,
            hovertemplate="%{y:.4f}",
        )
    )
    for prefix, label, colour, dash in (
        ("", "train", TRAIN_COLOUR, "dash"),
        ("val_", "validation", VALIDATION_COLOUR, "solid"),
    ):
        figure.add_trace(
            go.Scatter(
                x=[h["epoch"] for h in history],
                y=[h[prefix + metric] for h in history],
                name=f"{label} {metric}",
                mode="lines+markers",
                line={"color": colour, "width": 3, "dash": dash},
                marker={"size": 8},
                hovertemplate="%{y:.4f}",
            )
        )
    _layout(figure, f"{_LABELS.get(metric, metric)} per epoch", metric, revision)
    if epochs:
        figure.update_xaxes(range=[0, epochs + 0.2], dtick=max(1, epochs // 10))
    if metric == "accuracy":
        figure.update_yaxes(tickformat=".1%")
    if not history:  # no epoch yet (nothing, or a few batch points): a fixed frame, not Plotly's -1..4 or 0..150%
        top = max([2.5, *(p[metric] for p in batch_history if math.isfinite(p[metric]))]) if metric != "accuracy" else 1
        figure.update_yaxes(range=[0, top])
    return figure


# Below the plot of compare_curves: tick labels and the axis title, then one legend row per run (px).
_AXIS_SPACE, _LEGEND_ROW = 70, 30


def compare_curves(named_histories: list[tuple[str, list[dict]]], metric: str = "loss") -> go.Figure:
    """Train (dashed) and validation (solid) `metric` per epoch for several runs, one colour and marker per run.

    One legend entry per run (clicking it hides both its curves), one per row, below the axis
    title: the figure grows by a row per run, so neither the legend nor the axis title covers the
    other however many runs there are. Its own title is the metric alone, whole in a phone's
    width. The names are plain text (a student's run names); they are escaped here for Plotly.
    """
    figure = go.Figure()
    for number, (name, history) in enumerate(named_histories):
        colour, symbol = RUN_COLOURS[number % len(RUN_COLOURS)], SYMBOLS[number % len(SYMBOLS)]
        epochs = [h["epoch"] for h in history]
        for prefix, label, dash in (("", "train", "dash"), ("val_", "validation", "solid")):
            figure.add_trace(
                go.Scatter(
                    x=epochs,
                    y=[h[prefix + metric] for h in history],
                    mode="lines+markers",
                    name=plotly(name),
                    legendgroup=f"run {number}",
                    showlegend=prefix == "val_",
                    line={"color": colour, "dash": dash, "width": 3},
                    marker={"size": 9, "symbol": symbol},  # a shape per run: told apart without colour too
                    # The name by reference: a run's name is text, never part of the template.
                    hovertemplate=f"%{{fullData.name}} · {label}: %{{y:.4f}}<extra></extra>",
                )
            )
    # A short title, whole on a phone; the page says which line is which (train dashed, validation solid).
    _layout(figure, _LABELS.get(metric, metric), metric, "compare")
    legend = _LEGEND_ROW * len(named_histories)
    figure.update_layout(
        legend={"orientation": "v", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        margin={"b": _AXIS_SPACE + legend},
        height=330 + TITLE_TOP + _AXIS_SPACE + legend,
    )
    longest = max((len(history) for _, history in named_histories), default=1)
    figure.update_xaxes(tick0=1, dtick=max(1, longest // 10))
    if metric == "accuracy":
        figure.update_yaxes(tickformat=".1%")
    return figure
