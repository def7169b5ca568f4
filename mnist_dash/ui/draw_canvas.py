"""The drawing canvas, behind one function so the component can be swapped, and uploads.

streamlit-drawable-canvas 0.13 (a Components v2 component) draws in the page itself,
not in an iframe. Strokes are white on black, thick like MNIST's pen.

Its toolbar (undo, clear) shows only while a mouse hovers the canvas: on a touch screen it
was invisible, and a tap on its invisible spot cleared the drawing. The component has no
option for it and keeps its styles in a shadow root, out of reach of the page's CSS, so
`draw` adds a style to that root (`TOOLBAR_CSS`, by a short script): the toolbar always
shown above the canvas, with finger-sized buttons on a touch screen.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from mnist_dash.canvas import read_upload

SIZE = 280
STROKE = 18

# The component's own rule for a pinned toolbar (its `data-pinned`), made permanent; !important
# outranks its hover rules. Larger buttons where the pointer is a finger.
TOOLBAR_CSS = """
.dc-toolbar { opacity: 1 !important; top: -2.65rem !important; }
@media (pointer: coarse) {
  .dc-toolbar { top: -3.3rem !important; }
  .dc-icon-button { padding: 0.5rem; }
  .dc-icon-button svg { width: 1.2rem; height: 1.2rem; }
}
"""
# Room above the canvas, in the page, for the toolbar that sits there (a style alone takes no room itself).
ROOM_CSS = """<style>
.st-key-KEY { padding-top: 2.9rem; }
@media (pointer: coarse) { .st-key-KEY { padding-top: 3.6rem; } }
</style>"""
# Adds TOOLBAR_CSS to the shadow root of each canvas on the page, as soon as the component has
# filled it (and again if it refills it); new canvases (a rerun, a page switch) are found by one
# observer for the browser tab, however often the page runs.
_PIN_SCRIPT = """<script>
(() => {
  const css = %s;
  const pin = (root) => {
    if (root.querySelector(".dc-root") && !root.getElementById("mnist-dash-toolbar")) {
      const style = document.createElement("style");
      style.id = "mnist-dash-toolbar";
      style.textContent = css;
      root.appendChild(style);
    }
  };
  const watch = () => document.querySelectorAll("[data-testid=stBidiComponentIsolated]").forEach((host) => {
    const root = host.shadowRoot;
    if (root && !root.mnistDashWatched) {
      root.mnistDashWatched = true;
      pin(root);
      new MutationObserver(() => pin(root)).observe(root, { childList: true, subtree: true });
    }
  });
  [0, 300, 1500].forEach((delay) => setTimeout(watch, delay));
  if (!window.mnistDashCanvases) {
    window.mnistDashCanvases = new MutationObserver(watch);
    window.mnistDashCanvases.observe(document.body, { childList: true, subtree: true });
  }
})();
</script>"""


def draw(key: str) -> np.ndarray | None:
    """The drawing as a uint8 RGBA array, or None before anything is drawn (or without the component)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as error:  # A missing or unregistered component must not take the page down.
        st.warning(f"The drawing canvas is not available here ({type(error).__name__}); upload an image instead.")
        return None
    st.html(ROOM_CSS.replace("KEY", key))
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
    st.html(_PIN_SCRIPT % json.dumps(TOOLBAR_CSS), unsafe_allow_javascript=True)
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
