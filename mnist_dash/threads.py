"""Thread pools sized to the CPUs this process may really use, set before TensorFlow loads.

In a container (Streamlit Community Cloud gives 1-2 cores) `os.cpu_count()` reports
the host's CPUs, and TensorFlow would start a pool of that many threads per kind of
work, all fighting over two cores. The cgroup's CPU quota says what is really ours.
Variables already set by the user win.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"


def usable_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The CPU quota of this process's cgroup, else the CPUs it may be scheduled on."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus


def size_thread_pools(environ=os.environ, cpus: int | None = None) -> int:
    """Default TensorFlow's and OpenMP's pools to the usable CPUs; returns that number."""
    cpus = cpus or usable_cpus()
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        environ.setdefault(name, str(cpus))
    environ.setdefault("TF_NUM_INTEROP_THREADS", str(min(cpus, 2)))
    return cpus
