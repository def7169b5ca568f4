"""Keep Streamlit from clearing Keras's session after every page run in the server.

Draw and Evaluate load a stored model into the web server. Once `keras` is imported,
Streamlit's script runner calls `keras.backend.clear_session()` after every script run
and fragment tick (to reset notebook-style global state), and by default that runs a
full garbage collection: 0.2-0.9 s each with TensorFlow loaded. With a class's pages
ticking every second or two, the server's Python did little else: pages froze, health
checks timed out and queued jobs whose pages stopped drawing were taken for orphans
(bench/classroom_abuse). The server's Keras state is only cached models and one small
per-job model for Draw's epoch-by-epoch answers, none of which needs resetting.

This replaces a private function of Streamlit's (`_clean_problem_modules`); if Streamlit
moves it, nothing is replaced and the old behaviour returns, with a warning in the log.
"""

from __future__ import annotations

import contextlib
import logging
import sys

log = logging.getLogger(__name__)


def _clean_matplotlib_only() -> None:
    """What Streamlit cleans after a script run, less Keras's session."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        with contextlib.suppress(Exception):  # as Streamlit: never crash a page over it
            pyplot.close("all")


def keep_keras_session() -> bool:
    """Install the replacement once per process; False (and a warning) when Streamlit has changed."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return False
    if getattr(script_runner, "_clean_problem_modules", None) is _clean_matplotlib_only:
        return True
    if not hasattr(script_runner, "_clean_problem_modules"):
        log.warning("Streamlit no longer has _clean_problem_modules: Keras's session is cleared after each run")
        return False
    script_runner._clean_problem_modules = _clean_matplotlib_only
    return True
