"""The look every chart shares: fonts, colours, colour scales, and where a title sits. No Streamlit.

Chosen for a projector: thick lines and large fonts. A chart module takes its colours and
sizes from here, so the whole app changes in one place.
"""

from __future__ import annotations

import plotly.graph_objects as go

FONT_SIZE = 16
# Streamlit's own font: a chart drawn without Streamlit's theme (the board's, for its click events) says so.
FONT_FAMILY = '"Source Sans Pro", "Source Sans 3", sans-serif'
# Okabe and Ito's colours, told apart with the common colour-vision deficiencies (red-green, blue-yellow).
# The theme's chartCategoricalColors (.streamlit/config.toml) is this list, for the charts Streamlit
# colours itself; a test holds the two equal. Yellow last: on white it is the faintest line.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
# Marker shapes that go with the colours wherever runs or owners must be told apart without colour.
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "triangle-down")
TRAIN_COLOUR = PALETTE[1]  # the notebook drew train loss in red: vermilion, and dashed
VALIDATION_COLOUR = PALETTE[0]  # and validation loss in blue, solid
RUN_COLOURS = PALETTE
WEIGHT_SCALE = "RdBu_r"  # a unit's weights: red excites, blue inhibits, white is zero
INK = "#0e1117"  # the theme's text colour (textColor): labels that read as text, not as a chart's faint ticks

# Plotly's toolbar (zoom, pan, reset; always shown on a touch screen) fills the top 30 px of a
# figure, on the right, and a title there is hidden under it when the chart is narrow (a laptop's
# half page, a phone). A titled figure keeps that band for the toolbar: its title sits just above
# the plot, below the band, whatever the width.
TITLE_TOP = 75


def titled(title: str) -> dict:
    """A figure's title, placed below Plotly's toolbar (the figure's top margin must be TITLE_TOP)."""
    placed = {"x": 0, "xref": "container", "xanchor": "left", "y": 1, "yref": "paper", "yanchor": "bottom"}
    return {"text": title, **placed, "pad": {"l": 8, "b": 12}}


def unchecked_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure built without Plotly's check of every property on the way in: a tenth of the time (the
    Weights page's violins, redrawn on every move of its slider: 15.9 ms checked, 1.8 ms not). For figures
    whose properties their own tests read back; a misspelt property is then dropped by the browser, not
    refused here."""
    return go.Figure(data=data, layout=layout, _validate=False)
