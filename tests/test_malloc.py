"""The server's allocator settings (mnist_dash/malloc.py), in a fresh process each: they are per process."""

import subprocess
import sys

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


def test_keep_small_takes_effect_once_and_caps_the_arenas_threads_get():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True", "True"]
    arenas = done.stderr.count("Arena ")
    assert 1 <= arenas <= 2, done.stderr
