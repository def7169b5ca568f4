"""The worker process's side of the process runner (`process`): receive data and jobs, train them in slices, report.

Runs in a spawned process: it imports Keras once, then holds the jobs the server gives it
(`TrainOrder`), each a `JobTraining` whose state stays here between its slices, and trains
one slice at a time as told (`SliceOrder`), sending every `Progress` of the job's
LiveHistory over the pipe, a heartbeat every second, and the end of the
slice (or the job's `JobResult`, or the reason it failed) last. A listener thread reads
the pipe all the time, so a `StopOrder` reaches its job at once, during its set-up too,
not only between two calls into the backend. When the server's end of the pipe closes,
the worker stops what it holds, stores each job's finished epochs as a stopped run (it
has the weights; nobody else has), and exits. The orders are defined here, where they are
read.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from dataclasses import dataclass

from mnist_dash.data import Mnist
from mnist_dash.jobs.contract import Progress, TrainRequest
from mnist_dash.jobs.limits import Limits
from mnist_dash.owners import Owner
from mnist_dash.spec import ModelSpec

HEARTBEAT_INTERVAL = 1.0  # seconds between beats


# Orders from the server to a worker.
@dataclass(frozen=True)
class LoadData:
    key: str
    data: Mnist


@dataclass(frozen=True)
class TrainOrder:
    """A `TrainRequest` as it crosses the pipe: the data by its key, the store by its URL. Sets the job up."""

    job: int  # the worker's number for the job, on every Progress and order about it
    job_id: str
    spec: ModelSpec
    data_key: str
    store_url: str | None
    marker: str | None
    owner: Owner  # whose run it will be
    limits: Limits | None  # the Limits the job was admitted under: checked again where it trains


@dataclass(frozen=True)
class SliceOrder:
    """Train up to `epochs` more epochs of the job (all that remain when None)."""

    job: int
    epochs: int | None = 1


@dataclass(frozen=True)
class ForgetOrder:
    """Let the job's state go: the server ended it (Stop while it waited, and stored what it held itself)."""

    job: int


@dataclass(frozen=True)
class StopOrder:
    job: int


_SERVER_GONE = object()  # put in the work queue by the listener when the pipe closes


class _Pipe:
    """The worker's end of the pipe, safe to send on from the training and the heartbeat threads."""

    def __init__(self, conn):
        self.conn = conn
        self.lock = threading.Lock()
        self.job: int | None = None  # the job being worked on, for the heartbeat
        self.gone = False

    def send(self, message) -> None:
        if self.gone:
            return
        try:
            with self.lock:
                self.conn.send(message)
        except OSError:
            self.gone = True  # the server is gone: the listener ends what is held

    def beat_forever(self) -> None:
        """A beat every second from the start, while Keras loads and while idle too: the server knows it lives."""
        while True:
            self.send(Progress(self.job or 0))  # job 0 is no job's: the worker's own beat
            time.sleep(HEARTBEAT_INTERVAL)


class _Listener:
    """Reads the pipe on its own thread: stop orders set their job's event at once, the rest wait in `work`."""

    def __init__(self, conn, pipe: _Pipe):
        self.conn, self.pipe = conn, pipe
        self.work: queue.Queue = queue.Queue()
        self.stops: dict[int, threading.Event] = {}
        self.lock = threading.Lock()

    def stop_event(self, job: int) -> threading.Event:
        with self.lock:
            return self.stops.setdefault(job, threading.Event())

    def forget(self, job: int) -> None:
        with self.lock:
            self.stops.pop(job, None)

    def listen_forever(self) -> None:
        while True:
            try:
                order = self.conn.recv()
            except (EOFError, OSError):
                self.pipe.gone = True
                with self.lock:
                    for event in self.stops.values():
                        event.set()
                self.work.put(_SERVER_GONE)
                return
            if isinstance(order, StopOrder):
                self.stop_event(order.job).set()
            else:
                self.work.put(order)


def saved_as(result, training_job) -> None:
    """After a server died: leave its owner a note in the store that their job was saved after epoch N (the
    restarted server shows it to them, `runs.markers`)."""
    from mnist_dash.runs.markers import new_marker_id

    request = training_job.request
    if result.run_id is None or request.store is None:
        return
    owner = request.owner.key if request.owner is not None else None
    epochs = len(training_job.live.epochs)
    request.store.markers.write(new_marker_id(), request.spec, owner, "saved", run_id=result.run_id, epochs=epochs)


def serve(conn) -> None:
    """The worker's loop. The heartbeat and the listener start before Keras loads: a slow import is no hang."""
    pipe = _Pipe(conn)
    listener = _Listener(conn, pipe)
    threading.Thread(target=pipe.beat_forever, name="mnist-dash-heartbeat", daemon=True).start()
    threading.Thread(target=listener.listen_forever, name="mnist-dash-listener", daemon=True).start()
    import gc

    from mnist_dash.jobs import train_run, training
    from mnist_dash.runs import DatabaseError, RunStore, StoreWriteError

    # Keras and TensorFlow leave about 450,000 objects behind their import, which every full collection walks:
    # 0.2 s for each `gc.collect()` below, in every job's last turn, while the slot waits. Frozen, they are left
    # out of collections (they live as long as the process anyway): 0.004 s.
    gc.collect()
    gc.freeze()

    datasets: dict[str, Mnist] = {}
    stores: dict[str, RunStore] = {}
    held: dict[int, train_run.JobTraining] = {}

    def store_at(url: str | None) -> RunStore | None:
        if url is None:
            return None
        if url not in stores:
            stores[url] = RunStore(url)  # one engine (a pool of connections) for every job
        return stores[url]

    def drop(job: int) -> None:
        held.pop(job, None)
        listener.forget(job)
        gc.collect()

    while True:
        order = listener.work.get()
        if order is _SERVER_GONE:
            for job, training_job in list(held.items()):  # nobody to train for: keep what can be kept
                # Its stop event is set: a stopped run of its finished epochs. The store may be gone too: its
                # marker then says the run was interrupted.
                with contextlib.suppress(Exception):
                    saved_as(training_job.finish(), training_job)
                drop(job)
            os._exit(0)
        if isinstance(order, LoadData):
            datasets.clear()  # one dataset at a time: the server has one
            datasets[order.key] = order.data
            continue
        if isinstance(order, ForgetOrder):
            drop(order.job)
            continue
        pipe.job = order.job
        try:
            if isinstance(order, TrainOrder):
                live = training.LiveHistory(
                    listener.stop_event(order.job), seed=order.spec.seed, report=pipe.send, job=order.job
                )
                request = TrainRequest(
                    order.job_id,
                    order.spec,
                    datasets[order.data_key],
                    store_at(order.store_url),
                    order.marker,
                    order.owner,
                    order.limits,
                )
                held[order.job] = train_run.JobTraining(request, live)
            elif isinstance(order, SliceOrder):
                training_job = held[order.job]
                training_job.run(order.epochs)
                if training_job.done:
                    result = training_job.finish()
                    drop(order.job)
                    if pipe.gone:  # stopped mid-slice because the server went: its owner learns of it on restart
                        with contextlib.suppress(Exception):
                            saved_as(result, training_job)
                    pipe.send(Progress(order.job, result=result))
                else:
                    pipe.send(Progress(order.job, slice_end=True))
        except (StoreWriteError, DatabaseError, train_run.NotAllowed) as error:  # its message says what to do
            drop(order.job)
            pipe.send(Progress(order.job, error=str(error)))
        except Exception as error:  # reported as the job's failure; the worker lives on
            drop(order.job)
            pipe.send(Progress(order.job, error=f"{type(error).__name__}: {error}"))
        finally:
            pipe.job = None
