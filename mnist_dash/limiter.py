"""A process-wide limit on how many jobs train at once, with first-come-first-served queue positions."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable

MAX_JOBS_ENV = "MNIST_DASH_MAX_JOBS"


class JobLimiter:
    """At most `max_jobs` holders at once; the rest wait first come, first served."""

    def __init__(self, max_jobs: int = 1):
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs}")
        self.max_jobs = max_jobs
        self._condition = threading.Condition()
        self._waiting: deque[str] = deque()
        self._running: set[str] = set()
        self._remaining: dict[str, Callable[[], float]] = {}  # job id -> seconds it still needs

    def acquire(self, job_id: str, cancelled: threading.Event, remaining: Callable[[], float] | None = None) -> bool:
        """Wait for a slot; False (and out of the queue) if `cancelled` is set first.

        `remaining`, if given, tells how many seconds the job still needs (while it waits
        and while it runs), for the wait estimates of the jobs behind it.
        """
        with self._condition:
            self._waiting.append(job_id)
            if remaining is not None:
                self._remaining[job_id] = remaining
            while True:
                if cancelled.is_set():
                    self._waiting.remove(job_id)
                    self._remaining.pop(job_id, None)
                    self._condition.notify_all()
                    return False
                if self._waiting[0] == job_id and len(self._running) < self.max_jobs:
                    self._running.add(self._waiting.popleft())
                    self._condition.notify_all()
                    return True
                self._condition.wait(timeout=0.5)

    def release(self, job_id: str) -> None:
        with self._condition:
            self._running.discard(job_id)
            self._remaining.pop(job_id, None)
            self._condition.notify_all()

    def wake(self) -> None:
        """Make waiters look again (after a cancellation)."""
        with self._condition:
            self._condition.notify_all()

    def position(self, job_id: str) -> int:
        """1 for the next job to start, 2 after it, ...; 0 when not waiting."""
        with self._condition:
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else 0

    def wait_estimate(self, job_id: str) -> float | None:
        """Seconds until `job_id` should start: the work ahead of it shared over the slots.

        None when it is not waiting or a job ahead cannot say how long it needs.
        """
        with self._condition:
            if job_id not in self._waiting:
                return None
            ahead = [*self._running, *list(self._waiting)[: self._waiting.index(job_id)]]
            estimates = [self._remaining.get(other) for other in ahead]
        if any(estimate is None for estimate in estimates):
            return None
        return sum(max(0.0, estimate()) for estimate in estimates) / self.max_jobs

    @property
    def running(self) -> int:
        with self._condition:
            return len(self._running)

    @property
    def queued(self) -> int:
        with self._condition:
            return len(self._waiting)


def max_jobs_from_env() -> int:
    """`MNIST_DASH_MAX_JOBS` as a whole number ≥ 1 (default 1)."""
    raw = os.environ.get(MAX_JOBS_ENV, "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_JOBS_ENV} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


_default_limiter: JobLimiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> JobLimiter:
    """The process-wide limiter, sized from `MNIST_DASH_MAX_JOBS` on first use."""
    global _default_limiter
    with _default_lock:
        if _default_limiter is None:
            _default_limiter = JobLimiter(max_jobs_from_env())
        return _default_limiter
