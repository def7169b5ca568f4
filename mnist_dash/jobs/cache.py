"""A stored run standing in for a training job: the result cache's answer to pressing Train.

The same design, seed and data train to the same run, so when the store already holds
one (`RunStore.cached_run`), a session can take it instead of training again. It
behaves like a `TrainingJob` that has just finished, so every page shows it as one.
"""

from __future__ import annotations

from mnist_dash.jobs.snapshot import JobSnapshot
from mnist_dash.runs.records import RunInfo


class CachedRun:
    """A finished stored run, with the part of `TrainingJob`'s interface the pages use."""

    done = True

    def __init__(self, info: RunInfo, history: dict):
        self.info = info
        self.spec = info.spec
        self.job_id = f"cached-{info.run_id}"
        self._snapshot = JobSnapshot.of_run(self.job_id, info, history)

    @classmethod
    def from_store(cls, store, info: RunInfo) -> CachedRun:
        return cls(info, store.history(info.run_id))

    def snapshot(self) -> JobSnapshot:
        return self._snapshot

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        return self._snapshot

    def stop(self, reason: str = "") -> None:
        """Nothing to stop: it finished long ago."""

    def remaining_seconds(self) -> float:
        return 0.0

    def latest_weights(self) -> None:
        return None  # the live per-epoch weights are a training job's; the stored model has the final ones

    def weight_history(self) -> None:
        return None
