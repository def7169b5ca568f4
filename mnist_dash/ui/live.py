"""Status a screen reader announces without anyone watching for it: one ARIA live region for the app.

What a sighted student sees change in the corner of their eye (queued, started, an epoch's
figures, finished, stopped, refused) is also said aloud. Streamlit has no live region of its
own (`st.toast` is the nearest, and it is not announced), so a small Components v2 script, in
the page itself and not an iframe, keeps one `role="status"` `aria-live="polite"` element in
the document's body. It is made once and outlives Streamlit's redraws of the page, which a
screen reader needs: a live region is only read when text changes inside one it already
knows. Each `announce` adds its text there, unless the same topic said the same words last
(a page redrawn each second says each thing once); the three newest lines are kept. Polite:
it waits for the reader to finish what it is reading, never cuts in.
"""

from __future__ import annotations

import streamlit as st

REGION_ID = "mnist-dash-status"
_JS = """
export default function ({ data }) {
  let region = document.getElementById("REGION_ID");
  if (!region) {
    region = document.createElement("div");
    region.id = "REGION_ID";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.setAttribute("aria-atomic", "false");
    // Read, not seen: the page already shows all of it.
    region.style.cssText = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;" +
      "overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0";
    document.body.appendChild(region);
  }
  const said = (window.__mnistDashSaid = window.__mnistDashSaid || {});
  if (!data || !data.text || said[data.topic] === data.text) return;
  said[data.topic] = data.text;
  // A moment later: a region made just now is not yet watched by the screen reader.
  setTimeout(() => {
    const line = document.createElement("p");
    line.textContent = data.text;
    region.appendChild(line);
    while (region.childNodes.length > 3) region.removeChild(region.firstChild);
  }, 200);
}
""".replace("REGION_ID", REGION_ID)
_announcer = st.components.v2.component("mnist_dash.announcer", js=_JS, isolate_styles=False)
# The component draws nothing: its place on the page takes no room (no gap between its neighbours).
_HIDE = "<style>[class*='st-key-announce_'] { display: none; }</style>"


def announce(text: str, topic: str) -> None:
    """Say `text` (plain text) to a screen reader once, unless `topic`'s last words were the same."""
    st.html(_HIDE)
    with st.container(key=f"announce_{topic}"):
        _announcer(data={"topic": topic, "text": text}, key=f"announcer_{topic}")
