"""Where a page puts a chart: with its words for a screen reader, and its numbers as a table to read.

Every chart of the app goes through `chart`: `alt` (from `mnist_dash.descriptions`, computed
from the chart's data) is the chart's accessible name, and a "Read as a table" expander under
it holds the same words on the page and the figure's numbers (`plots.table`, or a table the
page passes for a chart that is an image).
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from mnist_dash import sound
from mnist_dash.plots.table import figure_rows
from mnist_dash.text import md

NO_BAR = {"displayModeBar": False}  # a chart with nothing to zoom: no toolbar over it


def chart(figure, *, key: str, alt: str, table: list[dict] | None = None, where: DeltaGenerator | None = None, **kw):
    """`where.plotly_chart(figure, key=key, alt=alt, **kw)`, then its words and table; returns what it returns."""
    where = where if where is not None else st.container(gap="small")
    shown = where.plotly_chart(figure, key=key, alt=alt, **kw)
    read_as_table(key, alt, table if table is not None else figure_rows(figure), where)
    return shown


def read_as_table(key: str, words: str, rows: list[dict], where: DeltaGenerator | None = None) -> None:
    """A closed "Read as a table" expander: a chart's `words` (plain text, shown as text) and its `rows`."""
    with (where if where is not None else st).expander("Read as a table", key=f"{key}_words"):
        st.markdown(md(words))
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch", key=f"{key}_table")


def listen(history: list[dict], name: str) -> None:
    """A player for `history`'s loss curve as sound (`sound.curve_wav`), with how to hear it."""
    st.markdown("**Listen to the loss curve**")
    what = f"The loss curve of {name} as sound: {len(history)} epochs, two notes each"
    st.audio(sound.curve_wav(history), format="audio/wav", alt=what)
    st.caption(sound.HOW_TO_LISTEN)
