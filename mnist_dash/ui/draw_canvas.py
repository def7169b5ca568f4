"""The drawing canvas, behind one function so the component can be swapped.

streamlit-drawable-canvas 0.13 (a Components v2 component) draws in the page itself,
not in an iframe. Strokes are white on black, thick like MNIST's pen.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

SIZE = 280
STROKE = 18


def draw(key: str) -> np.ndarray | None:
    """The drawing as a uint8 RGBA array, or None before anything is drawn (or without the component)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as error:  # A missing or unregistered component must not take the page down.
        st.warning(f"The drawing canvas is not available here ({type(error).__name__}); upload an image instead.")
        return None
    result = st_canvas(
        stroke_width=STROKE,
        stroke_color="#ffffff",
        background_color="#000000",
        height=SIZE,
        width=SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    if result is None or not result.json_data or not result.json_data.get("objects"):
        return None
    return result.image_data
