"""A training job: queued, trained by a runner in turns, ended; a consistent snapshot of it at any moment.

A page (or the CLI) starts a `TrainingJob` and polls `snapshot()`; the job's thread
never touches the page. `start()` enters the job in the class's queue, which refuses it
(JobRefused, with the reasons) beyond a limit; the thread then waits for its turn and
hands a `TrainRequest` to the runner object it was given (`mnist_dash.jobs.runners`: this
thread, a worker process, a Ray cluster). A runner that trains in slices (an epoch each)
calls the job back between them (`between_slices`): the job gives its slot to whoever the
queue says goes next and waits, WAITING, for its next turn. Every way, the runner's news
arrives as `Progress` objects in one `LiveMirror`, which is all `snapshot()` reads.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import threading
import time

from mnist_dash.data import Mnist
from mnist_dash.jobs.contract import JobFailed, JobResult, LiveMirror, Runner, TrainRequest, WorkerHung
from mnist_dash.jobs.limits import ENV_NAMES, Limits
from mnist_dash.jobs.pace import PACE
from mnist_dash.jobs.queue import JobQueue, default_queue
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.jobs.snapshot import JobSnapshot, JobStatus
from mnist_dash.owners import LOCAL, Owner
from mnist_dash.runs import StoreWriteError
from mnist_dash.spec import ModelSpec, check
from mnist_dash.weights import WeightHistory

log = logging.getLogger(__name__)
_job_numbers = itertools.count(1)


def time_limit_reason(seconds: int) -> str:
    minutes = f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
    return (
        f"it trained for {minutes}, the longest a job may train on this server ({ENV_NAMES['job_seconds']}), "
        "so it was stopped"
    )


class TrainingJob:
    """Trains `spec` on `data` in the background; call `start()`, then poll `snapshot()`.

    Args:
        spec: a valid ModelSpec (raises SpecError otherwise).
        data: the MNIST arrays; split by `spec.validation`.
        store: a RunStore to save the run to when training ends (finished, or stopped after an epoch).
        queue: the queue to wait in; the process-wide one by default.
        runner: what trains it (a `Runner`): a `ThreadRunner` on the job's own thread by default (the CLI,
            tests); the app's is `runners.app_runner()` (a worker process, or a Ray cluster).
        owner: who the job and its run belong to; limits are counted per owner.
        limits: the server's limits (the app); None for none (the CLI, on the user's own machine).
    """

    def __init__(
        self,
        spec: ModelSpec,
        data: Mnist,
        store=None,
        queue: JobQueue | None = None,
        runner: Runner | None = None,
        owner: Owner = LOCAL,
        limits: Limits | None = None,
    ):
        if runner is not None and not isinstance(runner, Runner):
            raise TypeError(f"runner must be a Runner (see mnist_dash.jobs.runners), got {runner!r:.60}")
        self.spec = check(spec)
        self.runner = runner or ThreadRunner()
        self.data = data
        self.store = store
        self.queue = queue or default_queue()
        self.owner = owner
        self.limits = limits
        self.job_id = f"job-{next(_job_numbers)}"
        self.created = time.time()  # wall clock: which lesson it belongs to (the Teacher page's window)
        self.marker: str | None = None  # the store's in-progress marker while it trains
        self.in_line: str | None = None  # its marker while it waits for its first turn (a restart tells its owner)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._status = JobStatus.QUEUED
        self._live = LiveMirror()
        self._trained = 0.0  # seconds it held a slot in the turns that ended
        self._turn_started: float | None = None  # when its turn in progress began
        self._limit_timer: threading.Timer | None = None
        self._result = JobResult("queued")
        self._failure = ""
        self._reason = ""  # why it stopped or left the line, when it was not the owner's Stop
        self._thread = threading.Thread(target=self._run, name=f"mnist-dash-{self.job_id}", daemon=True)

    def start(self) -> TrainingJob:
        """Enter the queue and begin; JobRefused (nothing started) when the limits say no."""
        stored = self.store.count_owned(self.owner.key) if self.store is not None and self.limits else 0
        self.queue.enter(self, self.limits, stored_runs=stored)
        if self.store is not None:
            self.in_line = self.store.mark_in_line(self.spec, self.owner)
        self._thread.start()
        return self

    def stop(self, reason: str = "") -> None:
        """Ask the job to stop within a call into the backend, during its set-up, or while it waits for a turn
        (it then leaves the line, or ends with its finished epochs stored); `reason` when it is not the owner."""
        with self._lock:
            if reason and not self._stop.is_set():
                self._reason = reason
        self._stop.set()
        self.queue.wake()

    @property
    def done(self) -> bool:
        """Whether the job has ended (see `JobStatus.ended`), without copying its history."""
        with self._lock:
            return self._status.ended

    @property
    def epochs_done(self) -> int:
        """How many epochs it has finished (the queue's turn order asks: first epochs go first)."""
        with self._live.lock:
            return len(self._live.epochs)

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job ends (or `timeout` passes); returns the latest snapshot."""
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            status, result, failure, reason = self._status, self._result, self._failure, self._reason
        live = self._live
        with live.lock:
            history, batches, batch, steps = tuple(live.epochs), tuple(live.batches), live.batch, live.steps
            phase = live.phase
        in_line = status in (JobStatus.QUEUED, JobStatus.WAITING)
        return JobSnapshot(
            job_id=self.job_id,
            spec=self.spec,
            status=status,
            queue_position=self.queue.position(self.job_id) if in_line else 0,
            wait=self.queue.wait_estimate(self.job_id) if in_line else None,
            epoch=len(history),
            batch=batch if status == JobStatus.RUNNING else 0,
            batches_per_epoch=steps,
            history=history,
            batch_history=batches,
            elapsed=self.trained_seconds(),
            error=failure or result.error,
            reason=reason or result.reason,
            test_loss=result.test_loss,
            test_accuracy=result.test_accuracy,
            run_id=result.run_id,
            spooled=result.spooled,
            owner=self.owner.name,
            phase=phase if status == JobStatus.RUNNING else "",
            eta=None if status.ended or status == JobStatus.QUEUED else self.remaining_seconds(),
        )

    @property
    def status(self) -> JobStatus:
        """Where it stands now, without a whole snapshot (the teacher's lists read many jobs)."""
        with self._lock:
            return self._status

    def trouble(self) -> str:
        """What went wrong, in the words its owner read, once it ended failed, diverged, or stopped by something
        other than its owner's Stop (a limit, the teacher, its pages closed); "" otherwise."""
        with self._lock:
            status, failure, reason = self._status, self._failure or self._result.error, self._reason
        if status == JobStatus.FAILED:
            return f"failed: {failure}"
        if status == JobStatus.DIVERGED:
            return f"diverged: {failure}"
        return f"stopped: {reason}" if status == JobStatus.STOPPED and reason else ""

    def _leave(self) -> None:
        """Out of the queue for good; its trouble, if any, goes on the class roll for the teacher."""
        self.queue.leave(self.job_id)
        self.queue.roll.ended(self.owner.key, self.owner.name, self.trouble())

    def trained_seconds(self) -> float:
        """Seconds it has held a slot (its turns), not counting the waits between them."""
        with self._lock:
            started = self._turn_started
            return self._trained + (time.perf_counter() - started if started is not None else 0.0)

    def remaining_seconds(self) -> float:
        """About how many seconds of training it still needs: this server's measured pace for the design
        (`PACE`, which every finished epoch here corrects), then, once it is a fifth of the way, its own."""
        if self.done:
            return 0.0
        live, expected = self._live, PACE.job_seconds(self.spec)
        with live.lock:
            seconds, batch, steps = [record["seconds"] for record in live.epochs], live.batch, live.steps
        within = batch / steps if steps else 0.0
        done = (len(seconds) + within) / self.spec.epochs
        if done <= 0:
            return expected
        own = sum(seconds) + within * PACE.epoch_seconds(self.spec)
        trust = min(1.0, done / 0.2)  # its own pace takes over gradually, so the waits behind it do not jump
        return trust * own * (1 - done) / done + (1 - trust) * expected * (1 - done)

    def turn_seconds(self) -> float:
        """About how long its next turn (or the rest of this one) holds a slot: an epoch when its runner trains in
        slices, the whole rest of the job when not."""
        if not self.runner.sliced:
            return self.remaining_seconds()
        with self._live.lock:
            batch, steps = self._live.batch, self._live.steps
        epoch = PACE.epoch_seconds(self.spec)
        with self._lock:
            running = self._status == JobStatus.RUNNING
        return epoch * (1 - batch / steps) if running and steps else epoch

    def weight_history(self) -> WeightHistory | None:
        """A copy of the weight snapshots so far; None before training starts."""
        with self._live.lock:
            return self._live.weights.copy() if self._live.weights.epochs else None

    def latest_weights(self) -> tuple[int, list] | None:
        """(epoch, the model's weights after it) for the newest finished epoch; None before the first."""
        with self._live.lock:
            return self._live.latest_weights

    def _set(self, status: JobStatus, result: JobResult | None = None, failure: str = "", reason: str = "") -> None:
        with self._lock:
            self._status = status
            self._result = result or self._result
            self._failure = failure or self._failure
            self._reason = reason or self._reason

    # ---- its turns ----

    def _begin_turn(self) -> None:
        with self._lock:
            self._status, self._turn_started = JobStatus.RUNNING, time.perf_counter()
            trained = self._trained
        if self.limits is not None:  # the time limit counts turns only, never the waits between them
            allowance = max(0.0, self.limits.job_seconds - trained)
            reason = time_limit_reason(self.limits.job_seconds)
            self._limit_timer = threading.Timer(allowance, self.stop, [reason])
            self._limit_timer.daemon = True
            self._limit_timer.start()

    def _end_turn(self) -> None:
        if self._limit_timer is not None:
            self._limit_timer.cancel()
            self._limit_timer = None
        with self._lock:
            if self._turn_started is not None:
                self._trained += time.perf_counter() - self._turn_started
                self._turn_started = None

    def between_slices(self) -> bool:
        """`Turns`: give the slot to the next job in turn and wait for this job's next turn; False if Stop came."""
        self._end_turn()
        if self._stop.is_set():
            return False
        self._set(JobStatus.WAITING)
        self.queue.pause(self.job_id)
        if self.queue.wait_turn(self, self._stop) is not None:
            return False  # stopped while it waited: the runner ends it with the epochs it finished
        self._begin_turn()
        return True

    def _out_of_line(self) -> None:
        """Forget its marker of waiting in line (harmless twice)."""
        if self.in_line is not None:
            self.store.end_training(self.in_line)
            self.in_line = None

    def _run(self) -> None:
        orphan_s = self.limits.orphan_s if self.limits is not None else None
        left = self.queue.wait_turn(self, self._stop, orphan_s)
        if left is not None:  # stopped in line, or its pages were closed
            self._out_of_line()
            self._set(JobStatus.STOPPED, reason=left)
            self._leave()
            return
        try:
            if self.store is not None:  # Before training: a full disk is better said now than after it.
                # Its place in line goes in the same transaction: a restart finds one of the two, never both.
                self.marker = self.store.begin_training(self.spec, self.owner, in_line=self.in_line)
                self.in_line = None
            self._begin_turn()
            request = TrainRequest(self.job_id, self.spec, self.data, self.store, self.marker, self.owner, self.limits)
            result = self.runner.train(request, self._live, self._stop, self)
            if result.epoch_seconds:  # what an epoch of this design really took here: better waits for the next
                PACE.record(self.spec, statistics.median(result.epoch_seconds))
            self._set(JobStatus(result.status), result)
        except WorkerHung as hung:  # killed and replaced; a Stop that hung is still a stop
            if hung.after_stop:
                self._set(JobStatus.STOPPED, reason=str(hung))
            else:
                self._set(JobStatus.FAILED, failure=str(hung))
        except (StoreWriteError, JobFailed) as error:  # Its message says what happened and how to fix it.
            log.warning("job %s (%s): %s", self.job_id, self.spec.name or "unnamed", error)
            self._set(JobStatus.FAILED, failure=str(error))
        except Exception as error:  # A failure ends as `failed` with its message, never a dead thread.
            log.exception("job %s (%s) failed", self.job_id, self.spec.name or "unnamed")  # the server log keeps why
            self._set(JobStatus.FAILED, failure=f"{type(error).__name__}: {error}")
        finally:
            self._out_of_line()
            self._end_turn()
            if self.marker is not None:
                self.store.end_training(self.marker)
            self._leave()
