"""Plotly figures about one trained model: its weights, its confusions, its answers. No Streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_dash.evaluation import row_normalised
from mnist_dash.plots.style import (
    FONT_SIZE,
    PALETTE,
    SYMBOLS,
    TITLE_TOP,
    TRAIN_COLOUR,
    VALIDATION_COLOUR,
    titled,
    unchecked_figure,
)
from mnist_dash.spec import NUM_CLASSES
from mnist_dash.text import plotly
from mnist_dash.weights import KIND_LABELS


def _probability_layout(figure: go.Figure, x_title: str, height: int, **layout) -> go.Figure:
    figure.update_layout(
        xaxis={"title": x_title, "dtick": 1},
        yaxis={"title": "probability", "range": [0, 1.1], "tickformat": ".0%"},
        font_size=FONT_SIZE - 2,
        height=height,
        margin={"l": 60, "r": 10, "t": 10, "b": 40},
        **layout,
    )
    return figure


def _violins(series: list[tuple[str, np.ndarray]], by_layer: bool) -> list[dict]:
    return [
        {
            "type": "violin",
            "y": values,
            "name": plotly(label),  # a label read back from a run's stored weights: text, not markup
            # One kind per figure: the axis names the layer alone ("hidden_1"), the hover the whole label.
            "x0": plotly(label.rsplit(" ", 1)[0]) if by_layer else None,
            "box": {"visible": True},
            "meanline": {"visible": True},
            "points": False,
            "spanmode": "hard",
            "line": {"color": VALIDATION_COLOUR if label.endswith(("kernel", "gamma")) else TRAIN_COLOUR},
        }
        for label, values in series
    ]


def weight_violins(
    series: list[tuple[str, np.ndarray]],
    epoch: int,
    kind: str | None = None,
    y_range: tuple[float, float] | None = None,
    revision: str = "weights",
) -> go.Figure:
    """One violin per layer weight (from `weights.violin_series`), labelled by layer and weight.

    Pages pass one `kind` of weight at a time (`weights.KIND_LABELS`) with its `y_range` over
    every epoch (`weights.sample_range`): gammas sit near 1 and kernels near 0, so on one
    axis the gammas squash every kernel into a sliver; and a range fixed across epochs lets
    the spread show as the epoch changes, where autoscaling would hide it. Redrawn on every
    move of the epoch slider and every Play tick: built unchecked (`style.unchecked_figure`).
    """
    what = KIND_LABELS[kind] if kind else "weights"
    yaxis: dict = {"title": {"text": "value"}}
    if y_range is not None:
        low, high = y_range
        pad = 0.05 * (high - low) or 0.05 * max(abs(low), 1.0)  # a kind still all one value (gamma = 1) gets room too
        yaxis["range"] = [low - pad, high + pad]
    layout = {
        "title": titled(f"{what[0].upper()}{what[1:]} after epoch {epoch}" if epoch else f"Initial {what} (epoch 0)"),
        "yaxis": yaxis,
        "font": {"size": FONT_SIZE - 2},
        "showlegend": False,
        "height": 485,
        "margin": {"l": 60, "r": 20, "t": TITLE_TOP, "b": 80},
        "uirevision": revision,
    }
    return unchecked_figure(_violins(series, by_layer=kind is not None), layout)


def confusion_heatmap(
    matrix: np.ndarray, normalised: bool = False, picked: tuple[int | None, int | None] = (None, None)
) -> go.Figure:
    """The confusion matrix as a heatmap: rows the true digit, columns the prediction.

    `picked` (true, predicted), either None for "any", is outlined: the cell, row or column
    whose mistakes the page lists. Clicks land on an invisible marker at each cell's centre
    (`evaluation.clicked_cell` reads them back): Plotly cannot select a heatmap's cells, only
    points, and with no hover cut-off a click anywhere picks the nearest centre, its own cell.
    """
    values = row_normalised(matrix) if normalised else matrix
    text = [[f"{v:.1%}" if normalised else f"{int(v)}" for v in row] for row in values]
    digits = list(range(NUM_CLASSES))
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=digits,
            y=digits,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hoverinfo="skip",  # the markers below answer hovers and clicks
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[predicted for _ in digits for predicted in digits],
            y=[true for true in digits for _ in digits],
            text=[cell for row in text for cell in row],
            mode="markers",
            marker={"size": 1, "opacity": 0},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
            hovertemplate="true %{y}, predicted %{x}: %{text}<br>click to see these mistakes<extra></extra>",
            showlegend=False,
        )
    )
    true_label, predicted = picked
    if true_label is not None or predicted is not None:
        x0, x1 = (-0.5, NUM_CLASSES - 0.5) if predicted is None else (predicted - 0.5, predicted + 0.5)
        y0, y1 = (-0.5, NUM_CLASSES - 0.5) if true_label is None else (true_label - 0.5, true_label + 0.5)
        figure.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line={"color": "#e4572e", "width": 3})
    figure.update_layout(
        # Fixed axes: with point selection on, Streamlit makes dragging pan, which only loses the matrix.
        xaxis={"title": "predicted digit", "dtick": 1, "side": "top", "fixedrange": True},
        yaxis={"title": "true digit", "dtick": 1, "autorange": "reversed", "fixedrange": True},
        hoverdistance=-1,
        font_size=FONT_SIZE - 2,
        height=560,
        margin={"l": 60, "r": 10, "t": 60, "b": 10},
    )
    return figure


def probability_bars(probabilities: np.ndarray, outlined: int | None = None) -> go.Figure:
    """The model's probability for each digit, its answer highlighted, digit `outlined` (if any) outlined."""
    best = int(np.argmax(probabilities))
    colours = [VALIDATION_COLOUR if digit == best else "#b0b7c3" for digit in range(NUM_CLASSES)]
    figure = go.Figure(
        go.Bar(
            x=list(range(NUM_CLASSES)),
            y=[float(p) for p in probabilities],  # plain numbers, not a binary-encoded array
            marker_color=colours,
            marker_line_color="#262730",
            marker_line_width=[3 if digit == outlined else 0 for digit in range(NUM_CLASSES)],
            text=[f"{p:.0%}" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    # hovermode "x": the whole column of a digit answers the pointer, so a click anywhere above a bar
    # too short to hit (a 0.1% digit) still picks that digit.
    return _probability_layout(figure, "digit", height=300, hovermode="x")


def probability_history(epochs: list[int], probabilities: list[np.ndarray]) -> go.Figure:
    """How the probability of each digit changed, epoch by epoch, for one drawing."""
    figure = go.Figure()
    for digit in range(NUM_CLASSES):
        figure.add_trace(
            go.Scatter(
                x=list(epochs),
                y=[float(p[digit]) for p in probabilities],
                name=str(digit),
                mode="lines+markers",
                # The palette's eight colours and eight shapes, offset: no two of the ten digits share both.
                line={"color": PALETTE[digit % len(PALETTE)]},
                marker={"symbol": SYMBOLS[(digit + digit // len(PALETTE)) % len(SYMBOLS)], "size": 8},
                hovertemplate=f"{digit}: " + "%{y:.1%}<extra></extra>",
            )
        )
    # The legend in one row under the chart: as a column beside it, its last entries (9) fell off the plot.
    legend = {"title": "digit", "orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}
    return _probability_layout(figure, "epoch", height=340, legend=legend).update_layout(margin_b=110)
