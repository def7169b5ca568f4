"""The contract every runner keeps (DESIGN.md, "Across the process boundary"): thread, worker process, Ray.

One suite, parametrised over the runner: live points in order, Stop, a failing job, a killed job,
two jobs at once, the result stored. The Ray half trains on a local Ray instance started once for
these tests (2 CPUs, no dashboard, token authentication on, the app's runtime environment), which
the runner finds through MNIST_DASH_RAY_ADDRESS as the app does. Then Ray's own duties: MNIST put
into the object store once, the slots that follow the cluster's CPUs, the memory a job asks for, a
Stop that is not obeyed, a job still waiting for a node; and without the setting, no Ray at all.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_dash.data import Mnist
from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.jobs.contract import NOTHING_TO_SAVE, Runner
from mnist_dash.jobs.runners import RAY_ADDRESS_ENV, app_runner
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.runs import RunStore
from tests.patience import patience
from tests.support import marker_ids, process_gone, wait_until

from .conftest import make_digits

ROOT = Path(__file__).resolve().parent.parent
LONG = {"epochs": 200, "batch_size": 8}  # a job that trains until it is stopped or killed (30,000 steps: 10 s or more)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray instance, started once for the Ray tests and shut down after them (the rest of the
    suite gets the cores back); its address, as a host would give it in MNIST_DASH_RAY_ADDRESS.

    Token authentication is on, as the README asks of a cluster; the token lives in this process's
    environment (Ray reads it when it is imported), never in the home folder.
    """
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    import ray

    from mnist_dash.jobs.runners import ray as ray_module

    # "local": a new instance of its own, never a cluster someone started on this machine (`ray start`)
    ray.init("local", num_cpus=2, include_dashboard=False, runtime_env=ray_module.runtime_env(), log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(params=["thread", "process", "ray"])
def runner(request) -> Runner:
    """Each runner object: on the test's job thread (two slots), the session's worker processes (two slots:
    a second worker for two jobs at once), and the Ray runner on the local instance (its 2 CPUs)."""
    if request.param == "thread":
        return ThreadRunner(slots=2)
    if request.param == "process":
        return request.getfixturevalue("process_runner")
    return request.getfixturevalue("ray_runner")


@pytest.fixture(scope="module")
def ray_runner(ray_cluster) -> Runner:
    """The Ray runner on the local instance, one for the module's tests as a server has one."""
    from mnist_dash.jobs.runners.ray import RayRunner

    return RayRunner(ray_cluster)


# ---- the contract ----


def test_live_points_arrive_in_order_and_progress_only_moves_forward(runner, slow_data, tiny_spec):
    # Batches of 8: an epoch of 0.27 s on a fast day (of 16: 0.16 s, and Ray's news, fetched every 0.1 s, once
    # brought the ends of epochs 1 and 2 together, so no page could have shown epoch 1 done).
    job = TrainingJob(tiny_spec.replace(epochs=3, batch_size=8), slow_data, queue=JobQueue(1), runner=runner).start()
    seen, running = [], []
    while not job.done:
        snap = job.snapshot()
        seen.append((snap.progress, snap.epoch))
        if snap.status == JobStatus.RUNNING and snap.batch_history and 0 < snap.progress < 1:
            running.append(snap)
        time.sleep(0.002)
    snap = job.snapshot()
    assert snap.status == JobStatus.FINISHED, snap.error
    assert [record["epoch"] for record in snap.history] == [1, 2, 3]
    positions = [point["epoch"] for point in snap.batch_history]
    assert positions == sorted(set(positions)) and positions[0] > 0 and positions[-1] <= 3
    assert running and all(s.eta > 0 for s in running)  # it was seen training, with a time left
    progress = [p for p, _ in seen]
    assert all(b >= a for a, b in itertools.pairwise(progress)), "progress went backwards"
    assert {epoch for _, epoch in seen} >= {0, 1, 2}  # watched across both epoch boundaries


def test_stop_ends_the_job_stopped_and_stores_its_finished_epochs(runner, slow_data, tiny_spec, tmp_path):
    store = RunStore(tmp_path)
    # Six times slow_data's images: an epoch of 4,500 batches lasts 1.6 s on a fast day (1,500 lasted 0.53 s, and
    # on Ray, where the news of epoch 2 and then Stop each cross its hub, Stop once landed in epoch 3), so Stop,
    # pressed once a point of epoch 2 is seen, lands inside it on every runner.
    x_train, y_train = make_digits(36000, seed=4)
    longer = Mnist(x_train, y_train, slow_data.x_test, slow_data.y_test)
    spec = tiny_spec.replace(epochs=20, batch_size=8)
    job = TrainingJob(spec, longer, store=store, queue=JobQueue(1), runner=runner).start()
    wait_until(lambda: any(p["epoch"] > 1.0 for p in job.snapshot().batch_history), 180)  # inside epoch 2
    running = job.snapshot()
    assert running.status == JobStatus.RUNNING and 0 < running.progress < 1 and running.eta > 0
    job.stop()
    snap = job.wait(timeout=patience(60))
    assert snap.status == JobStatus.STOPPED
    assert [h["epoch"] for h in snap.history] == [1]
    assert snap.batch_history[-1]["epoch"] > 1.0
    assert snap.test_accuracy is None  # a stopped run is not evaluated as if it were done
    saved = store.get(snap.run_id)
    assert saved.status == "stopped" and saved.epochs_run == 1
    assert marker_ids(store) == []


def test_a_failure_inside_fit_ends_failed_with_the_message(runner, tiny_data, tiny_spec):
    broken = Mnist(np.zeros((64, 27, 27), np.uint8), tiny_data.y_train[:64], tiny_data.x_test, tiny_data.y_test)
    queue = JobQueue(1)
    job = TrainingJob(tiny_spec, broken, queue=queue, runner=runner).start()
    snap = job.wait(timeout=patience(120))
    assert snap.status == JobStatus.FAILED
    # Keras names the bad shape either as the images (27 x 27) or, once its graph is traced, as the
    # flattened rows (729 = 27 * 27); either way the message is the error's own, with its class.
    assert re.search(r"\b27\b|\b729\b", snap.error) and snap.error.split(":")[0].endswith("Error")
    assert not job._thread.is_alive() and queue.running == 0


# Not on a thread: it dies only with its server (tests/test_store_faults.py kills one).
@pytest.mark.parametrize("runner", ["process", "ray"], indirect=True)
def test_a_killed_job_fails_clearly_and_frees_its_place(runner, tiny_data, tiny_spec):
    queue = JobQueue(1)
    job = TrainingJob(tiny_spec.replace(**LONG), tiny_data, queue=queue, runner=runner).start()
    wait_until(lambda: job.snapshot().batch_history, 120)
    os.kill(job._live.pid, signal.SIGKILL)  # as by the kernel's out-of-memory killer
    snap = job.wait(timeout=patience(60))
    assert snap.status == JobStatus.FAILED
    assert "stopped unexpectedly" in snap.error and "train again" in snap.error
    if runner.name == "process":  # the worker process runner knows the exit code
        assert "training process stopped unexpectedly (exit code -9" in snap.error
    assert queue.running == 0  # its place is free: the next job trains
    nxt = TrainingJob(tiny_spec, tiny_data, queue=queue, runner=runner).start()
    assert nxt.wait(timeout=patience(180)).status == JobStatus.FINISHED and nxt._live.pid != job._live.pid


def test_two_jobs_train_at_once_and_their_news_never_mix(runner, slow_data, tiny_spec):
    queue = JobQueue(runner.slots)
    specs = [tiny_spec.replace(epochs=2, batch_size=16, seed=seed) for seed in (1, 2)]
    jobs = [TrainingJob(spec, slow_data, queue=queue, runner=runner).start() for spec in specs]
    wait_until(lambda: all(job.snapshot().status == JobStatus.RUNNING for job in jobs), 180)
    assert queue.running == 2 and queue.slots == 2  # for Ray: the cluster's 2 CPUs
    snaps = [job.wait(timeout=patience(180)) for job in jobs]
    assert [snap.status for snap in snaps] == [JobStatus.FINISHED] * 2, [snap.error for snap in snaps]
    for snap in snaps:
        assert [record["epoch"] for record in snap.history] == [1, 2]
        positions = [point["epoch"] for point in snap.batch_history]
        assert positions == sorted(set(positions))  # one job's points, in order: none of the other's
    assert snaps[0].history[0]["loss"] != snaps[1].history[0]["loss"]  # two seeds: two different runs
    if runner.name != "thread":
        assert jobs[0]._live.pid != jobs[1]._live.pid  # in two processes
    assert queue.running == 0


def test_the_result_is_stored(runner, tiny_data, tiny_spec, database_url):
    store = RunStore(database_url)  # a worker process opens the same database; a Ray task hands its run back
    job = TrainingJob(tiny_spec, tiny_data, store=store, queue=JobQueue(1), runner=runner).start()
    snap = job.wait(timeout=patience(180))
    assert snap.status == JobStatus.FINISHED, snap.error
    assert job.done and snap.done and snap.progress == 1.0 and snap.eta is None
    assert [record["epoch"] for record in snap.history] == [1, 2] and snap.batch_history
    assert snap.test_accuracy > 0.9 and snap.test_loss > 0
    assert job.weight_history().epochs == 3 and job.latest_weights()[0] == 2  # initial + 2 epochs
    [run] = store.list().runs
    assert run.run_id == snap.run_id and run.epochs_run == 2
    saved = store.get(snap.run_id)
    assert saved.status == "finished" and saved.test_accuracy == snap.test_accuracy
    assert store.history(run.run_id)["epochs"] == list(snap.history)
    assert store.cached_run(tiny_spec.replace(name="the same, renamed"), tiny_data) == saved
    assert marker_ids(store) == [] and store.list().interrupted == []  # nothing left in progress


# ---- choosing the runner; no Ray without the setting ----


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "process"), ({RAY_ADDRESS_ENV: "  "}, "process"), ({RAY_ADDRESS_ENV: "auto"}, "ray")],
)
def test_the_hosts_setting_chooses_the_apps_runner(environ, expected):
    runner = app_runner(environ)
    assert isinstance(runner, Runner) and runner.name == expected
    assert app_runner(environ) is runner  # one per settings: its workers and its cluster are the process's


def test_without_the_setting_ray_is_never_imported(tmp_path):
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import mnist_dash
        for module in pkgutil.walk_packages(mnist_dash.__path__, "mnist_dash."):
            if not module.name.startswith(("mnist_dash.jobs.runners.ray", "mnist_dash.__main__")):  # Ray's; the CLI
                importlib.import_module(module.name)
        from mnist_dash.jobs import TrainingJob, default_queue
        from mnist_dash.jobs.runners import app_runner
        from tests.conftest import make_digits
        from mnist_dash.data import validate_arrays
        from mnist_dash.spec import LayerSpec, ModelSpec

        data = validate_arrays(*make_digits(300, seed=1), *make_digits(100, seed=2), source="synthetic")
        spec = ModelSpec(layers=(LayerSpec(8),), epochs=1, name="no ray")
        job = TrainingJob(spec, data, runner=app_runner()).start()
        print(app_runner().name, default_queue().slots, job.wait(180).status, "ray" in sys.modules)
        """
    )
    env = {key: value for key, value in os.environ.items() if key != RAY_ADDRESS_ENV}
    env |= {"MNIST_DASH_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=patience(300),
        check=False,
    )
    assert done.stdout.split() == ["process", "1", "finished", "False"], done.stderr[-2000:]


# ---- Ray's own duties ----


def test_a_remote_cluster_without_token_authentication_is_refused_and_students_read_one_line(monkeypatch, caplog):
    """Without token authentication, anyone who reaches a Ray head's port runs code on it: the server does not
    connect to one on another machine. Students read that the cluster is not reachable; the log says why."""
    import ray

    from mnist_dash.jobs.contract import JobFailed
    from mnist_dash.jobs.runners import ray as ray_module

    tried = []

    def away(**kwargs):  # a cluster that is not there (Ray itself would retry for a minute)
        tried.append(kwargs)
        raise ConnectionError("refused")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", away)
    monkeypatch.setattr(ray, "shutdown", lambda: None)  # the test session's own Ray instance stays
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(JobFailed) as refused:
        ray_module.RayRunner("10.1.2.3:6379").connect()
    assert str(refused.value) == ray_module.NOT_REACHABLE and "10.1.2.3" not in str(refused.value)
    assert tried == [] and "token authentication is off" in caplog.text and "10.1.2.3:6379" in caplog.text
    monkeypatch.setenv("RAY_AUTH_MODE", "token")  # with it on, the server connects (here: the cluster is away)
    with pytest.raises(JobFailed) as unreachable:
        ray_module.RayRunner("10.1.2.3:6379").connect()
    assert str(unreachable.value) == ray_module.NOT_REACHABLE and len(tried) == 1 and "refused" in caplog.text
    assert [ray_module._local(a) for a in ("auto", "127.0.0.1:6379", "ray://localhost:10001", "10.0.0.5:6379")] == [
        True,
        True,
        True,
        False,
    ]


def test_mnist_goes_into_the_object_store_once_per_server(ray_runner, tiny_spec, monkeypatch):
    from mnist_dash.jobs.runners import ray as ray_module

    puts = []
    real_put = ray_module.ray.put
    monkeypatch.setattr(ray_module.ray, "put", lambda value: puts.append(value) or real_put(value))
    data = Mnist(*make_digits(400, seed=7), *make_digits(100, seed=8))  # arrays no job has sent yet
    queue = JobQueue(ray_runner.slots)
    specs = [tiny_spec.replace(epochs=1, seed=seed) for seed in (1, 2)]
    jobs = [TrainingJob(spec, data, queue=queue, runner=ray_runner).start() for spec in specs]
    assert [job.wait(patience(180)).status for job in jobs] == [JobStatus.FINISHED] * 2
    assert len(puts) == 1 and puts[0] is data  # the first job put it; the second got the same reference


def test_the_memory_a_job_asks_for_covers_the_measured_peaks():
    from mnist_dash.jobs.runners import ray as ray_module
    from mnist_dash.presets import PRESETS
    from mnist_dash.spec import LayerSpec, ModelSpec

    mb = ray_module.MB
    # A Ray worker's peak RSS training one epoch of MNIST (see the Ray runner's comment), and the ask for each.
    measured = {
        ModelSpec(layers=(LayerSpec(16),), batch_size=128): 928,
        PRESETS["notebook-2-hidden"]: 953,
        PRESETS["notebook-5-hidden-bn"]: 996,
        ModelSpec(layers=(LayerSpec(1024), LayerSpec(1024)), batch_size=32): 1012,
    }
    asks = [ray_module.memory_bytes(spec) / mb for spec in measured]
    assert all(ask >= peak for ask, peak in zip(asks, measured.values(), strict=True)), asks
    assert all(ask < 1.15 * peak for ask, peak in zip(asks, measured.values(), strict=True)), asks  # not wasteful
    spec = PRESETS["notebook-2-hidden"]
    assert ray_module.memory_bytes(spec.replace(batch_size=1024)) > ray_module.memory_bytes(spec)


def test_a_design_no_node_has_memory_for_fails_clearly(ray_runner, tiny_data, tiny_spec, monkeypatch):
    from mnist_dash.jobs.runners import ray as ray_module

    monkeypatch.setattr(ray_module, "WORKER_BYTES", 10**15)  # a petabyte: more than this machine has
    queue = JobQueue(1)
    snap = TrainingJob(tiny_spec, tiny_data, queue=queue, runner=ray_runner).start().wait(patience(60))
    assert snap.status == JobStatus.FAILED and "more than any node of the Ray cluster has" in snap.error
    assert queue.running == 0


def test_a_ray_job_that_does_not_stop_is_cancelled_by_force(ray_runner, tiny_data, tiny_spec, monkeypatch):
    from mnist_dash.jobs.runners import ray as ray_module

    monkeypatch.setattr(ray_module, "STOP_GRACE", 2.0)
    job = TrainingJob(tiny_spec.replace(**LONG), tiny_data, queue=JobQueue(1), runner=ray_runner).start()
    wait_until(lambda: job.snapshot().batch_history, 120)
    hung = job._live.pid
    os.kill(hung, signal.SIGSTOP)  # alive, but deaf to Stop: as a task stuck in a deadlock
    job.stop()
    snap = job.wait(timeout=patience(30))
    assert snap.status == JobStatus.STOPPED and "did not stop within 2 s of Stop" in snap.reason
    wait_until(lambda: process_gone(hung), 30)


def test_stop_cancels_a_ray_job_still_waiting_for_a_node(ray_runner, tiny_data, tiny_spec):
    queue = JobQueue(3)  # more than the cluster's 2 CPUs: the third waits in Ray, not in our queue
    jobs = [
        TrainingJob(tiny_spec.replace(**LONG, seed=seed), tiny_data, queue=queue, runner=ray_runner).start()
        for seed in (1, 2, 3)
    ]
    wait_until(lambda: sum(bool(job.snapshot().batch_history) for job in jobs) == 2, 120)
    [waiting] = [job for job in jobs if not job.snapshot().batch_history]
    assert waiting.snapshot().status == JobStatus.RUNNING and waiting._live.pid is None
    waiting.stop()
    snap = waiting.wait(timeout=patience(10))
    assert snap.status == JobStatus.STOPPED and snap.reason == NOTHING_TO_SAVE and snap.batch_history == ()
    for job in jobs:
        job.stop()
    assert {job.wait(patience(60)).status for job in jobs} == {JobStatus.STOPPED} and ray_runner.slots() == 2


def test_a_ray_job_whose_node_is_lost_fails_clearly_and_frees_its_place(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != RAY_ADDRESS_ENV}
    env |= {"MNIST_DASH_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.ray_cluster_child"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=patience(300),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "runner": "ray",  # chosen by MNIST_DASH_RAY_ADDRESS, connected by the runner itself
        "slots": 1,  # the one node with a CPU
        "status": "failed",
        "error": "the Ray node it trained on left the cluster (shut down, or lost from the network). "
        "The app is fine: train again",
        "running": 0,  # its place in the queue is free
    }
