"""Training jobs: `fit` on a background thread, a thread-safe snapshot, stop, and a queue.

A page (or the CLI) starts a `TrainingJob` and polls `snapshot()`; the thread never
touches the page. The process-wide limiter (`mnist_dash.limiter`) lets at most
`MNIST_DASH_MAX_JOBS` jobs (default 1) train at once; the others wait in order and
know their queue position.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from mnist_dash.data import Mnist
from mnist_dash.limiter import JobLimiter, default_limiter
from mnist_dash.pace import PACE
from mnist_dash.runs import StoreWriteError
from mnist_dash.spec import ModelSpec, check
from mnist_dash.weights import WeightHistory


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    DIVERGED = "diverged"  # the loss became NaN or infinite; `error` says where and how to fix it

    @property
    def ended(self) -> bool:
        """Whether a job with this status is over (finished, stopped, failed or diverged)."""
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state at one moment."""

    job_id: str
    spec: ModelSpec
    status: JobStatus
    queue_position: int  # 1-based while queued, else 0
    epoch: int  # epochs completed
    batch: int  # batches done in the epoch in progress
    batches_per_epoch: int
    history: tuple[dict, ...]
    batch_history: tuple[dict, ...]
    elapsed: float  # seconds since training began (0 while queued)
    error: str = ""
    test_loss: float | None = None
    test_accuracy: float | None = None
    run_id: str | None = None
    wait: float | None = None  # while queued: about how many seconds until it starts

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
        if self.status == JobStatus.RUNNING:
            return f"running epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs}"
        if self.status == JobStatus.STOPPED:
            return f"stopped after {self.epoch} of {self.spec.epochs} epochs"
        if self.status == JobStatus.DIVERGED:
            return f"diverged in epoch {min(self.epoch + 1, self.spec.epochs)} of {self.spec.epochs}"
        return str(self.status)

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far; None until there is a pace to go by."""
        if self.status != JobStatus.RUNNING or self.progress <= 0:
            return None
        return self.elapsed * (1 - self.progress) / self.progress


log = logging.getLogger(__name__)
RUNNERS = ("thread", "process")


class JobFailed(RuntimeError):
    """Training could not complete; the message is for people (what happened, what to do)."""


_job_numbers = itertools.count(1)


class TrainingJob:
    """Trains `spec` on `data` in a background thread; call `start()`, then poll `snapshot()`.

    Args:
        spec: a valid ModelSpec (raises SpecError otherwise).
        data: the MNIST arrays; split by `spec.validation`.
        store: a RunStore to save the run to when training ends (finished or stopped).
        limiter: the concurrency limit to queue on; the process-wide one by default.
        callbacks: more Keras callbacks for `fit`, called after the live history's (thread runner only).
        runner: "thread" trains on the job's thread in this process (the CLI, tests); "process"
            trains in a worker process (`mnist_dash.worker`) so this one stays responsive (the app).
    """

    def __init__(
        self,
        spec: ModelSpec,
        data: Mnist,
        store=None,
        limiter: JobLimiter | None = None,
        callbacks=(),
        runner: str = "thread",
    ):
        if runner not in RUNNERS:
            raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}")
        if runner == "process" and callbacks:
            raise ValueError("Keras callbacks cannot travel to a worker process: use runner='thread'")
        self.spec = check(spec)
        self.runner = runner
        self.data = data
        self.store = store
        self.limiter = limiter or default_limiter()
        self.callbacks = tuple(callbacks)
        self.job_id = f"job-{next(_job_numbers)}"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._status = JobStatus.QUEUED
        self._live = None
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self._result: dict = {}
        self._thread = threading.Thread(target=self._run, name=f"mnist-dash-{self.job_id}", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the job to stop; it takes effect before the next batch (or leaves the queue)."""
        self._stop.set()
        self.limiter.wake()

    @property
    def done(self) -> bool:
        """Whether the job has ended (see `JobStatus.ended`), without copying its history."""
        with self._lock:
            return self._status.ended

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job ends (or `timeout` passes); returns the latest snapshot."""
        self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self) -> JobSnapshot:
        live = self._live
        with self._lock:
            status, result = self._status, dict(self._result)
            started, finished = self._started_at, self._finished_at
        if live is not None:
            with live.lock:
                history, batches = tuple(live.epochs), tuple(live.batches)
            epoch, batch, steps = len(history), live.batch, live.steps
        else:
            history, batches, epoch, batch, steps = (), (), 0, 0, 0
        elapsed = ((finished or time.perf_counter()) - started) if started else 0.0
        queued = status == JobStatus.QUEUED
        return JobSnapshot(
            job_id=self.job_id,
            spec=self.spec,
            status=status,
            queue_position=self.limiter.position(self.job_id) if queued else 0,
            wait=self.limiter.wait_estimate(self.job_id) if queued else None,
            epoch=epoch,
            batch=batch if status == JobStatus.RUNNING else 0,
            batches_per_epoch=steps,
            history=history,
            batch_history=batches,
            elapsed=elapsed,
            **result,
        )

    def remaining_seconds(self) -> float:
        """About how long the job still needs: its pace so far while it trains, else the estimate."""
        with self._lock:
            status, started = self._status, self._started_at
        if status.ended:
            return 0.0
        expected = PACE.job_seconds(self.spec)
        live = self._live
        if status != JobStatus.RUNNING or live is None or not live.steps:
            return expected
        done = (len(live.epochs) + live.batch / live.steps) / self.spec.epochs
        elapsed = time.perf_counter() - started
        return elapsed * (1 - done) / done if done > 0.05 else max(0.0, expected - elapsed)

    def weight_history(self) -> WeightHistory | None:
        """A copy of the weight snapshots so far; None before training starts."""
        live = self._live
        if live is None:
            return None
        with live.lock:
            return live.weights.history.copy()

    def latest_weights(self) -> tuple[int, list] | None:
        """(epoch, the model's weights after it) for the newest finished epoch; None before the first."""
        live = self._live
        if live is None:
            return None
        with live.lock:
            return live.latest_weights

    def _release_model(self) -> None:
        """Let the trained model go: it is saved, and a session may keep its job (history, weights) for hours."""
        if self.runner == "thread":  # a worker's model stays in the worker, which starts each job afresh
            for callback in (self._live, *self.callbacks):
                if callback is not None:
                    callback.set_model(None)

    def _set(self, status: JobStatus | None = None, **result) -> None:
        with self._lock:
            if status is not None:
                self._status = status
            self._result.update(result)

    def _run(self) -> None:
        if not self.limiter.acquire(self.job_id, self._stop, remaining=self.remaining_seconds):
            self._set(JobStatus.STOPPED)
            return
        marker = None
        try:
            if self.store is not None:  # Before training: a full disk is better said now than after it.
                marker = self.store.begin_training(self.spec)
            self._train(marker)
        except (StoreWriteError, JobFailed) as error:  # Its message says what happened and how to fix it.
            log.warning("job %s (%s): %s", self.job_id, self.spec.name or "unnamed", error)
            self._set(JobStatus.FAILED, error=str(error))
        except Exception as error:  # A failure ends as `failed` with its message, never a dead thread.
            log.exception("job %s (%s) failed", self.job_id, self.spec.name or "unnamed")  # the server log keeps why
            self._set(JobStatus.FAILED, error=f"{type(error).__name__}: {error}")
        finally:
            if marker is not None:
                self.store.end_training(marker)
            self._release_model()
            with self._lock:
                self._finished_at = time.perf_counter()
            self.limiter.release(self.job_id)

    def _train(self, marker: str | None) -> None:
        if self.runner == "process":
            from mnist_dash import worker  # Keras loads in the worker process, never in this one.

            live = worker.LiveMirror()
            with self._lock:
                self._live, self._status, self._started_at = live, JobStatus.RUNNING, time.perf_counter()
            result = worker.run_job(self.spec, self.data, live, self._stop, store=self.store, marker=marker)
        else:
            from mnist_dash import training, training_run  # Keras loads here, on the job's thread.

            live = training.LiveHistory(self._stop, seed=self.spec.seed)
            with self._lock:
                self._live, self._status, self._started_at = live, JobStatus.RUNNING, time.perf_counter()
            result = training_run.train_and_save(self.spec, self.data, live, self.store, marker, self.callbacks)
        if result["epoch_seconds"]:  # what an epoch of this design really took here: better waits for the next
            PACE.record(self.spec, statistics.median(result["epoch_seconds"]))
        status = JobStatus(result.pop("status"))
        result.pop("epoch_seconds")
        self._set(status, **result)
