"""Plotly figures about one trained model: its weights, its confusions, its answers. No Streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_dash.plots import FONT_SIZE, TRAIN_COLOUR, VALIDATION_COLOUR
from mnist_dash.spec import NUM_CLASSES
from mnist_dash.text import plotly


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


def _violins(series: list[tuple[str, np.ndarray]]) -> list[go.Violin]:
    return [
        go.Violin(
            y=values,
            name=plotly(label),  # a label read back from a run's stored weights: text, not markup
            box_visible=True,
            meanline_visible=True,
            points=False,
            spanmode="hard",
            line_color=VALIDATION_COLOUR if label.endswith(("kernel", "gamma")) else TRAIN_COLOUR,
        )
        for label, values in series
    ]


def weight_violins(
    series: list[tuple[str, np.ndarray]],
    epoch: int,
    revision: str = "weights",
    frames: list[list[tuple[str, np.ndarray]]] | None = None,
) -> go.Figure:
    """One violin per layer weight (from `weights.violin_series`), labelled by layer and weight.

    With `frames` (the series of every epoch), the figure also carries Plotly animation
    frames and a play button, so students watch the distributions spread.
    """
    figure = go.Figure(_violins(series))
    if frames:
        figure.frames = [
            go.Frame(data=_violins(s), name=str(e), layout={"title": f"Epoch {e}"}) for e, s in enumerate(frames)
        ]
        figure.update_layout(
            updatemenus=[
                {
                    "type": "buttons",
                    "x": 1,
                    "y": 1.12,
                    "xanchor": "right",
                    "buttons": [
                        {
                            "label": "▶ play epochs",
                            "method": "animate",
                            "args": [None, {"frame": {"duration": 700, "redraw": True}, "fromcurrent": False}],
                        }
                    ],
                }
            ],
        )
    figure.update_layout(
        title=f"Weights after epoch {epoch}" if epoch else "Initial weights (epoch 0)",
        yaxis_title="value",
        font_size=FONT_SIZE - 2,
        showlegend=False,
        height=460,
        margin={"l": 60, "r": 20, "t": 50, "b": 80},
        uirevision=revision,
    )
    return figure


def confusion_heatmap(matrix: np.ndarray, normalised: bool = False) -> go.Figure:
    """The confusion matrix as a heatmap: rows the true digit, columns the prediction."""
    values = matrix
    if normalised:
        totals = matrix.sum(axis=1, keepdims=True)
        values = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    text = [[f"{v:.1%}" if normalised else f"{int(v)}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=list(range(NUM_CLASSES)),
            y=list(range(NUM_CLASSES)),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"title": "predicted digit", "dtick": 1, "side": "top"},
        yaxis={"title": "true digit", "dtick": 1, "autorange": "reversed"},
        font_size=FONT_SIZE - 2,
        height=560,
        margin={"l": 60, "r": 10, "t": 60, "b": 10},
    )
    return figure


def probability_bars(probabilities: np.ndarray) -> go.Figure:
    """The model's probability for each digit, the chosen one highlighted."""
    best = int(np.argmax(probabilities))
    colours = [VALIDATION_COLOUR if digit == best else "#b0b7c3" for digit in range(NUM_CLASSES)]
    figure = go.Figure(
        go.Bar(
            x=list(range(NUM_CLASSES)),
            y=[float(p) for p in probabilities],  # plain numbers, not a binary-encoded array
            marker_color=colours,
            text=[f"{p:.0%}" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    return _probability_layout(figure, "digit", height=300)


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
                hovertemplate=f"{digit}: " + "%{y:.1%}<extra></extra>",
            )
        )
    # The legend in one row under the chart: as a column beside it, its last entries (9) fell off the plot.
    legend = {"title": "digit", "orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}
    return _probability_layout(figure, "epoch", height=340, legend=legend).update_layout(margin_b=110)
