"""A cap on what one browser tab may keep in the server's memory through Draw's uploader.

Streamlit keeps every file uploaded to a session in its uploaded-file manager until the page
lets it go: a scripted tab that uploads and never chooses held 500 MB within 20 s. `cap` wraps
the manager's `add_file` so that one session holds at most `MAX_FILES` files and `MAX_BYTES`
bytes; beyond that the upload is refused (HTTP 413 with the reason, which the uploader shows)
and logged. A student replacing their photo never meets it: the browser deletes the old file.
"""

from __future__ import annotations

import logging
import threading

MAX_FILES = 3
MAX_BYTES = 20 * 2**20
log = logging.getLogger(__name__)


class UploadRefused(Exception):
    """Too many files, or too many bytes, in one session; the message says which and what to do."""


def _refusal(text: str) -> Exception:
    try:  # the app's web server: its uploader shows the detail on a 413
        from starlette.exceptions import HTTPException

        return HTTPException(status_code=413, detail=text)
    except ImportError:
        return UploadRefused(text)


def cap(manager) -> bool:
    """Hold `manager` (Streamlit's MemoryUploadedFileManager) to the caps; True once it is (again: no harm)."""
    if getattr(manager, "_mnist_dash_capped", False):
        return True
    storage = getattr(manager, "file_storage", None)
    if not isinstance(storage, dict):  # another manager than this Streamlit's: left as it is, and said
        log.warning("the upload cap is off: Streamlit's uploaded-file manager is not the one it knows")
        return False
    add_file, lock = manager.add_file, threading.Lock()

    def capped_add_file(session_id: str, file) -> None:
        with lock:
            held = {key: rec for key, rec in storage.get(session_id, {}).items() if key != file.file_id}
            held_bytes = sum(len(rec.data) for rec in held.values())
            if len(held) >= MAX_FILES or held_bytes + len(file.data) > MAX_BYTES:
                log.warning(
                    "an upload refused: session %s holds %d files, %d bytes", session_id[:8], len(held), held_bytes
                )
                raise _refusal(
                    f"This tab already holds {len(held)} uploaded files ({held_bytes / 2**20:.1f} MB): at most "
                    f"{MAX_FILES} files and {MAX_BYTES >> 20} MB at a time. Remove one (its ✕), or reload the page."
                )
            add_file(session_id, file)

    manager.add_file = capped_add_file
    manager._mnist_dash_capped = True
    return True


def cap_this_server() -> None:
    """Cap the running server's uploads (called by the app's entry point on every run; cheap after the first)."""
    from streamlit import runtime

    if runtime.exists():
        cap(runtime.get_instance().uploaded_file_mgr)
