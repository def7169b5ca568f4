"""The process runner: training in a process of its own, so the web server's Python stays free for the pages.

On a thread of the Streamlit server, a training job shares one interpreter lock with
every page the server draws: while a class watched its curves, epochs took two to ten
times longer and the server answered slowly. A worker is a separate Python process
(started with `spawn`, never `fork`: TensorFlow's threads do not survive a fork) that
imports Keras once and then trains one job at a time (`process_child`). Its news comes
back over a pipe as `Progress` objects, which the job's `LiveMirror` keeps for
`TrainingJob.snapshot()`; a stop order travels the other way and takes effect before the
next batch. The worker saves the run itself (it holds the model).

The worker beats (an empty `Progress`) every second while it trains. A worker that
dies fails its job with the reason; one that stops answering (no beat for
`HEARTBEAT_TIMEOUT` seconds), or that has not ended its job `STOP_GRACE` seconds after
a stop order, is killed, its job ended with the reason, and the next job gets a fresh
worker. If the server dies, the worker finds its pipe closed and exits.

The app's runner on one machine: `MNIST_DASH_MAX_JOBS` (default 1) jobs train at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
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
    WorkerDied,
    WorkerHung,
)
from mnist_dash.jobs.runners.process_child import LoadData, StopOrder, TrainOrder, serve

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


class Worker:
    """One training process and the server's end of its pipe."""

    def __init__(self):
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=serve, args=(child,), name="mnist-dash-worker", daemon=True)
        with _without_main_module():
            self.process.start()
        child.close()
        self.data_key: str | None = None
        self.jobs = 0  # numbers the jobs, so a late stop order never reaches the next one

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

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

    def run(self, request: TrainRequest, mirror: LiveMirror, stop: threading.Event) -> JobResult:
        """Train `request` in the worker, mirroring its progress."""
        try:
            key = fingerprint(request.data)
            if key != self.data_key:  # the arrays cross once per worker, not once per job
                self.conn.send(LoadData(key, request.data))
                self.data_key = key
            self.jobs += 1
            store_url = request.store.url if request.store is not None else None
            self.conn.send(
                TrainOrder(
                    self.jobs,
                    request.job_id,
                    request.spec,
                    key,
                    store_url,
                    request.marker,
                    request.owner,
                    request.limits,
                )
            )
            return self._follow(mirror, stop)
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise WorkerDied(self._death()) from None

    def _follow(self, mirror: LiveMirror, stop: threading.Event) -> JobResult:
        heard = time.monotonic()
        stop_sent: float | None = None
        while True:
            now = time.monotonic()
            if stop.is_set() and stop_sent is None:
                self.conn.send(StopOrder(self.jobs))
                stop_sent = now
            if self.conn.poll(0.05):
                news = self.conn.recv()
                heard = time.monotonic()
                if news.job != self.jobs:
                    continue  # a late word about an earlier job
                if news.error:
                    raise JobFailed(news.error)
                mirror.apply(news)
                if news.result is not None:
                    return news.result
            elif not self.alive:
                raise WorkerDied(self._death())
            elif stop_sent is not None and now - stop_sent > STOP_GRACE:
                self.kill()
                raise WorkerHung(
                    f"the training process did not stop within {STOP_GRACE:.0f} s of Stop, so it was ended "
                    "(the run was not saved)",
                    after_stop=True,
                )
            elif now - heard > HEARTBEAT_TIMEOUT:
                self.kill()
                raise WorkerHung(
                    f"the training process stopped answering for {HEARTBEAT_TIMEOUT:.0f} s, so it was ended and "
                    "a fresh one takes the next job. The app is fine: train again",
                    after_stop=False,
                )

    def _death(self) -> str:
        self.process.join(1)
        return (
            f"the training process stopped unexpectedly (exit code {self.process.exitcode}; out of memory?). "
            "The app is fine: train again, or try a smaller design"
        )


class ProcessRunner:
    """Trains each job in a worker process from its pool: never more workers than `slots`, each reused.

    The job queue decides how many jobs train at once, so there are never more workers than its
    slots; a worker that died or hung is dropped, not reused, and one that trained `RETIRE_AFTER`
    jobs retires.
    """

    name = "process"
    SETTINGS = (MAX_JOBS_ENV,)

    def __init__(self, slots: int = 1):
        self._slots = slots
        self._idle: list[Worker] = []
        self._busy: list[Worker] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, environ: Mapping[str, str]) -> ProcessRunner:
        return cls(max_jobs_from_env(environ))

    def slots(self) -> int:
        return self._slots

    def train(self, request: TrainRequest, mirror: LiveMirror, stop: threading.Event) -> JobResult:
        """Train one job in an idle worker (a new one if none), returning the worker to the pool afterwards."""
        with self._lock:
            worker = next((w for w in self._idle if w.alive), None)
            self._idle[:] = [w for w in self._idle if w is not worker and w.alive]
            worker = worker or Worker()
            self._busy.append(worker)
        mirror.pid = worker.process.pid
        try:
            result = worker.run(request, mirror, stop)
        except BaseException:
            worker.close()
            raise
        else:
            if worker.jobs >= RETIRE_AFTER:
                worker.close()
            else:
                with self._lock:
                    self._idle.append(worker)
        finally:
            with self._lock:
                self._busy.remove(worker)
        return result

    def warm_up(self, slots: int) -> None:
        """Start a worker now if none is idle and fewer than `slots` exist, so a job need not wait for Keras.

        Never more workers than slots: each holds Keras and a copy of MNIST (about 850 MB).
        """
        with self._lock:
            alive = [w for w in (*self._idle, *self._busy) if w.alive]
            if len(alive) < slots and not any(w.alive for w in self._idle):
                self._idle.append(Worker())

    def shutdown(self) -> None:
        """Close the idle workers (the busy ones close as their jobs end)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()
