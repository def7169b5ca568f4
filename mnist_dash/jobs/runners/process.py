"""The process runner: training in a process of its own, so the web server's Python stays free for the pages.

On a thread of the Streamlit server, a training job shares one interpreter lock with
every page the server draws: while a class watched its curves, epochs took two to ten
times longer and the server answered slowly. A worker is a separate Python process
(started with `spawn`, never `fork`: TensorFlow's threads do not survive a fork) that
imports Keras once and then holds the jobs given to it, training one slice (an epoch) at
a time as the queue's turns say (`process_child`); a job's state stays in its worker
between its turns. Its news comes back over a pipe as `Progress` objects, which a reader
thread hands to each job's `LiveMirror` for `TrainingJob.snapshot()`; a stop order travels
the other way and reaches the job at once. The worker saves the run itself (it holds the
model); a job stopped while it waits for a turn is stored by the server from what it
holds (`LiveMirror.save_as_stopped`), without waiting for a worker busy with another job.

The worker beats (an empty `Progress`) every second while it works. A worker that dies
fails its job with the reason (a job that had finished an epoch is stored as stopped
after it); one that stops answering (no beat for `HEARTBEAT_TIMEOUT` seconds), or that
has not ended its job `STOP_GRACE` seconds after a stop order, is killed, its job ended
with the reason, and the next job gets a fresh worker. If the server dies, the worker
finds its pipe closed, stores what it holds as stopped runs, and exits.

The app's runner on one machine: `MNIST_DASH_MAX_JOBS` (default 1) jobs train at once, and
as many workers at most.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
import sys
import threading
import time
import types
from collections.abc import Mapping

from mnist_dash.data import fingerprint
from mnist_dash.jobs.contract import (
    RETIRE_AFTER,
    JobFailed,
    JobResult,
    LiveMirror,
    TrainRequest,
    Turns,
    WorkerDied,
    WorkerHung,
)
from mnist_dash.jobs.runners.process_child import ForgetOrder, LoadData, SliceOrder, StopOrder, TrainOrder, serve

_CONTEXT = multiprocessing.get_context("spawn")
HEARTBEAT_TIMEOUT = 60.0  # seconds without a word from a training worker before it counts as hung
STOP_GRACE = 30.0  # seconds a worker has, after a stop order, to end its job (16 batches, then saving)
MAX_JOBS_ENV = "MNIST_DASH_MAX_JOBS"


def max_jobs_from_env(environ: Mapping[str, str] | None = None) -> int:
    """`MNIST_DASH_MAX_JOBS` as a whole number ≥ 1 (default 1)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(MAX_JOBS_ENV, "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_JOBS_ENV} must be a whole number of at least 1, got {raw!r:.40}")
    return int(raw)


@contextlib.contextmanager
def _without_main_module():
    """Start a process without the parent's `__main__` in it.

    `spawn` runs the parent's main module again in the child. Under `streamlit run` that is
    the app's own script (Streamlit runs it as `__main__`): the worker drew the whole app
    once, without a page, and printed dozens of "missing ScriptRunContext!" warnings into
    the terminal of whoever started the app. The worker needs none of it.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to re-run
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


_DIED = object()  # what a job's channel gets when its worker's pipe closes


class Worker:
    """One training process, the server's end of its pipe, and a reader thread that sorts its news by job."""

    def __init__(self):
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=serve, args=(child,), name="mnist-dash-worker", daemon=True)
        with _without_main_module():
            self.process.start()
        child.close()
        self.pid = self.process.pid
        self.data_key: str | None = None
        self.trained = 0  # jobs given to it so far (it retires after RETIRE_AFTER)
        self.heard = time.monotonic()  # when it last said anything (a beat while it works)
        self._numbers = itertools.count(1)  # numbers its jobs, so a late word never reaches another job
        self._channels: dict[int, queue.Queue] = {}
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, name="mnist-dash-worker-reader", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    @property
    def holds(self) -> int:
        """How many jobs it holds now (training, or waiting for a turn)."""
        with self._lock:
            return len(self._channels)

    def open(self) -> tuple[int, queue.Queue]:
        """A new job's number in this worker and the channel its news arrive on."""
        with self._lock:
            number = next(self._numbers)
            self._channels[number] = queue.Queue()
            self.trained += 1
            return number, self._channels[number]

    def close_job(self, number: int) -> None:
        with self._lock:
            self._channels.pop(number, None)

    def send(self, order) -> None:
        try:
            with self._send_lock:
                self.conn.send(order)
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise WorkerDied(self.death()) from None

    def send_data(self, data) -> str:
        key = fingerprint(data)
        with self._lock:
            needed, self.data_key = key != self.data_key, key
        if needed:  # the arrays cross once per worker, not once per job
            self.send(LoadData(key, data))
        return key

    def _read(self) -> None:
        while True:
            try:
                news = self.conn.recv()
            except (EOFError, OSError, TypeError):  # TypeError: this end was closed while it read
                with self._lock:
                    channels = list(self._channels.values())
                for channel in channels:
                    channel.put(_DIED)
                return
            self.heard = time.monotonic()
            with self._lock:
                channel = self._channels.get(news.job)
            if channel is not None:  # else a late word about a job that has ended
                channel.put(news)

    def close(self) -> None:
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def death(self) -> str:
        self.process.join(1)
        return (
            f"the training process stopped unexpectedly (exit code {self.process.exitcode}; out of memory?). "
            "The app is fine: train again, or try a smaller design"
        )

    def follow(self, number: int, channel: queue.Queue, mirror: LiveMirror, stop: threading.Event):
        """The job's news until its slice ends (None) or the job does (its JobResult); Stop sent as it comes."""
        stop_sent: float | None = None
        while True:
            if stop.is_set() and stop_sent is None:
                self.send(StopOrder(number))
                stop_sent = time.monotonic()
            try:
                news = channel.get(timeout=0.05)
            except queue.Empty:
                now = time.monotonic()
                if not self.alive:
                    raise WorkerDied(self.death()) from None
                if stop_sent is not None and now - stop_sent > STOP_GRACE:
                    self.kill()
                    raise WorkerHung(
                        f"the training process did not stop within {STOP_GRACE:.0f} s of Stop, so it was ended "
                        "(the run was not saved)",
                        after_stop=True,
                    ) from None
                if now - self.heard > HEARTBEAT_TIMEOUT:
                    self.kill()
                    raise WorkerHung(
                        f"the training process stopped answering for {HEARTBEAT_TIMEOUT:.0f} s, so it was ended and "
                        "a fresh one takes the next job. The app is fine: train again",
                        after_stop=False,
                    ) from None
                continue
            if news is _DIED:
                raise WorkerDied(self.death())
            if news.error:
                raise JobFailed(news.error)
            mirror.apply(news)
            if news.result is not None:
                return news.result
            if news.slice_end:
                return None


RETIRE_AFTER_AT_MOST = 3 * RETIRE_AFTER  # a worker that never empties retires anyway, after this many jobs


def _takes_new_jobs(worker: Worker) -> bool:
    """Whether a new job may go to `worker`: before its share of jobs, or while it holds paused ones."""
    return worker.trained < RETIRE_AFTER or (worker.holds > 0 and worker.trained < RETIRE_AFTER_AT_MOST)


class ProcessRunner:
    """Trains jobs in worker processes: never more workers than `slots`, each reused, a job an epoch a turn.

    A job stays in the worker it began in (its state is there); a new job goes to the worker
    holding the fewest, or to a new one while there are fewer than `slots`. A worker that died
    or hung is dropped, not reused, and one that took `RETIRE_AFTER` jobs retires once it
    holds none. Until then it takes new jobs too (up to `RETIRE_AFTER_AT_MOST`): a second
    worker beside one that still holds paused jobs would double the memory of training (about
    1 GB each) on a 2.7 GB box; in a lesson the 21st student's job started one.
    """

    name = "process"
    sliced = True
    SETTINGS = (MAX_JOBS_ENV,)

    def __init__(self, slots: int = 1):
        self._slots = slots
        self._workers: list[Worker] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, environ: Mapping[str, str]) -> ProcessRunner:
        return cls(max_jobs_from_env(environ))

    def slots(self) -> int:
        return self._slots

    @property
    def _idle(self) -> list[Worker]:
        """The live workers that hold no job (tests look at the pool through it)."""
        with self._lock:
            return [worker for worker in self._workers if worker.alive and not worker.holds]

    def _worker_for_new_job(self) -> Worker:
        with self._lock:
            self._workers = [worker for worker in self._workers if worker.alive]
            usable = [worker for worker in self._workers if _takes_new_jobs(worker)]
            idle = [worker for worker in usable if not worker.holds]
            if idle:
                return idle[0]
            if usable and len(self._workers) >= self._slots:
                return min(usable, key=lambda worker: worker.holds)
            worker = Worker()  # room for one more; or every worker retires: one more than slots, for a while
            self._workers.append(worker)
            return worker

    def _release(self, worker: Worker, number: int) -> None:
        worker.close_job(number)
        if worker.trained >= RETIRE_AFTER and not worker.holds:
            with self._lock:
                if worker in self._workers:
                    self._workers.remove(worker)
            worker.close()

    def train(self, request: TrainRequest, mirror: LiveMirror, stop: threading.Event, turns: Turns) -> JobResult:
        """Train `request` in its worker, a slice a turn, mirroring its progress; see the module docstring."""
        worker = self._worker_for_new_job()
        number, channel = worker.open()
        mirror.pid = worker.pid
        try:
            key = worker.send_data(request.data)
            store_url = request.store.url if request.store is not None else None
            fields = (request.job_id, request.spec, key, store_url, request.marker, request.owner, request.limits)
            worker.send(TrainOrder(number, *fields))
            while True:
                worker.send(SliceOrder(number, 1))
                result = worker.follow(number, channel, mirror, stop)
                if result is not None:
                    return result
                if not turns.between_slices():  # Stop while it waited: the server stores what it holds
                    worker.send(ForgetOrder(number))
                    return mirror.save_as_stopped(request)
        except WorkerDied as died:  # the epochs it finished are in the mirror: kept as a stopped run
            if mirror.epochs:
                return mirror.save_as_stopped(request, reason=f"{died}; the run was saved after its last epoch")
            raise
        except BaseException:
            if not worker.alive:
                with self._lock:
                    self._workers = [w for w in self._workers if w is not worker]
            raise
        finally:
            self._release(worker, number)

    def warm_up(self, slots: int) -> None:
        """Start a worker now if none is idle and fewer than `slots` exist, so a job need not wait for Keras.

        Never more workers than slots: each holds Keras and a copy of MNIST (about 850 MB).
        """
        with self._lock:
            self._workers = [w for w in self._workers if w.alive]
            if len(self._workers) < slots and not any(not w.holds for w in self._workers):
                self._workers.append(Worker())

    def shutdown(self) -> None:
        """Close the workers that hold no job (the others close as their jobs end)."""
        with self._lock:
            idle = [w for w in self._workers if not w.holds]
            self._workers = [w for w in self._workers if w.holds]
        for worker in idle:
            worker.close()
