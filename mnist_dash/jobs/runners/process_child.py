"""The worker process's side of the process runner (`process`): receive data and jobs, train, report.

Runs in a spawned process: it imports Keras once, then trains one job after another,
sending every `Progress` of the job's LiveHistory over the pipe, a heartbeat every
second while a job trains, and the job's `JobResult` (or the reason it failed) last.
It exits when the server's end of the pipe closes. The orders it takes are defined here,
where they are read.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from mnist_dash.data import Mnist
from mnist_dash.jobs.contract import Progress, TrainRequest
from mnist_dash.jobs.limits import Limits
from mnist_dash.owners import Owner
from mnist_dash.spec import ModelSpec

HEARTBEAT_INTERVAL = 1.0  # seconds between beats while a job trains


# Orders from the server to a worker.
@dataclass(frozen=True)
class LoadData:
    key: str
    data: Mnist


@dataclass(frozen=True)
class TrainOrder:
    """A `TrainRequest` as it crosses the pipe: the data by its key, the store by its URL."""

    job: int  # the worker's number for the job, on every Progress and stop order
    job_id: str
    spec: ModelSpec
    data_key: str
    store_url: str | None
    marker: str | None
    owner: Owner  # whose run it will be
    limits: Limits | None  # the Limits the job was admitted under: checked again where it trains


@dataclass(frozen=True)
class StopOrder:
    job: int


class _Pipe:
    """The worker's end of the pipe, safe to send on from the training and the heartbeat threads."""

    def __init__(self, conn):
        self.conn = conn
        self.lock = threading.Lock()
        self.job: int | None = None  # the job in training, for the heartbeat

    def send(self, message) -> None:
        try:
            with self.lock:
                self.conn.send(message)
        except OSError:
            os._exit(0)  # the server is gone: nobody to train for (its marker says interrupted)

    def beat_forever(self) -> None:
        while True:
            time.sleep(HEARTBEAT_INTERVAL)
            job = self.job
            if job is not None:
                self.send(Progress(job))


def serve(conn) -> None:
    """The worker's loop. The heartbeat starts before Keras loads, so a slow import is not a hang."""
    pipe = _Pipe(conn)
    threading.Thread(target=pipe.beat_forever, name="mnist-dash-heartbeat", daemon=True).start()
    import gc

    import keras

    from mnist_dash.jobs import train_run, training
    from mnist_dash.runs import DatabaseError, RunStore, StoreWriteError

    class PipeHistory(training.LiveHistory):
        """A LiveHistory that takes stop orders from the server before each batch."""

        def _listen(self) -> None:
            try:
                while conn.poll():
                    if conn.recv() == StopOrder(self.job):
                        self.stop_event.set()
            except (EOFError, OSError):
                os._exit(0)

        def on_train_batch_begin(self, batch, logs=None):
            self._listen()
            super().on_train_batch_begin(batch, logs)

    datasets: dict[str, Mnist] = {}
    stores: dict[str, RunStore] = {}
    while True:
        try:
            order = conn.recv()
        except (EOFError, OSError):
            return
        if isinstance(order, LoadData):
            datasets.clear()  # one dataset at a time: the server has one
            datasets[order.key] = order.data
        elif isinstance(order, TrainOrder):
            pipe.job = order.job
            try:
                live = PipeHistory(threading.Event(), seed=order.spec.seed, report=pipe.send, job=order.job)
                store = None if order.store_url is None else stores.get(order.store_url) or RunStore(order.store_url)
                if store is not None:
                    stores[order.store_url] = store  # one engine (a pool of connections) for every job
                request = TrainRequest(
                    order.job_id, order.spec, datasets[order.data_key], store, order.marker, order.owner, order.limits
                )
                result = train_run.train_and_save(request, live)
            except (StoreWriteError, DatabaseError, train_run.NotAllowed) as error:  # its message says what to do
                pipe.send(Progress(order.job, error=str(error)))
            except Exception as error:  # reported as the job's failure; the worker lives on
                pipe.send(Progress(order.job, error=f"{type(error).__name__}: {error}"))
            else:
                pipe.send(Progress(order.job, result=result))
            finally:
                pipe.job = None
                keras.backend.clear_session()  # this job's model and graphs: the next job starts clean
                gc.collect()
