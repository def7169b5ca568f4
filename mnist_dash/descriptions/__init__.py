"""Every chart in words: text alternatives computed from the chart's own data. No Streamlit.

A screen reader reads these as the chart's name (`alt=`), and a student who cannot see the
colours reads them beside it; so they say what the picture shows, with its numbers, and the
verdict the written observations would give (`observations.judge`), in the same words.
Plain text throughout: a run's or a student's name is never markup here; pages escape it
where they render markdown.
"""

from mnist_dash.descriptions.board import board, board_rows, widths
from mnist_dash.descriptions.images import (
    activity,
    confusion,
    inputs,
    probabilities,
    probability_history,
    region_sums,
    saliency,
    saliency_rows,
    unit_rows,
    units,
)
from mnist_dash.descriptions.training import announcement, compared, curves, violins

__all__ = [
    "activity",
    "announcement",
    "board",
    "board_rows",
    "compared",
    "confusion",
    "curves",
    "inputs",
    "probabilities",
    "probability_history",
    "region_sums",
    "saliency",
    "saliency_rows",
    "unit_rows",
    "units",
    "violins",
    "widths",
]
