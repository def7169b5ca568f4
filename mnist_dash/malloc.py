"""Keep a long-lived server's memory near what it uses: the C allocator's settings, set once per process.

The Streamlit server runs every session's script on a thread of its own, and glibc's
allocator gives threads that meet at the same time arenas of their own (up to eight per
core), each keeping what was freed in it for later. It also raises its threshold for
handing large blocks straight to the system after the first large one is freed, so later
arrays and chart payloads land in those arenas too. With a class of thirty, that kept
tens of MB nobody used (see README, "A lesson on the hosting box"). Two arenas, and blocks
of 256 KB or more always mapped (and so returned when freed), keep the server near what
it holds. Linux with glibc only; elsewhere nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

ARENAS = 2
MAP_FROM = 256 * 1024  # bytes: larger blocks come from the system and go back to it when freed
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # malloc.h

_lock = threading.Lock()
_done: bool | None = None


def _libc():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def keep_small() -> bool:
    """Set the allocator once for this process (later calls are free); whether it took effect (glibc)."""
    global _done
    with _lock:
        if _done is None:
            libc = _libc()
            _done = libc is not None and all(
                libc.mallopt(option, value) == 1
                for option, value in (
                    (_M_ARENA_MAX, ARENAS),
                    (_M_MMAP_THRESHOLD, MAP_FROM),
                    (_M_TRIM_THRESHOLD, 2 * MAP_FROM),
                )
            )
        return _done
