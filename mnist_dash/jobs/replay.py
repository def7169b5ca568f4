"""A stored run replayed: its curves stream at the pace they were recorded (or faster), so a lesson goes on.

When the server will not train (`MNIST_DASH_REPLAY=1`, or the class's queue is full: `offers_replay`),
Train offers a stored run of the same design instead. A `Replay` behaves like a `TrainingJob` for the
pages that show one (snapshot, done, stop), reading the run's history by the clock: epoch k appears
when the recorded seconds of epochs 1..k have passed (divided by `speed`), and the batch points of an
epoch spread over its seconds. Every snapshot says it is a replay (`JobSnapshot.replay`): nothing
trains, and the page says so.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np

from mnist_dash.jobs.limits import REPLAY_ENV
from mnist_dash.jobs.snapshot import JobSnapshot, JobStatus
from mnist_dash.runs.records import RunInfo

SPEEDS = (1, 2, 5, 10)  # as recorded, or this many times faster
OFFERED_AT = ("replay", "max_queue")  # the refusals (`admission.Refusal.limit`) that offer a replay instead
_numbers = itertools.count(1)
__all__ = ["OFFERED_AT", "REPLAY_ENV", "SPEEDS", "Replay", "offers_replay", "same_design"]


def offers_replay(refusals) -> bool:
    """Whether these refusals are the server declining to train (replay mode, a full queue): a replay helps."""
    return any(refusal.limit in OFFERED_AT for refusal in refusals)


def same_design(runs: list[RunInfo], spec) -> list[RunInfo]:
    """The finished runs of `spec`'s design (any seed or name), the best first: what a replay may show."""
    design = spec.replace(seed=0, name="").design_key()
    found = [
        run for run in runs if run.status == "finished" and run.spec.replace(seed=0, name="").design_key() == design
    ]
    return sorted(found, key=lambda run: -(run.test_accuracy or 0.0))


class Replay:
    """A finished stored run played back, with the part of `TrainingJob`'s interface the pages use."""

    def __init__(self, info: RunInfo, history: dict, speed: float = 1.0, clock=time.monotonic):
        self.info, self.spec, self.speed, self._clock = info, info.spec, float(speed), clock
        self.job_id = f"replay-{next(_numbers)}-{info.run_id}"
        self._whole = JobSnapshot.of_run(self.job_id, info, history)
        seconds = [float(epoch.get("seconds", 0.0)) or 1.0 for epoch in self._whole.history]
        self._ends = np.cumsum(seconds)  # when each epoch ended, in recorded seconds
        self._started = clock()
        self._stopped_at: float | None = None
        whose = f"{info.owner_name}'s run" if info.owner_name else "a stored run"
        pace = "at the pace it was recorded" if self.speed == 1 else f"{self.speed:g} times faster than recorded"
        self.about = f"a replay of {whose} of {info.created[:16].replace('T', ' ')} UTC, {pace}"

    def _played(self) -> float:
        """Recorded seconds played so far."""
        now = self._clock() if self._stopped_at is None else self._stopped_at
        return (now - self._started) * self.speed

    @property
    def total(self) -> float:
        return float(self._ends[-1]) if len(self._ends) else 0.0

    @property
    def done(self) -> bool:
        return self._stopped_at is not None or self._played() >= self.total

    def stop(self, reason: str = "") -> None:
        if self._stopped_at is None:
            self._stopped_at = self._clock()

    def remaining_seconds(self) -> float:
        return 0.0 if self.done else (self.total - self._played()) / self.speed

    def latest_weights(self) -> None:
        return None  # Draw and Weights read the stored run itself (its final and per-epoch weights)

    def weight_history(self) -> None:
        return None

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        return self.snapshot()

    def snapshot(self) -> JobSnapshot:
        played, whole = self._played(), self._whole
        if played >= self.total:
            return replace(whole, replay=self.about, elapsed=self.total)
        epochs = int(np.searchsorted(self._ends, played, side="right"))
        begun = float(self._ends[epochs - 1]) if epochs else 0.0
        length = float(self._ends[epochs] - begun)
        position = epochs + (played - begun) / length  # in epochs, as the batch points count them
        batches = tuple(point for point in whole.batch_history if float(point.get("epoch", 0.0)) <= position)
        status = JobStatus.STOPPED if self._stopped_at is not None else JobStatus.RUNNING
        return replace(
            whole,
            status=status,
            epoch=epochs,
            batch=0,
            history=whole.history[:epochs],
            batch_history=batches,
            elapsed=played,
            test_loss=None,
            test_accuracy=None,
            run_id=None,
            phase="replaying" if status == JobStatus.RUNNING else "",
            eta=None if status == JobStatus.STOPPED else (self.total - played) / self.speed,
            reason="you stopped the replay" if status == JobStatus.STOPPED else "",
            replay=self.about,
        )
