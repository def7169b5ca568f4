"""The canvas's keyboard twin: a 14 x 14 grid moved across with the arrow keys and inked with Space.

For a student who cannot use a mouse or a finger. Its cells go to the server, which draws
them as pen strokes (`canvas.grid_image`) and reads them through the same `canvas.to_mnist`
as the canvas. A Components v2 script in the page (no iframe): one focusable element
(role "application", so a screen reader hands the arrow keys to it), a visible focus ring,
a line that says where the cursor is and what is inked (aria-live), and Tab leaves it as
from any control: nothing traps the focus.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_dash.canvas import GRID, grid_image
from mnist_dash.ui import draw_canvas

KEYS_HELP = (
    "Arrow keys move; Space inks or clears the cell; Enter puts the pen down (moving then inks every cell "
    "passed) or lifts it; Delete clears the grid; Tab leaves it."
)
_HTML = f"""
<div class="kg-grid" tabindex="0" role="application" aria-roledescription="drawing grid"
     aria-label="Drawing grid, {GRID} by {GRID} cells" aria-describedby="kg-help"></div>
<p class="kg-help" id="kg-help">{KEYS_HELP}</p>
<p class="kg-status" aria-live="polite"></p>
"""
_CSS = f"""
.kg-grid {{ display: grid; grid-template-columns: repeat({GRID}, 20px); width: {GRID * 20}px;
  background: #000; border: 1px solid #6b6b6b; }}
.kg-grid:focus {{ outline: 3px solid var(--st-primary-color, #1f6fb4); outline-offset: 3px; }}
.kg-cell {{ width: 20px; height: 20px; box-sizing: border-box; border: 1px solid #1e1e1e; }}
.kg-cell.ink {{ background: #fff; }}
.kg-cell.here {{ box-shadow: inset 0 0 0 3px #E69F00; }}
.kg-help, .kg-status {{ font-size: 0.85rem; margin: 0.4rem 0 0; max-width: {GRID * 20}px; }}
"""
_JS = """
export default function ({ data, setStateValue, parentElement }) {
  const SIDE = GRID_SIDE;
  const grid = parentElement.querySelector(".kg-grid");
  grid.__send = setStateValue;  // the newest, each time the page runs
  if (grid.__state) return;
  const state = (grid.__state = { ink: new Set(), row: Math.floor(SIDE / 2), col: Math.floor(SIDE / 2), pen: false });
  for (const [row, col] of (data && data.cells) || []) state.ink.add(row * SIDE + col);
  const cells = [];
  for (let i = 0; i < SIDE * SIDE; i++) {
    const cell = document.createElement("div");
    cell.className = "kg-cell";
    cell.setAttribute("aria-hidden", "true");
    grid.appendChild(cell);
    cells.push(cell);
  }
  const status = parentElement.querySelector(".kg-status");
  let timer = null;
  const send = () => {
    clearTimeout(timer);
    const list = Array.from(state.ink, (i) => [Math.floor(i / SIDE), i % SIDE]);
    timer = setTimeout(() => grid.__send("cells", list), 300);  // one rerun for a burst of keys
  };
  const show = (said) => {
    cells.forEach((cell, i) => {
      cell.classList.toggle("ink", state.ink.has(i));
      cell.classList.toggle("here", i === state.row * SIDE + state.col);
    });
    const here = state.ink.has(state.row * SIDE + state.col) ? "inked" : "empty";
    const pen = state.pen ? "pen down" : "pen up";
    status.textContent = (said ? said + " " : "") +
      `Row ${state.row + 1}, column ${state.col + 1}: ${here}; ${pen}; ${state.ink.size} cells inked.`;
  };
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  grid.addEventListener("keydown", (event) => {
    const here = () => state.row * SIDE + state.col;
    let said = "", changed = false;
    if (event.key in moves) {
      const [dr, dc] = moves[event.key];
      state.row = Math.min(SIDE - 1, Math.max(0, state.row + dr));
      state.col = Math.min(SIDE - 1, Math.max(0, state.col + dc));
      if (state.pen && !state.ink.has(here())) { state.ink.add(here()); changed = true; }
    } else if (event.key === " ") {
      if (state.ink.has(here())) state.ink.delete(here()); else state.ink.add(here());
      changed = true;
    } else if (event.key === "Enter") {
      state.pen = !state.pen;
      if (state.pen && !state.ink.has(here())) { state.ink.add(here()); changed = true; }
    } else if (event.key === "Escape") {
      state.pen = false;
    } else if (event.key === "Delete") {
      state.ink.clear(); state.pen = false; changed = true; said = "Cleared.";
    } else {
      return;  // Tab and everything else: the browser's, so the focus moves on as anywhere else
    }
    event.preventDefault();
    show(said);
    if (changed) send();
  });
  show("");
}
""".replace("GRID_SIDE", str(GRID))
_grid = st.components.v2.component("mnist_dash.keyboard_grid", html=_HTML, css=_CSS, js=_JS)


def draw(key: str) -> np.ndarray | None:
    """The grid's drawing as a grey image like the canvas's, or None while nothing is inked."""
    before = st.session_state.get(key)
    cells = list(getattr(before, "cells", None) or []) if before is not None else []
    result = _grid(data={"cells": cells}, key=key, default={"cells": cells}, on_cells_change=lambda: None)
    inked = result.cells if result is not None and result.cells else []
    return grid_image(inked) if inked else None


def canvas_or_grid() -> np.ndarray | None:
    """Draw's drawing: the canvas, or with "Draw with the keyboard" switched on, this grid in its place."""
    if st.toggle("Draw with the keyboard", key="draw_by_keys", help=KEYS_HELP):
        st.markdown("**Draw here** with the arrow keys and Space")
        return draw(key="draw_keys")
    helped = "The toolbar above the canvas undoes, redoes and clears (the bin) your strokes."
    st.markdown("**Draw here**", help=helped)
    return draw_canvas.draw(key="draw_canvas")
