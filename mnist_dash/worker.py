"""Training in a process of its own, so the web server's Python stays free for the pages.

On a thread of the Streamlit server, a training job shares one interpreter lock with
every page the server draws: while a class watched its curves, epochs took two to ten
times longer and the server answered slowly. A worker is a separate Python process
(started with `spawn`, never `fork`: TensorFlow's threads do not survive a fork) that
imports Keras once and then trains one job at a time. It sends what the pages need
back over a pipe (steps, throttled batch points, epoch records, weight snapshots, the
newest weights), which `LiveMirror` keeps for `TrainingJob.snapshot()`; a stop request
travels the other way and takes effect before the next batch. The worker saves the run
itself (it holds the model). If the server dies, the worker finds its pipe closed and
exits at the next batch (the run is then reported as interrupted); if the worker dies,
the job fails with the reason and the next job gets a fresh worker.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

from mnist_dash.data import Mnist, fingerprint
from mnist_dash.jobs import JobFailed
from mnist_dash.spec import ModelSpec, from_dict
from mnist_dash.weights import WeightHistory

_CONTEXT = multiprocessing.get_context("spawn")
PROGRESS_INTERVAL = 0.1  # seconds between batch-progress messages
# A worker's memory creeps up by about 15 MB a job (TensorFlow's caches), so after this
# many jobs it retires and the next job starts a fresh one (a few seconds to load Keras).
RETIRE_AFTER = 20


class WorkerDied(JobFailed):
    """The training process ended without finishing its job."""


class _Recorder:
    def __init__(self):
        self.history = WeightHistory()


class LiveMirror:
    """This process's copy of the worker's live history: what `TrainingJob` reads from a LiveHistory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.epochs: list[dict] = []
        self.batches: list[dict] = []
        self.epoch = self.batch = self.steps = 0
        self.weights = _Recorder()
        self.latest_weights = None
        self.diverged = None  # the worker's result says so instead
        self.pid: int | None = None  # the worker process training it

    def apply(self, kind: str, payload) -> None:
        with self.lock:
            if kind == "begin":
                self.steps, self.weights.history = payload
            elif kind == "batch":
                self.epoch, self.batch, points = payload
                self.batches.extend(points)
            elif kind == "epoch":
                record, self.weights.history, self.latest_weights = payload
                self.epochs.append(record)


class Worker:
    """One training process and the server's end of its pipe."""

    def __init__(self):
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_serve, args=(child,), name="mnist-dash-worker", daemon=True)
        self.process.start()
        child.close()
        self.data_key: str | None = None
        self.jobs = 0  # numbers the jobs, so a late stop request never reaches the next one

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()

    def run(self, spec: ModelSpec, data: Mnist, mirror: LiveMirror, stop: threading.Event, store, marker) -> dict:
        """Train `spec` in the worker; mirror its progress; the result dict of `train_and_save`."""
        mirror.pid = self.process.pid
        try:
            key = fingerprint(data)
            if key != self.data_key:  # the arrays cross once per worker, not once per job
                self.conn.send(("data", key, data))
                self.data_key = key
            root = str(store.root) if store is not None else None
            self.jobs += 1
            self.conn.send(("train", spec.to_dict(), key, root, marker, self.jobs))
            stop_sent = False
            while True:
                if stop.is_set() and not stop_sent:
                    self.conn.send(("stop", self.jobs))
                    stop_sent = True
                if self.conn.poll(0.05):
                    kind, payload = self.conn.recv()
                    if kind == "done":
                        return payload
                    if kind == "error":
                        raise JobFailed(payload)
                    mirror.apply(kind, payload)
                elif not self.alive:
                    raise WorkerDied(self._death())
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise WorkerDied(self._death()) from None

    def _death(self) -> str:
        self.process.join(1)
        return (
            f"the training process stopped unexpectedly (exit code {self.process.exitcode}; out of memory?). "
            "The app is fine: train again, or try a smaller design"
        )


_idle: list[Worker] = []
_busy: list[Worker] = []
_idle_lock = threading.Lock()


def run_job(spec: ModelSpec, data: Mnist, mirror: LiveMirror, stop: threading.Event, store=None, marker=None) -> dict:
    """Train one job in an idle worker (a new one if none), returning the worker afterwards.

    The job limiter decides how many jobs train at once, so there are never more
    workers than its slots; a worker that died is dropped, not reused.
    """
    with _idle_lock:
        worker = next((w for w in _idle if w.alive), None)
        _idle[:] = [w for w in _idle if w is not worker and w.alive]
        worker = worker or Worker()
        _busy.append(worker)
    try:
        result = worker.run(spec, data, mirror, stop, store, marker)
    except BaseException:
        worker.close()
        raise
    else:
        if worker.jobs >= RETIRE_AFTER:
            worker.close()
        else:
            with _idle_lock:
                _idle.append(worker)
    finally:
        with _idle_lock:
            _busy.remove(worker)
    return result


def prestart(slots: int = 1) -> None:
    """Start a worker now if none is idle and fewer than `slots` exist, so a job need not wait for Keras.

    Never more workers than slots: each holds Keras and a copy of MNIST (about 850 MB).
    """
    with _idle_lock:
        alive = [w for w in (*_idle, *_busy) if w.alive]
        if len(alive) < slots and not any(w.alive for w in _idle):
            _idle.append(Worker())


# ---- the worker process's side ----


def _serve(conn) -> None:
    """The worker's loop: receive data and jobs, train, report; exit when the server's end closes."""
    import gc

    import keras

    from mnist_dash import training, training_run
    from mnist_dash.runs import RunStore, StoreWriteError

    class PipeHistory(training.LiveHistory):
        """A LiveHistory that reports to the server and takes stop requests from it."""

        def __init__(self, seed: int, job: int):
            super().__init__(threading.Event(), seed=seed)
            self.job = job
            self._sent_points = 0
            self._last_sent = 0.0

        def _listen(self) -> None:
            try:
                while conn.poll():
                    if conn.recv() == ("stop", self.job):
                        self.stop_event.set()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: nobody to train for (its marker says interrupted)

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            with self.lock:
                conn.send(("begin", (self.steps, self.weights.history.copy())))

        def on_train_batch_begin(self, batch, logs=None):
            self._listen()
            super().on_train_batch_begin(batch, logs)

        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)
            now = time.perf_counter()
            if now - self._last_sent >= PROGRESS_INTERVAL or self.batch == self.steps:  # batch: see LiveHistory
                self._last_sent = now
                with self.lock:
                    points, self._sent_points = self.batches[self._sent_points :], len(self.batches)
                conn.send(("batch", (self.epoch, self.batch, points)))

        def on_epoch_end(self, epoch, logs=None):
            count = len(self.epochs)
            super().on_epoch_end(epoch, logs)
            with self.lock:
                if len(self.epochs) > count:
                    conn.send(("epoch", (self.epochs[-1], self.weights.history.copy(), self.latest_weights)))

    datasets: dict[str, Mnist] = {}
    while True:
        try:
            kind, *payload = conn.recv()
        except (EOFError, OSError):
            return
        if kind == "data":
            key, data = payload
            datasets.clear()  # one dataset at a time: the server has one
            datasets[key] = data
        elif kind == "train":
            spec_dict, key, root, marker, job = payload
            try:
                spec = from_dict(spec_dict)
                live = PipeHistory(spec.seed, job)
                store = RunStore(root) if root is not None else None
                result = training_run.train_and_save(spec, datasets[key], live, store, marker)
            except StoreWriteError as error:  # its message says what happened and how to fix it
                conn.send(("error", str(error)))
            except Exception as error:  # reported as the job's failure; the worker lives on
                conn.send(("error", f"{type(error).__name__}: {error}"))
            else:
                conn.send(("done", result))
            finally:
                keras.backend.clear_session()  # this job's model and graphs: the next job starts clean
                gc.collect()
