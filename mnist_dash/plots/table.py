"""Any of the app's figures as a table: the numbers a chart draws, for a student who reads rather than looks.

No Streamlit. Lines, markers and bars become one row per x with a column per trace; a violin
becomes its summary (the numbers its box draws); a small heatmap (the confusion matrix)
becomes its grid. Names come back as the plain text they were before `text.plotly` escaped
them for Plotly. An image-sized heatmap (28 x 28) is not a table anyone reads: its page
passes a table of its own (`descriptions` has the words).
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

# A heatmap with more cells than this is an image, not a table.
MAX_CELLS = 400


def _plain(text) -> str:
    return html.unescape(str(text)) if text is not None else ""


def _name(trace, number: int) -> str:
    return _plain(trace.name) if trace.name else f"series {number + 1}"


def _number(value):
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def figure_rows(figure: go.Figure) -> list[dict]:
    """The figure's data as rows (dicts of column to value), in the order a reader expects."""
    traces = list(figure.data)
    violins = [trace for trace in traces if trace.type == "violin"]
    if violins:
        return [_violin_row(trace, number) for number, trace in enumerate(violins)]
    heatmaps = [trace for trace in traces if trace.type == "heatmap"]
    if heatmaps and np.size(heatmaps[0].z) <= MAX_CELLS:
        return _grid(heatmaps[0], figure)
    return _wide([trace for trace in traces if trace.type in ("scatter", "bar", "funnel")], figure)


def _violin_row(trace, number: int) -> dict:
    values = np.asarray(trace.y, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return {"weights": _name(trace, number), "count": 0}
    low, median, high = np.percentile(values, [25, 50, 75])
    stats = {"min": values.min(), "25%": low, "median": median, "75%": high, "max": values.max()}
    return {"weights": _name(trace, number), "count": int(values.size)} | {k: float(v) for k, v in stats.items()}


def _axis_title(axis, fallback: str) -> str:
    title = axis.title.text if axis is not None and axis.title is not None else None
    return _plain(title) if title else fallback


def _grid(trace, figure: go.Figure) -> list[dict]:
    rows_title, columns_title = _axis_title(figure.layout.yaxis, "row"), _axis_title(figure.layout.xaxis, "column")
    z = np.asarray(trace.z)
    xs = list(trace.x) if trace.x is not None else list(range(z.shape[1]))
    ys = list(trace.y) if trace.y is not None else list(range(z.shape[0]))
    return [
        {rows_title: _number(y)} | {f"{columns_title} {x}": _number(v) for x, v in zip(xs, row, strict=True)}
        for y, row in zip(ys, z, strict=True)
    ]


def _wide(traces: list, figure: go.Figure) -> list[dict]:
    """One row per x (or per category), one column per trace."""
    horizontal = [trace for trace in traces if trace.type == "funnel" or getattr(trace, "orientation", None) == "h"]
    if horizontal:  # a funnel names its rows on y and draws its sizes on x
        trace = horizontal[0]
        return [{"layer": _plain(y), "units": _number(x)} for y, x in zip(trace.y, trace.x, strict=True)]
    x_title = _axis_title(figure.layout.xaxis, "x")
    rows: dict = {}
    for number, trace in enumerate(traces):
        if trace.x is None or trace.y is None:
            continue
        name = _name(trace, number)
        for x, y in zip(trace.x, trace.y, strict=True):
            rows.setdefault(_number(x), {x_title: _number(x)})[name] = _number(y)
    return list(rows.values())
