"""A stand-in for another student's job, holding a place in a JobQueue (for queue tests)."""

from __future__ import annotations

import threading

from mnist_dash import owners


class Stand:
    """Enters `queue` as `owner`'s job and waits for its turn on a thread; `finish()` gives the slot back."""

    def __init__(self, queue, job_id: str, owner: str = "someone else", seconds: float = 60.0, spec=None, limits=None):
        self.queue, self.job_id, self.seconds, self.spec = queue, job_id, seconds, spec
        self.owner = owners.named(owner)
        self.cancel = threading.Event()
        self.started = threading.Event()
        self.left: str | None = None
        queue.enter(self, limits)
        self.thread = threading.Thread(target=self._wait, args=(limits,), daemon=True)
        self.thread.start()

    def _wait(self, limits) -> None:
        self.left = self.queue.wait_turn(self, self.cancel, limits.orphan_s if limits else None)
        if self.left is None:
            self.started.set()

    def remaining_seconds(self) -> float:
        return self.seconds

    def finish(self) -> None:
        self.queue.leave(self.job_id)
