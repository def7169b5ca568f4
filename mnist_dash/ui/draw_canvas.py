"""The drawing canvas, behind one function so the component can be swapped, and uploads.

streamlit-drawable-canvas 0.13 (a Components v2 component) draws in the page itself,
not in an iframe. Strokes are white on black, thick like MNIST's pen.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_dash.canvas import read_upload

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


# Keyed by the file's content (Streamlit hashes bytes arguments), so the page's reruns (every
# widget change, every fragment tick) reuse the decoded image instead of decoding it again.
# 64 small images (at most 560 x 560 RGBA, about 1 MB each) serve a class of thirty; BadUpload
# is not cached, but most refusals cost only a header read.
@st.cache_data(max_entries=64, ttl="2h", show_spinner=False)
def uploaded_image(data: bytes, name: str) -> np.ndarray:
    """read_upload(data, name), decoded once per content: a uint8 RGBA array for to_mnist.

    Raises:
        BadUpload: as read_upload does, its message ready to show.
    """
    return read_upload(data, name)


def newest_input(drawing: np.ndarray | None, uploaded) -> str | None:
    """ "drawing" or "upload": whichever of the two changed last (None when there is neither).

    A student who uploads a photo and then draws wants the drawing read, and the other way
    round; an upload left in the uploader must not hide every stroke drawn after it.
    """
    seen = st.session_state.setdefault("draw_inputs", {"drawing": None, "upload": None, "newest": None})
    drawing_key = hash(drawing.tobytes()) if drawing is not None else None
    upload_key = (uploaded.file_id if hasattr(uploaded, "file_id") else uploaded.name) if uploaded else None
    if drawing_key != seen["drawing"]:
        seen["drawing"], seen["newest"] = drawing_key, "drawing" if drawing_key is not None else seen["newest"]
    if upload_key != seen["upload"]:
        seen["upload"], seen["newest"] = upload_key, "upload" if upload_key is not None else seen["newest"]
    available = {"drawing": drawing is not None, "upload": uploaded is not None}
    if seen["newest"] is not None and available[seen["newest"]]:
        return seen["newest"]
    return next((kind for kind, there in available.items() if there), None)
