"""What crosses from a runner to the server while a job trains: one typed `Progress` at a time.

Every runner reports the same way: the thread runner hands each `Progress` straight to
the job's `LiveMirror`, the worker process sends it over its pipe, a Ray task through its
hub actor, and the mirror is what `TrainingJob.snapshot()` reads. A `Progress` carries
only what is new since the last one (batch points, finished epochs), plus the state that
replaces the old (step counts, weight snapshots, the newest weights). The last one of a job carries its
`JobResult`, or the reason it failed. An empty one is a heartbeat: the runner is alive.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mnist_dash.weights import WeightHistory

# Why a job stopped before its first epoch ended has no run (said the same by every runner).
NOTHING_TO_SAVE = "it stopped before its first epoch ended, so there was nothing to save"


@dataclass(frozen=True)
class JobResult:
    """How a job's training ended (the runner's side of it)."""

    status: str  # "finished", "stopped" or "diverged"
    error: str = ""  # diverged: what happened and how to fix it
    reason: str = ""  # stopped: why, when it was not the owner's Stop (nothing to save before an epoch ended)
    test_loss: float | None = None
    test_accuracy: float | None = None
    run_id: str | None = None  # when it was stored
    epoch_seconds: tuple[float, ...] = ()


@dataclass(frozen=True)
class Progress:
    """News about job number `job` of a runner."""

    job: int
    steps: int | None = None  # batches per epoch, once known
    epoch: int | None = None  # zero-based epoch in progress
    batch: int | None = None  # batches done in it
    points: tuple[dict, ...] = ()  # new per-batch points
    epochs: tuple[dict, ...] = ()  # newly finished epochs' records
    weights: WeightHistory | None = None  # every weight snapshot so far, when a new one was taken
    latest_weights: tuple[int, list] | None = None  # (epoch, model weights) after the newest finished epoch
    result: JobResult | None = None  # the job ended
    error: str = ""  # the job failed: what happened, for people

    @property
    def final(self) -> bool:
        return self.result is not None or bool(self.error)


class LiveMirror:
    """The server's copy of a training job's live state, built from its `Progress` reports."""

    def __init__(self):
        self.lock = threading.Lock()
        self.epochs: list[dict] = []
        self.batches: list[dict] = []
        self.epoch = self.batch = self.steps = 0
        self.weights = WeightHistory()
        self.latest_weights: tuple[int, list] | None = None
        self.pid: int | None = None  # the worker process training it, if any

    def apply(self, news: Progress) -> None:
        """Take in `news`. The batch count always belongs to the epoch in progress (the one after the
        finished ones), so progress only moves forward: a finished epoch resets it to 0, and a late
        word about an earlier epoch's batches does not bring it back."""
        with self.lock:
            if news.steps is not None:
                self.steps = news.steps
            if news.epoch is not None and news.epoch >= len(self.epochs) + len(news.epochs):
                self.epoch = news.epoch
                if news.batch is not None:
                    self.batch = news.batch
            self.batches.extend(news.points)
            if news.epochs:
                self.epochs.extend(news.epochs)
                self.epoch, self.batch = len(self.epochs), 0
            if news.weights is not None:
                self.weights = news.weights
            if news.latest_weights is not None:
                self.latest_weights = news.latest_weights
