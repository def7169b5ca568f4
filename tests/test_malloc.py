"""The server's allocator settings (mnist_dash/malloc.py), in a fresh process each: they are per process."""

import platform
import subprocess
import sys

import pytest

SCRIPT = """
import ctypes, threading
import numpy as np
from mnist_dash import malloc
first, second = malloc.keep_small(), malloc.keep_small()
libc = ctypes.CDLL(None)
libc.malloc_stats.restype = None
def churn():
    for _ in range(50):
        block = np.ones(1_000_000)  # 8 MB: mapped, and returned when freed
        del block
threads = [threading.Thread(target=churn) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
libc.malloc_stats()  # one "Arena N:" block per arena, to stderr
print(first, second)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only: elsewhere nothing is set")
def test_keep_small_takes_effect_once_and_caps_the_arenas_threads_get():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True", "True"]
    arenas = done.stderr.count("Arena ")
    assert 1 <= arenas <= 2, done.stderr


def test_elsewhere_than_glibc_nothing_is_set(monkeypatch):
    from mnist_dash import malloc

    monkeypatch.setattr(malloc, "_done", None)
    monkeypatch.setattr(malloc, "_libc", lambda: None)
    assert malloc.keep_small() is False
