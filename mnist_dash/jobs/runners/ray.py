"""The Ray runner: training on a Ray cluster, the server's side (the cluster's side is `ray_task`).

Chosen when the host sets MNIST_DASH_RAY_ADDRESS (`runners`); this module imports Ray, so
nothing imports it otherwise. The server keeps the class's rules: owners' limits and the
fair turn order of `JobQueue`, which lets as many jobs start as the cluster has CPUs
(`RayRunner.slots`, in place of MNIST_DASH_MAX_JOBS). Ray does the placing: each job asks
for one CPU and the memory its design needs (`memory_bytes`) and runs where both are free.
MNIST goes into Ray's object store once per server start (`ray.put`) and every job gets it
by reference, so each node fetches one copy that all its workers read in place.

A job's news comes back through the server's hub actor as the same `Progress` objects a
worker process sends. Stop goes to the hub, where the task's listener finds it before the
next batches; a task still waiting for a node is cancelled at once, and one that has not
ended `STOP_GRACE` seconds after Stop is cancelled by force (Ray kills its process). A
task whose process or node dies fails its job with the reason, and its place in the queue
is free again. The run comes back in the task's result and the server stores it, in its
own database, as for every runner.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import ray
from ray.exceptions import (
    NodeDiedError,
    OutOfMemoryError,
    RayError,
    RayTaskError,
    TaskCancelledError,
    WorkerCrashedError,
)

import mnist_dash
from mnist_dash.data import Mnist, fingerprint
from mnist_dash.jobs.contract import (
    NOTHING_TO_SAVE,
    RETIRE_AFTER,
    JobFailed,
    JobResult,
    LiveMirror,
    Progress,
    TrainRequest,
    Turns,
    WorkerDied,
    WorkerHung,
)
from mnist_dash.jobs.runners import RAY_ADDRESS_ENV, ray_address, ray_task
from mnist_dash.plan import count_params
from mnist_dash.runs.spool import save_patiently
from mnist_dash.spec import ModelSpec

log = logging.getLogger(__name__)
NOT_REACHABLE = (
    "the training cluster is not reachable right now; train again in a few minutes (the app's host finds why in "
    "the server's log)"
)
LOCAL_ADDRESSES = ("auto", "local", "localhost", "127.0.0.1", "::1")


def _local(address: str) -> bool:
    """Whether `address` is a Ray instance on this machine (the head's port is then this machine's)."""
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    return address in LOCAL_ADDRESSES or host in LOCAL_ADDRESSES


STOP_GRACE = 30.0  # seconds a task has, after Stop, to end its job (as a worker process has)
POLL_INTERVAL = 0.1  # seconds between the server's looks at a job's news
SLOTS_TTL = 5.0  # seconds the cluster's CPU count is trusted before it is read again
HEAD_RESOURCE = "node:__internal_head__"  # Ray's resource that only the head node has

MB = 1024 * 1024
# The memory a job asks Ray for. A Ray worker's peak while it trains one epoch of MNIST (Ray 2.60,
# TensorFlow 2.21): 928 MB for a 12,730-parameter design, 953 MB for notebook-2-hidden (468,874),
# 996 MB for notebook-5-hidden-bn (784,960), 1,012 MB for 1,863,690 parameters at batch 32: the worker
# with TensorFlow loaded, plus about 48 bytes a parameter (weights, gradients, the optimizer's two
# moments, the epoch's snapshot, the copies sent to the server), plus each batch's activations.
WORKER_BYTES = 1000 * MB
BYTES_PER_PARAM = 48
BYTES_PER_ACTIVATION = 4 * 4  # float32: each layer's outputs and their gradients, with room


def memory_bytes(spec: ModelSpec) -> int:
    """The memory a job of `spec` asks Ray for (a scheduling promise: Ray's memory monitor still guards nodes)."""
    widths = 784 + sum(layer.units for layer in spec.layers) + 10
    return WORKER_BYTES + BYTES_PER_PARAM * count_params(spec).total + BYTES_PER_ACTIVATION * spec.batch_size * widths


def runtime_env() -> dict:
    """What every worker of the app's jobs gets from this server.

    Its own `mnist_dash`, shipped by Ray, so the code that trains is always the server's (the nodes
    need only the packages of requirements.txt); and one thread per pool, as each job asks for one
    CPU: TensorFlow would otherwise start a pool as wide as the node for every job on it.
    """
    one = dict.fromkeys(("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"), "1")
    return {"py_modules": [str(Path(mnist_dash.__file__).parent)], "env_vars": one}


class _Cluster:
    """This server's connection to one Ray cluster: its hub, its data in the object store, its CPUs."""

    def __init__(self, address: str):
        self.address = address
        self.lock = threading.Lock()
        self._hub = None
        # A worker's memory creeps up with each job (TensorFlow's caches): it retires as a worker process does.
        self.task = ray.remote(max_calls=RETIRE_AFTER)(ray_task.train_on_node)
        self._data: dict[str, ray.ObjectRef] = {}
        self.slots, self._slots_read = 1, -SLOTS_TTL

    def hub(self):
        """The hub actor, started on first use, and again if it died. It lives on the head node, which
        the cluster cannot lose and stay a cluster (a worker node, even the server's own, may leave)."""
        with self.lock:
            if self._hub is None:
                head = {HEAD_RESOURCE: 0.001}
                self._hub = ray.remote(ray_task.ProgressHub).options(num_cpus=0, resources=head).remote()
            return self._hub

    def drop_hub(self, hub) -> None:
        with self.lock:
            if self._hub is hub:
                self._hub = None

    def data_ref(self, data: Mnist) -> ray.ObjectRef:
        """`data` in the object store, put there the first time this server sends it."""
        key = fingerprint(data)
        with self.lock:
            if key not in self._data:
                self._data[key] = ray.put(data)
            return self._data[key]

    def read_slots(self) -> None:
        """Learn the cluster's CPUs again if the last count is old (nodes come and go)."""
        if time.monotonic() - self._slots_read >= SLOTS_TTL:
            self.slots = max(1, int(ray.cluster_resources().get("CPU", 0)))
            self._slots_read = time.monotonic()

    def check_room(self, need: int) -> None:
        """JobFailed when no node that trains (one with a CPU) could ever give a job `need` bytes: Ray
        would keep it waiting forever."""
        trainers = [node["Resources"] for node in ray.nodes() if node["Alive"] and node["Resources"].get("CPU", 0) >= 1]
        largest = max((resources.get("memory", 0) for resources in trainers), default=0)
        if need > largest:
            raise JobFailed(
                f"this design needs about {need / MB:,.0f} MB of memory to train, more than any node of the Ray "
                f"cluster has free for jobs ({largest / MB:,.0f} MB at most): try a smaller design or batch size, "
                "or ask the host for a larger node"
            )


_connect_lock = threading.Lock()


class RayRunner:
    """Trains each job as a Ray task on the cluster at `address` (connected on the first job)."""

    name = "ray"
    sliced = False  # every job has a CPU of its own on the cluster: it trains straight through once it starts
    SETTINGS = (RAY_ADDRESS_ENV,)

    def __init__(self, address: str):
        self.address = address
        self._cluster: _Cluster | None = None

    @classmethod
    def from_settings(cls, environ: Mapping[str, str]) -> RayRunner:
        return cls(ray_address(environ))

    def connect(self) -> _Cluster:
        """The cluster, connected on first use (or the Ray this process already has).

        A cluster on another machine must have token authentication on (`RAY_AUTH_MODE=token`): without it,
        anyone who reaches its port runs code on it. Students read that the training cluster is not
        reachable; the reason, with the address, goes to the server's log.
        """
        with _connect_lock:
            if not ray.is_initialized():
                if not _local(self.address) and os.environ.get("RAY_AUTH_MODE", "").strip().lower() != "token":
                    log.error(
                        "not connecting to the Ray cluster at %s (%s): token authentication is off. Set "
                        "RAY_AUTH_MODE=token (and its token) for the cluster and this server.",
                        self.address,
                        RAY_ADDRESS_ENV,
                    )
                    raise JobFailed(NOT_REACHABLE)
                try:
                    ray.init(
                        address=self.address,
                        runtime_env=runtime_env(),
                        log_to_driver=False,
                        logging_level=logging.WARNING,
                    )
                except Exception as error:  # unreachable, refused (token), versions differ: each says so, in the log
                    ray.shutdown()
                    log.error(
                        "could not connect to the Ray cluster at %s (%s): %s. Check that it runs (`ray status` on a "
                        "node), with the same Ray and Python versions as this server (and its token, if token "
                        "authentication is on).",
                        self.address,
                        RAY_ADDRESS_ENV,
                        _first_line(error),
                    )
                    raise JobFailed(NOT_REACHABLE) from None
            address = ray.get_runtime_context().gcs_address
            if self._cluster is None or self._cluster.address != address:
                self._cluster = _Cluster(address)
            self._cluster.read_slots()
            return self._cluster

    def slots(self) -> int:
        """How many jobs may train at once: the cluster's CPUs, one a job, as last read (1 before the first job).

        Never asks Ray itself: the queue calls it under its lock, and no page may wait on the cluster.
        """
        cluster = self._cluster
        return cluster.slots if cluster is not None else 1

    def warm_up(self, slots: int) -> None:
        """Nothing to start here: Ray's workers load Keras on the cluster's nodes."""

    def train(self, request: TrainRequest, mirror: LiveMirror, stop: threading.Event, turns: Turns) -> JobResult:
        """Train `request.spec` on the cluster, mirroring its progress, and store its run in the server's store."""
        cluster = self.connect()
        spec = request.spec
        need = memory_bytes(spec)
        cluster.check_room(need)
        key, hub = request.job_id, cluster.hub()  # the job's id is unique in this server, and the hub is this server's
        ref = cluster.task.options(num_cpus=1, memory=need, max_retries=0, name=f"mnist-dash {key}").remote(
            key, hub, spec, cluster.data_ref(request.data), request.limits
        )
        try:
            trained = _follow(cluster, hub, key, ref, mirror, stop)
        finally:
            hub.forget.remote(key)
        if trained.run is None or request.store is None:
            return trained.result
        if problems := trained.run.problems(spec):  # a node returned what this job cannot have trained
            log.error("a run returned by the Ray cluster for %s was not stored: %s", key, "; ".join(problems))
            raise JobFailed("the training cluster returned a run that does not match this design; it was not saved")
        run = trained.run.owned_by(request.owner)
        run_id, spooled = save_patiently(
            request.store, run, request.marker, lambda phase: mirror.apply(Progress(0, phase=phase))
        )
        return replace(trained.result, run_id=run_id, spooled=spooled)


def _follow(cluster: _Cluster, hub, key: str, ref, mirror: LiveMirror, stop: threading.Event) -> ray_task.Trained:
    stop_sent: float | None = None
    while True:
        ended = bool(ray.wait([ref], timeout=POLL_INTERVAL)[0])
        try:  # after the task ended, this takes its last news: it flushed them before returning
            mail = ray.get(hub.take.remote(key))
        except RayError as error:  # the hub is gone (its process died): the next job starts a new one
            cluster.drop_hub(hub)
            ray.cancel(ref, force=True)
            raise JobFailed(
                f"this server lost touch with the job on the Ray cluster ({_first_line(error)}). "
                "The app is fine: train again"
            ) from None
        if mail.pid is not None:
            mirror.pid = mail.pid
        for news in mail.news:
            mirror.apply(news)
        if ended:
            return _outcome(ref)
        if stop.is_set() and stop_sent is None:
            hub.stop.remote(key)
            stop_sent = time.monotonic()
            if mirror.pid is None:  # still waiting for a node: nothing trained, nothing to save
                ray.cancel(ref)
        elif stop_sent is not None and time.monotonic() - stop_sent > STOP_GRACE:
            ray.cancel(ref, force=True)
            raise WorkerHung(
                f"the training task on the Ray cluster did not stop within {STOP_GRACE:.0f} s of Stop, so it was "
                "ended (the run was not saved)",
                after_stop=True,
            )
        cluster.read_slots()


def _outcome(ref) -> ray_task.Trained:
    """The task's result, or why it has none, said as the worker process runner says it."""
    try:
        return ray.get(ref)
    except TaskCancelledError:  # only Stop cancels a task that still waited for a node
        return ray_task.Trained(JobResult("stopped", reason=NOTHING_TO_SAVE), None)
    except RayTaskError as error:  # the training failed; the task worded it (ray_task.train_on_node)
        cause = error.cause
        raise JobFailed(str(cause) if isinstance(cause, JobFailed) else f"{type(cause).__name__}: {cause}") from None
    except OutOfMemoryError:
        raise WorkerDied(
            "Ray ended the training task because its node was running out of memory. "
            "The app is fine: train again, or try a smaller design"
        ) from None
    except NodeDiedError:
        raise WorkerDied(
            "the Ray node it trained on left the cluster (shut down, or lost from the network). "
            "The app is fine: train again"
        ) from None
    except WorkerCrashedError:
        raise WorkerDied(
            "the training process on the Ray cluster stopped unexpectedly (out of memory?). "
            "The app is fine: train again, or try a smaller design"
        ) from None
    except RayError as error:
        raise JobFailed(f"the Ray cluster could not run the job ({_first_line(error)}). Train again") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
