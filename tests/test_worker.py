"""What only the worker process runner has: a late stop, a dying server, a hang, retiring, prestart.

What every runner keeps (results, stop, a failure, a killed job, two at once) is tests/test_job_contract.py.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.jobs.runners import process as worker
from mnist_dash.jobs.runners.process import ProcessRunner
from mnist_dash.owners import named
from mnist_dash.runs import RunStore
from tests.patience import patience
from tests.support import process_gone, wait_until

ROOT = Path(__file__).resolve().parent.parent


def process_job(spec, data, runner: ProcessRunner) -> TrainingJob:
    return TrainingJob(spec, data, queue=JobQueue(1), runner=runner).start()


def test_stop_reaches_the_worker_and_a_late_stop_never_reaches_the_next_job(tiny_data, tiny_spec, process_runner):
    job = process_job(tiny_spec.replace(epochs=200, batch_size=16), tiny_data, process_runner)
    wait_until(lambda: job.snapshot().batch_history)
    job.stop()
    snap = job.wait(timeout=patience(60))
    assert snap.status == JobStatus.STOPPED and snap.epoch < 200
    job.stop()  # again, after it ended: must not leak into the worker's next job
    assert process_job(tiny_spec, tiny_data, process_runner).wait(timeout=patience(120)).status == JobStatus.FINISHED


def test_a_job_takes_a_runner_object_not_a_name(tiny_data, tiny_spec):
    with pytest.raises(TypeError, match="runner must be a Runner"):
        TrainingJob(tiny_spec, tiny_data, runner="process")


def kill_server_after_an_epoch(*args: str, worker_gone_s: float = 30) -> None:
    """Run tests.worker_child (a server training in a worker) with `args`, SIGKILL it after its first epoch, and
    wait for its worker to be gone."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.worker_child", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(server.stdout.readline().split()[1])
        assert server.stdout.readline().strip() == "EPOCH"
        os.kill(server.pid, signal.SIGKILL)
        server.wait(patience(10))
        wait_until(lambda: process_gone(pid), worker_gone_s)
    finally:
        server.kill()


def test_when_the_server_is_killed_its_worker_exits_too():
    kill_server_after_an_epoch()


@pytest.mark.timeout(180)
def test_a_restarted_server_tells_each_owner_what_became_of_their_job(database_url):
    """The server is killed while Ada's job trains and Bo's waits: the worker saves Ada's epochs as a stopped
    run and says so; Bo's job is told it left the line. Each notice is its owner's (runs_view shows it)."""
    kill_server_after_an_epoch(database_url, worker_gone_s=60)
    restarted = RunStore(database_url)  # once: opening a store writes (its schema check), and would hold the worker up
    # The worker that trained may end a moment after the idle one.
    wait_until(lambda: time.sleep(0.2) or {lost.phase for lost in restarted.markers.interrupted()} >= {"saved"}, 120)
    listing = restarted.list()
    [run] = listing.runs
    assert run.status == "stopped" and run.owner == named("Ada").key and run.epochs_run >= 1
    news = {lost.owner: lost for lost in listing.interrupted}
    assert sorted(lost.owner for lost in listing.interrupted) == sorted([named("Ada").key, named("Bo").key])  # one each
    saved, in_line = news[named("Ada").key], news[named("Bo").key]
    assert saved.phase == "saved" and saved.reason == (
        f"the server restarted while it trained this run: it was saved as stopped after epoch {run.epochs_run}"
    )
    # Bo's job waited in line, or had just begun its first epoch (first epochs go first) when the server went.
    assert in_line.spec.name == "in line" and in_line.phase in ("queued", "training")
    assert in_line.reason.endswith(
        "so it left the line: press Start to queue it again" if in_line.phase == "queued" else "was not saved"
    )
    assert restarted.dismiss_interrupted(saved.marker_id) and len(restarted.list().interrupted) == 1


@pytest.fixture
def fresh_runner():
    """A runner with a pool of its own, empty at first (not the workers earlier tests left idle)."""
    runner = ProcessRunner()
    yield runner
    runner.shutdown()


def test_warm_up_keeps_one_idle_worker_ready(fresh_runner):
    fresh_runner.warm_up(1)
    fresh_runner.warm_up(1)
    assert sum(w.alive for w in fresh_runner._idle) == 1


def test_a_worker_retires_after_its_share_of_jobs(tiny_data, tiny_spec, monkeypatch, fresh_runner):
    monkeypatch.setattr(worker, "RETIRE_AFTER", 2)
    pids = []
    for _ in range(3):
        job = process_job(tiny_spec.replace(epochs=1), tiny_data, fresh_runner)
        assert job.wait(timeout=patience(180)).status == JobStatus.FINISHED
        pids.append(job._live.pid)
    assert pids[0] == pids[1] != pids[2]  # the third job got a fresh worker


def test_a_worker_past_its_share_takes_new_jobs_while_it_holds_paused_ones(
    tiny_data, tiny_spec, monkeypatch, fresh_runner
):
    """In a lesson the 21st job started a second worker (about 1 GB) beside the first, which held 20 paused jobs:
    on a 2.7 GB box. A worker past its share keeps taking jobs while it holds any, and retires once it holds none."""
    monkeypatch.setattr(worker, "RETIRE_AFTER", 1)
    queue = JobQueue(1)
    # 20 epochs: 3 tiny ones could end before the second job is in line, and the worker retire at once
    first = TrainingJob(tiny_spec.replace(epochs=20), tiny_data, queue=queue, runner=fresh_runner).start()
    wait_until(lambda: first.snapshot().batch_history)
    second = TrainingJob(tiny_spec.replace(epochs=1, seed=1), tiny_data, queue=queue, runner=fresh_runner).start()
    assert first.wait(timeout=patience(180)).status == second.wait(timeout=patience(180)).status == JobStatus.FINISHED
    assert first._live.pid == second._live.pid  # the second job went to the worker holding the first
    wait_until(lambda: process_gone(first._live.pid), 30)  # it holds none now: it retired
    third = process_job(tiny_spec.replace(epochs=1), tiny_data, fresh_runner)
    assert third.wait(timeout=patience(180)).status == JobStatus.FINISHED and third._live.pid != first._live.pid


def test_warm_up_never_starts_more_workers_than_slots(tiny_data, tiny_spec, fresh_runner):
    job = process_job(tiny_spec.replace(epochs=200, batch_size=16), tiny_data, fresh_runner)
    wait_until(lambda: job.snapshot().batch_history)
    fresh_runner.warm_up(1)  # one worker is busy: that is the one slot
    assert not any(w.alive for w in fresh_runner._idle)
    job.stop()
    job.wait(timeout=patience(60))


def test_a_worker_that_stops_answering_is_killed_and_replaced(tiny_data, tiny_spec, monkeypatch, process_runner):
    monkeypatch.setattr(worker, "HEARTBEAT_TIMEOUT", 3.0)
    job = process_job(tiny_spec.replace(epochs=200, batch_size=16), tiny_data, process_runner)
    wait_until(lambda: job.snapshot().batch_history)
    hung = job._live.pid
    os.kill(hung, signal.SIGSTOP)  # alive, but silent: as a worker stuck in a deadlock
    snap = job.wait(timeout=patience(60))
    assert snap.status == JobStatus.FAILED and "stopped answering for 3 s" in snap.error
    wait_until(lambda: process_gone(hung), 10)  # the server killed it: the slot is free again
    nxt = process_job(tiny_spec.replace(epochs=1), tiny_data, process_runner)
    assert nxt.wait(timeout=patience(180)).status == JobStatus.FINISHED and nxt._live.pid != hung


def test_a_worker_that_does_not_stop_after_stop_is_ended_and_the_job_stopped(
    tiny_data, tiny_spec, monkeypatch, process_runner
):
    monkeypatch.setattr(worker, "STOP_GRACE", 2.0)
    job = process_job(tiny_spec.replace(epochs=200, batch_size=16), tiny_data, process_runner)
    wait_until(lambda: job.snapshot().batch_history)
    hung = job._live.pid
    os.kill(hung, signal.SIGSTOP)
    job.stop()
    snap = job.wait(timeout=patience(30))
    assert snap.status == JobStatus.STOPPED and "did not stop within 2 s of Stop" in snap.reason
    wait_until(lambda: process_gone(hung), 10)


def test_the_worker_checks_the_limits_again_where_it_trains(tiny_data, tiny_spec):
    from mnist_dash.jobs.contract import JobFailed, LiveMirror, TrainRequest
    from mnist_dash.jobs.limits import Limits

    class Straight:  # a job with no other in line: each turn follows the last
        def between_slices(self) -> bool:
            return True

    runner = ProcessRunner()
    try:
        request = TrainRequest("job-limits", tiny_spec, tiny_data, limits=Limits(max_epochs=1))
        with pytest.raises(JobFailed, match="at most 1 epochs"):
            runner.train(request, LiveMirror(), threading.Event(), Straight())
    finally:
        runner.shutdown()
