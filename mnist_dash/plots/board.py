"""The class board's scatter: test accuracy against parameters for every run of the class.

Each owner a colour, the best-for-its-size frontier drawn as a staircase, the viewer's own
runs ringed. Points carry their run id (customdata) so a click can pick the run.
"""

from __future__ import annotations

import hashlib

import plotly.graph_objects as go

from mnist_dash.classroom.board import frontier
from mnist_dash.plots.style import FONT_FAMILY, FONT_SIZE, PALETTE, SYMBOLS, TITLE_TOP, titled
from mnist_dash.runs.records import RunInfo
from mnist_dash.text import plotly

MAX_LEGEND = 12  # past this many owners the legend would fill the projector: hover names the owner instead
# Each student's mark, from their owner key alone: the same colour and shape on every screen, whoever looks
# and whichever runs were deleted ("you are the orange square"). The app's palette (style.PALETTE: Okabe and
# Ito's colours, told apart with the common colour-vision deficiencies) times four shapes: 32 marks for a class
# of thirty, and two owners of one colour still differ by shape.
OWNER_COLOURS = PALETTE
OWNER_SYMBOLS = SYMBOLS[:4]


def owner_mark(owner: str) -> tuple[str, str]:
    """The colour and the marker symbol of `owner`'s runs (a key: `owners.Owner.key`), stable everywhere."""
    digest = hashlib.sha256(owner.encode()).digest()
    return OWNER_COLOURS[digest[0] % len(OWNER_COLOURS)], OWNER_SYMBOLS[digest[1] % len(OWNER_SYMBOLS)]


def board_scatter(runs: list[RunInfo], me: str | None, budget: int | None = None) -> go.Figure:
    """Every finished run with an accuracy as a point (x: parameters, log scale; y: test accuracy in %)."""
    figure = go.Figure()
    by_owner: dict[str, list[RunInfo]] = {}
    for run in runs:
        if run.test_accuracy is not None and run.owner is not None:
            by_owner.setdefault(run.owner, []).append(run)
    for owner, own in sorted(by_owner.items(), key=lambda item: (item[0] != me, item[1][0].owner_name or "")):
        mine = owner == me
        name = plotly(own[0].owner_name or owner) + (" (you)" if mine else "")
        figure.add_scatter(
            x=[run.params_total for run in own],
            y=[run.test_accuracy * 100 for run in own],
            mode="markers",
            name=name,
            customdata=[run.run_id for run in own],
            text=[plotly(run.spec.name or "custom") for run in own],
            hovertemplate=f"{name} · %{{text}}<br>%{{x:,}} parameters · %{{y:.2f}}%<extra></extra>",
            marker={
                "size": 15 if mine else 11,
                "color": owner_mark(owner)[0],
                "symbol": owner_mark(owner)[1],
                "line": {"width": 3 if mine else 1, "color": "black" if mine else "white"},
            },
        )
    points = [(run.params_total, run.test_accuracy * 100) for own in by_owner.values() for run in own]
    if best := frontier(points):
        figure.add_scatter(
            x=[params for params, _ in best],
            y=[accuracy for _, accuracy in best],
            mode="lines",
            line={"shape": "hv", "dash": "dot", "color": "grey", "width": 2},
            name="best for its size",
            hoverinfo="skip",
        )
    if budget is not None:
        figure.add_vline(x=budget, line={"color": PALETTE[1], "dash": "dash"}, annotation_text="budget")
    figure.update_layout(
        title=titled("Every run: accuracy by size"),
        # Ticks at powers of ten only, as 10k, 100k, 1M: Plotly's log axis read "9, 100k, 2, 3".
        xaxis={"title": "parameters (log scale)", "type": "log", "dtick": 1, "tickformat": "~s"},
        # The title clear of the tick labels (they collided on a projector and a phone).
        yaxis={"title": {"text": "test accuracy (%)", "standoff": 12}, "automargin": True},
        font={"size": FONT_SIZE, "family": FONT_FAMILY},
        showlegend=len(by_owner) <= MAX_LEGEND,
        legend={"orientation": "h", "x": 0, "y": -0.25, "yanchor": "top", "font_size": FONT_SIZE - 3},
        margin={"l": 70, "r": 20, "t": TITLE_TOP, "b": 40},
        uirevision="board",  # zoom and legend clicks survive the board's refresh
        height=480,
        clickmode="event+select",
    )
    return figure
