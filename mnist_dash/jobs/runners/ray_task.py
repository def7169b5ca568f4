"""What runs on the Ray cluster for the Ray runner: a job's training task, and the hub its news travels through.

The server's side is `mnist_dash.jobs.runners.ray`. A job is one Ray task, not an actor:
Ray keeps a task's worker process for the next task, so TensorFlow is imported once per
worker (about 5 s), not once per job. The task trains through the same
`train_run.train_and_save` as every runner, with a stand-in for the run store: the run
comes back to the server in the task's result and the server stores it, so no node ever
needs the database.

News goes through one `ProgressHub` actor per server. The training thread only sends to
it and never waits for an answer: a task's main thread that waits on a Ray call lends its
CPU to the next queued task (measured with Ray 2.60: a queued task started beside a
running one that called `ray.wait` with a timeout of 0), which would put two jobs on one
core. Stop orders are read by a listener thread instead, which may wait without that.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass

import ray

from mnist_dash.data import Mnist
from mnist_dash.jobs.contract import JobFailed, JobResult, Progress, TrainRequest
from mnist_dash.jobs.limits import Limits
from mnist_dash.runs.store import PackedRun
from mnist_dash.spec import ModelSpec

LISTEN_INTERVAL = 0.2  # seconds between a task's questions to the hub: has the server said Stop?


@dataclass(frozen=True)
class Trained:
    """What a training task returns: how the training ended, and the run to store if there is one."""

    result: JobResult
    run: PackedRun | None  # as `RunStore.save_packed` takes it; the server checks it, then stores it


@dataclass(frozen=True)
class Mail:
    """The hub's answer to the server: the task's process id (once it has started) and its news since."""

    pid: int | None
    news: tuple[Progress, ...]


class _Keeper:
    """The run store as `train_and_save` sees it on a node: it keeps the run for the server to save."""

    def __init__(self):
        self.run: PackedRun | None = None

    def save_packed(self, run: PackedRun, marker=None) -> str:
        self.run = run
        return ""  # no run id: the server's store gives it


class ProgressHub:
    """A Ray actor, one per server: each job's news on its way to the server, and the server's Stop orders.

    Calls from one caller run in the order they were made (a plain actor runs one call at a time),
    so a task's news arrive in order, and its `flush` returns once all of them are in.
    """

    def __init__(self):
        self._news: dict[str, list[Progress]] = {}
        self._pids: dict[str, int] = {}
        self._stops: set[str] = set()

    def started(self, key: str, pid: int) -> None:
        self._pids[key] = pid

    def post(self, key: str, news: Progress) -> None:
        self._news.setdefault(key, []).append(news)

    def flush(self, key: str) -> None:
        """Nothing to do: answering it means every earlier post of the same task has been taken in."""

    def take(self, key: str) -> Mail:
        return Mail(self._pids.get(key), tuple(self._news.pop(key, ())))

    def stop(self, key: str) -> None:
        self._stops.add(key)

    def stop_asked(self, key: str) -> bool:
        return key in self._stops

    def forget(self, key: str) -> None:
        self._news.pop(key, None)
        self._pids.pop(key, None)
        self._stops.discard(key)


def _listen(hub, key: str, stop: threading.Event, done: threading.Event) -> None:
    """Until the training ends: turn the server's Stop into the event the training's callback reads."""
    while not done.wait(LISTEN_INTERVAL):
        try:
            if ray.get(hub.stop_asked.remote(key)):
                stop.set()
                return
        except ray.exceptions.RayError:  # the hub is gone, and with it the server: nobody to train for
            stop.set()
            return


def train_on_node(key: str, hub, spec: ModelSpec, data: Mnist, limits: Limits | None) -> Trained:
    """The training task: train `spec` on `data` (from the object store), sending news through `hub`."""
    import gc

    import keras

    from mnist_dash.jobs import train_run, training

    hub.started.remote(key, os.getpid())
    stop, done = threading.Event(), threading.Event()
    threading.Thread(target=_listen, args=(hub, key, stop, done), name="mnist-dash-listen", daemon=True).start()
    try:
        live = training.LiveHistory(stop, seed=spec.seed, report=lambda news: hub.post.remote(key, news))
        keeper = _Keeper()
        result = train_run.train_and_save(TrainRequest(key, spec, data, keeper, limits=limits), live)
    except train_run.NotAllowed as error:  # its message says what to do
        raise JobFailed(str(error)) from None
    except Exception as error:  # worded as every runner words a failure; the server shows the message
        raise JobFailed(f"{type(error).__name__}: {error}") from None
    else:
        return Trained(result, keeper.run)
    finally:
        done.set()
        with contextlib.suppress(ray.exceptions.RayError):  # every post is in before the server hears the end
            ray.get(hub.flush.remote(key))
        keras.backend.clear_session()  # this job's model and graphs: the worker's next task starts clean
        gc.collect()
