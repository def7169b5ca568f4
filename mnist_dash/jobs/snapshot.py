"""What a page reads about a job: its status and a consistent copy of its state at one moment.

Built in two places that share this one type: `TrainingJob.snapshot()` for a job that
is live, and `JobSnapshot.of_run` for a stored run standing in for one (the result cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mnist_dash.spec import ModelSpec
from mnist_dash.text import count


class JobStatus(StrEnum):
    QUEUED = "queued"  # in line, not begun
    RUNNING = "running"  # holding a slot: training (or setting up, saying so in `phase`)
    WAITING = "waiting"  # between two turns: it gave its slot to the next job in turn and waits for its next
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    DIVERGED = "diverged"  # the loss became NaN or infinite; `error` says where and how to fix it

    @property
    def ended(self) -> bool:
        """Whether a job with this status is over (finished, stopped, failed or diverged)."""
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING)


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state at one moment."""

    job_id: str
    spec: ModelSpec
    status: JobStatus
    queue_position: int  # 1-based while queued or waiting for its next turn, else 0
    epoch: int  # epochs completed
    batch: int  # batches done in the epoch in progress
    batches_per_epoch: int
    history: tuple[dict, ...]
    batch_history: tuple[dict, ...]
    elapsed: float  # seconds it has trained (its turns; 0 while queued)
    error: str = ""  # failed or diverged: what happened and what to do
    reason: str = ""  # stopped (or left the line) for a reason other than the owner's Stop
    test_loss: float | None = None
    test_accuracy: float | None = None
    run_id: str | None = None
    spooled: bool = False  # saved on the server's disk while the database did not answer; it goes in when it does
    wait: float | None = None  # while queued or waiting: about how many seconds until its (next) turn
    owner: str = ""  # the owner's name, as shown
    phase: str = ""  # while running: what the runner last said it does ("preparing the model", "training"...)
    eta: float | None = None  # about how many seconds of training it still needs; None when not known or over
    replay: str = ""  # a stored run played back (`jobs.replay`), not a training: what it replays, in words

    @classmethod
    def of_run(cls, job_id: str, info, history: dict) -> JobSnapshot:
        """A stored run (`RunInfo` and its saved history) as the snapshot of a job that just ended."""
        epochs = tuple(history.get("epochs", ()))
        return cls(
            job_id=job_id,
            spec=info.spec,
            status=JobStatus(info.status),
            queue_position=0,
            epoch=len(epochs),
            batch=0,
            batches_per_epoch=0,
            history=epochs,
            batch_history=tuple(history.get("batches", ())),
            elapsed=sum(info.epoch_seconds),
            test_loss=info.test_loss,
            test_accuracy=info.test_accuracy,
            run_id=info.run_id,
            owner=info.owner_name or "",
        )

    @property
    def done(self) -> bool:
        return self.status.ended

    @property
    def progress(self) -> float:
        """Share of the planned batches done, 0 to 1."""
        if self.status == JobStatus.FINISHED:
            return 1.0
        within = self.batch / self.batches_per_epoch if self.batches_per_epoch else 0.0
        return min(1.0, (self.epoch + within) / self.spec.epochs)

    @property
    def status_line(self) -> str:
        """The state in a few words: `queued #2`, `running epoch 3 of 20`, `finished`, ..."""
        if self.status == JobStatus.QUEUED:
            return f"queued #{self.queue_position}" if self.queue_position else "queued"
        if self.status == JobStatus.RUNNING and self.replay:
            return f"replaying epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs}"
        if self.status == JobStatus.RUNNING:
            if self.phase.startswith(("testing", "saving")):  # its epochs are over: the test set, the store
                return f"{self.phase} (after epoch {self.epoch} of {self.spec.epochs})"
            if self.phase and self.phase != "training" and not self.batch:
                return f"{self.phase} (epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs} next)"
            return f"running epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs}"
        if self.status == JobStatus.WAITING:
            return f"waiting for its next turn (epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs})"
        if self.status == JobStatus.STOPPED:
            if self.epoch == 0 and not self.batch_history:
                return "left the queue"
            return f"stopped after {self.epoch} of {count(self.spec.epochs, 'epoch')}"
        if self.status == JobStatus.DIVERGED:
            return f"diverged in epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs}"
        return str(self.status)
