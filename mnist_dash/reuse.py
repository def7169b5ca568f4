"""A stored run standing in for a training job: the result cache's answer to pressing Train.

The same design, seed and data train to the same run, so when the store already holds
one (`RunStore.find_same`), a session can take it instead of training again. It
behaves like a `TrainingJob` that has just finished, so every page shows it as one.
"""

from __future__ import annotations

from mnist_dash.jobs import JobSnapshot, JobStatus
from mnist_dash.run_records import RunInfo


class ReusedRun:
    """A finished stored run, with the part of `TrainingJob`'s interface the pages use."""

    done = True

    def __init__(self, info: RunInfo, history: dict):
        self.info = info
        self.spec = info.spec
        self.job_id = f"reused-{info.run_id}"
        self._history = tuple(history.get("epochs", ()))
        self._batches = tuple(history.get("batches", ()))

    @classmethod
    def from_store(cls, store, info: RunInfo) -> ReusedRun:
        return cls(info, store.history(info.run_id))

    def snapshot(self) -> JobSnapshot:
        return JobSnapshot(
            job_id=self.job_id,
            spec=self.spec,
            status=JobStatus(self.info.status),
            queue_position=0,
            epoch=len(self._history),
            batch=0,
            batches_per_epoch=0,
            history=self._history,
            batch_history=self._batches,
            elapsed=sum(self.info.epoch_seconds),
            test_loss=self.info.test_loss,
            test_accuracy=self.info.test_accuracy,
            run_id=self.info.run_id,
        )

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        return self.snapshot()

    def stop(self) -> None:
        """Nothing to stop: it finished long ago."""

    def remaining_seconds(self) -> float:
        return 0.0

    def latest_weights(self) -> None:
        return None  # the live per-epoch weights are a training job's; the stored model has the final ones

    def weight_history(self) -> None:
        return None
