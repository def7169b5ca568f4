"""The contract every runner keeps, as `concurrent.futures` has one for its executors.

A `TrainingJob` hands its runner one frozen `TrainRequest` (the spec, the data, where to
store the run, whose it is, the limits it was admitted under), a `LiveMirror` to report to
and a stop event; the runner trains, stores the run and returns a `JobResult`, or raises
one of the failure types below (`JobFailed` and its kinds). A runner is an object that
satisfies `Runner`; nothing switches on which one it is (`mnist_dash.jobs.runners`).

What crosses from a runner to the server while a job trains is one typed `Progress` at a
time. Every runner reports the same way: the thread runner hands each `Progress` straight to
the job's `LiveMirror`, the worker process sends it over its pipe, a Ray task through its
hub actor, and the mirror is what `TrainingJob.snapshot()` reads. A `Progress` carries
only what is new since the last one (batch points, finished epochs), plus the state that
replaces the old (step counts, weight snapshots, the newest weights). The last one of a job carries its
`JobResult`, or the reason it failed. An empty one is a heartbeat: the runner is alive.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mnist_dash.data import fingerprint
from mnist_dash.owners import LOCAL, Owner
from mnist_dash.spec import ModelSpec
from mnist_dash.weights import WeightHistory

if TYPE_CHECKING:
    from mnist_dash.data import Mnist
    from mnist_dash.jobs.limits import Limits

# Why a job stopped before its first epoch ended has no run (said the same by every runner).
NOTHING_TO_SAVE = "it stopped before its first epoch ended, so there was nothing to save"
# A process that trains job after job grows by about 15 MB a job (TensorFlow's caches), so after this
# many jobs it retires and the next job starts a fresh one (a few seconds to load Keras): worker
# processes and Ray's workers alike.
RETIRE_AFTER = 20


class JobFailed(RuntimeError):
    """Training could not complete; the message is for people (what happened, what to do)."""


class WorkerDied(JobFailed):
    """The process training the job ended without finishing it."""


class WorkerHung(JobFailed):
    """The process training the job stopped answering and was ended; `after_stop` when it was asked to stop."""

    def __init__(self, message: str, after_stop: bool):
        super().__init__(message)
        self.after_stop = after_stop


@dataclass(frozen=True)
class TrainRequest:
    """Everything a runner needs to train one job, and nothing of the job itself."""

    job_id: str  # unique in this server
    spec: ModelSpec
    data: Mnist
    store: object | None = None  # the RunStore to save the run to (None: not saved)
    marker: str | None = None  # the store's in-progress marker, removed with the save
    owner: Owner = LOCAL  # whose run it will be
    limits: Limits | None = None  # the limits it was admitted under, checked again where it trains


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
    spooled: bool = False  # the database did not answer: the run waits on the server's disk (`runs.spool`)


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
    phase: str | None = None  # what the job is doing besides an epoch: "loading the data", "preparing the model"...
    slice_end: bool = False  # the runner's slice ended: the job waits for its next turn
    result: JobResult | None = None  # the job ended
    error: str = ""  # the job failed: what happened, for people

    @property
    def final(self) -> bool:
        return self.result is not None or bool(self.error)


class Turns(Protocol):
    """The job's side of slicing, handed to a runner that trains in slices (`Runner.sliced`)."""

    def between_slices(self) -> bool:
        """After each slice: give the slot back, wait for this job's next turn, and say whether to go on
        (False: Stop came while it waited; the runner then ends the job, keeping its finished epochs)."""
        ...


@runtime_checkable
class Runner(Protocol):
    """A way to train jobs: on a thread, in a worker process, on a Ray cluster (`mnist_dash.jobs.runners`)."""

    name: str  # for people and logs ("thread", "process", "ray"), never to decide anything by
    sliced: bool  # trains a job an epoch at a time, asking `turns` between epochs (False: straight through)

    def train(self, request: TrainRequest, mirror: LiveMirror, stop: threading.Event, turns: Turns) -> JobResult:
        """Train and store `request`'s run, reporting each `Progress` to `mirror`; stop within a call into the
        backend once `stop` is set. Returns how it ended, or raises JobFailed (or a kind of it) with the reason."""
        ...

    def slots(self) -> int:
        """How many jobs may train at once now (the queue asks before each start)."""
        ...

    def warm_up(self, slots: int) -> None:
        """Get ready for up to `slots` jobs (start a worker that loads Keras), so a first Start is quick."""
        ...


class LiveMirror:
    """The server's copy of a training job's live state, built from its `Progress` reports."""

    def __init__(self):
        self.lock = threading.Lock()
        self.epochs: list[dict] = []
        self.batches: list[dict] = []
        self.epoch = self.batch = self.steps = 0
        self.weights = WeightHistory()
        self.latest_weights: tuple[int, list] | None = None
        self.phase = "starting"  # what it is doing besides an epoch, as the runner last said
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
            if news.phase is not None:
                self.phase = news.phase

    def save_as_stopped(self, request: TrainRequest, reason: str = "") -> JobResult:
        """Store what the server holds of the job as a stopped run: its finished epochs, their curves and
        snapshots, and the weights after the last of them (arrays: no Keras here).

        For a job stopped while it waited for its next turn (its model is in a worker busy with
        another job), and for one whose worker died.
        """
        with self.lock:
            history, batches = list(self.epochs), list(self.batches)
            weights, latest = self.weights, self.latest_weights
        seconds = tuple(record["seconds"] for record in history)
        if not history or latest is None or latest[0] != len(history):
            return JobResult("stopped", reason=reason or NOTHING_TO_SAVE, epoch_seconds=seconds)
        run_id = None
        if request.store is not None:
            run_id = request.store.save(
                spec=request.spec,
                status="stopped",
                history=history,
                batch_history=batches,
                weights=weights,
                model=list(latest[1]),
                marker=request.marker,
                data_fingerprint=fingerprint(request.data),
                owner=request.owner,
            )
        return JobResult("stopped", reason=reason, run_id=run_id, epoch_seconds=seconds)
