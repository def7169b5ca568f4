"""Where a page puts a table: clear of its toolbar, its columns fitting what it shows."""

from __future__ import annotations

import hashlib

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

# A table's toolbar (search, download, full screen) sits in the 47 px above it, over whatever is
# there: on a touch screen all the time. With the page's gap of 16 px, this keeps it clear.
TOOLBAR_ROOM = 32


def table_area(name: str, *shown) -> DeltaGenerator:
    """A container for one table, with room for its toolbar, drawn anew whenever `shown` changes.

    Streamlit's grid sizes its columns to the rows it is first drawn with and keeps those
    widths when its rows change: one run with a short name chosen first, then one with a
    long name, and the long name was cut off. A container keyed by what the table holds
    (`shown`) is a new element when that changes, so its grid is sized again. `name` keeps
    the keys of a page's tables apart.
    """
    digest = hashlib.sha1(repr(shown).encode()).hexdigest()[:12]
    area = st.container(key=f"{name}_{digest}", gap=None)
    area.space(TOOLBAR_ROOM)
    return area
