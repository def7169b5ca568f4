"""Jobs in turns (issue 21): first epochs first, fair turns after, a job paused and resumed exactly, Stop at once.

The rule of who goes next is `queue.turn_order`; the jobs here train on the thread runner (an
epoch a turn, as the app's worker process does) and, where it matters, in a worker process.
"""

from __future__ import annotations

import threading
import time

import keras
import numpy as np
import pytest

from mnist_dash import owners
from mnist_dash.jobs import JobQueue, JobStatus, Limits, TrainingJob
from mnist_dash.jobs.contract import NOTHING_TO_SAVE
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.patience import patience
from tests.support import Stand, wait_until

SPEC = ModelSpec(layers=(LayerSpec(24, dropout=0.2), LayerSpec(12, batch_norm="after")), batch_size=32, epochs=3)


class FakeJob:
    """What the queue reads of a job: its id, owner, epochs done and how long a turn takes."""

    def __init__(self, job_id: str, owner: str):
        self.job_id, self.owner, self.epochs_done = job_id, owners.named(owner), 0

    def turn_seconds(self) -> float:
        return 10.0


def take_turn(queue: JobQueue, job: FakeJob) -> None:
    """The job is next: it gets its turn at once, trains an epoch and waits for its next."""
    assert queue.wait_turn(job, threading.Event()) is None
    job.epochs_done += 1
    queue.pause(job.job_id)


def order(queue: JobQueue, jobs: list[FakeJob]) -> list[str]:
    return [job.job_id for job in sorted(jobs, key=lambda job: queue.position(job.job_id))]


def test_first_epochs_go_first_and_later_turns_are_fair_among_owners():
    queue = JobQueue(1)
    x1, x2, y1 = FakeJob("x1", "xena"), FakeJob("x2", "xena"), FakeJob("y1", "yusuf")
    for job in (x1, x2, y1):
        queue.enter(job)
    assert order(queue, [x1, x2, y1]) == ["x1", "y1", "x2"]  # fair among owners for first epochs too
    for job in (x1, y1, x2):
        take_turn(queue, job)
    # Every job has an epoch: xena's two jobs take turns with yusuf's one, not two turns for one of hers.
    assert order(queue, [x1, x2, y1]) == ["x1", "y1", "x2"]
    z1 = FakeJob("z1", "zoe")
    queue.enter(z1)  # a student who has seen nothing yet goes before everyone's next epoch
    assert order(queue, [x1, x2, y1, z1]) == ["z1", "x1", "y1", "x2"]
    assert queue.wait_estimate("x1") == 10.0 and queue.wait_estimate("x2") == 30.0  # a turn of each ahead
    take_turn(queue, z1)
    take_turn(queue, x1)
    assert order(queue, [x1, x2, y1, z1]) == ["y1", "z1", "x2", "x1"]


def train_alone(spec: ModelSpec, data) -> list[np.ndarray]:
    job = TrainingJob(spec, data, queue=JobQueue(1)).start()
    assert job.wait(patience(120)).status == JobStatus.FINISHED
    return job.latest_weights()[1]


def test_a_job_trained_in_turns_ends_with_the_weights_it_has_trained_straight_through(tiny_data):
    alone = train_alone(SPEC, tiny_data)
    queue = JobQueue(1)
    other = SPEC.replace(seed=5, name="another seed of the same design")  # the same compiled model, swapped
    jobs = [TrainingJob(spec, tiny_data, queue=queue).start() for spec in (SPEC, other)]
    assert [job.wait(patience(120)).status for job in jobs] == [JobStatus.FINISHED] * 2
    for trained, straight in zip(jobs[0].latest_weights()[1], alone, strict=True):
        np.testing.assert_allclose(trained, straight, rtol=0, atol=1e-6)
    assert not np.allclose(jobs[1].latest_weights()[1][0], alone[0])  # the other seed: its own weights


class EpochLog(keras.callbacks.Callback):
    """Which model ended which epoch, in order (two designs: two models)."""

    def __init__(self):
        super().__init__()
        self.ended: list[tuple[str, int]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.ended.append((f"{self.model.layers[2].units}", epoch + 1))  # layers: Rescaling, Flatten, hidden_1


def test_a_new_job_trains_its_first_epoch_before_a_running_jobs_next(tiny_data):
    log = EpochLog()
    runner, queue = ThreadRunner([log]), JobQueue(1)
    first = TrainingJob(SPEC.replace(epochs=4), tiny_data, queue=queue, runner=runner).start()
    wait_until(lambda: first.epochs_done >= 1, 60)
    later = TrainingJob(SPEC.replace(layers=(LayerSpec(40),), epochs=2), tiny_data, queue=queue, runner=runner).start()
    assert first.wait(patience(120)).status == later.wait(patience(120)).status == JobStatus.FINISHED
    joined = log.ended.index(("40", 1))
    assert [e for name, e in log.ended[:joined] if name == "24"] in ([1], [1, 2])  # at most the epoch it was in
    assert log.ended[joined + 1] == ("24", log.ended[joined - 1][1] + 1)  # then turns: one epoch each
    assert ("40", 2) in log.ended[joined + 2 : joined + 4]


class Slow(keras.callbacks.Callback):
    """Holds each epoch of the model with `units` for `seconds` (a large design, as far as the queue sees)."""

    def __init__(self, units: int, seconds: float):
        super().__init__()
        self.units, self.seconds = units, seconds

    def on_epoch_end(self, epoch, logs=None):
        if self.model.layers[2].units == self.units:
            time.sleep(self.seconds)


class Gate(keras.callbacks.Callback):
    """Holds the first epoch's end of the model with `units` until `opened` is set (so that a tiny job cannot run
    through all its epochs before the test's next job is in line)."""

    def __init__(self, units: int):
        super().__init__()
        self.units, self.opened = units, threading.Event()

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0 and self.model.layers[2].units == self.units:
            self.opened.wait(patience(60))


def test_stop_while_waiting_for_a_turn_ends_at_once_and_keeps_the_finished_epochs(tiny_data, tmp_path):
    store = RunStore(tmp_path)
    gate = Gate(24)
    runner, queue = ThreadRunner([Slow(40, 3.0), gate]), JobQueue(1)
    waiting = TrainingJob(SPEC.replace(epochs=5), tiny_data, store=store, queue=queue, runner=runner).start()
    wait_until(lambda: waiting.epochs_done >= 1, 60)
    busy = TrainingJob(SPEC.replace(layers=(LayerSpec(40),)), tiny_data, queue=queue, runner=runner).start()
    gate.opened.set()
    wait_until(lambda: waiting.snapshot().status == JobStatus.WAITING, 60)  # the busy job's first epoch is first
    waiting.stop()
    snap = waiting.wait(2.0)  # not after the busy job's epoch (3 s): at once
    assert snap.status == JobStatus.STOPPED and snap.run_id is not None
    stored = store.get(snap.run_id)
    assert stored.status == "stopped" and stored.epochs_run == snap.epoch >= 1
    assert len(store.final_weights(snap.run_id)) == len(waiting.latest_weights()[1])
    busy.stop()
    busy.wait(patience(30))


def test_the_time_limit_counts_a_jobs_turns_not_its_waits(tiny_data):
    runner, queue = ThreadRunner([Slow(40, 1.5)]), JobQueue(1)
    limits = Limits(job_seconds=2, max_epochs=200)
    limited = TrainingJob(SPEC.replace(epochs=200), tiny_data, queue=queue, runner=runner, limits=limits)
    busy = TrainingJob(SPEC.replace(layers=(LayerSpec(40),), epochs=3), tiny_data, queue=queue, runner=runner)
    began = time.perf_counter()
    # The busy job first: the limited one waits at least its first turn (1.5 s) whatever the machine's pace. The
    # other way round, a first epoch slowed past 2 s by its trace on a busy machine hit the limit before any wait.
    busy.start()
    limited.start()
    snap = limited.wait(patience(120))
    waited = time.perf_counter() - began
    assert snap.status == JobStatus.STOPPED and "the longest a job may train on this server" in snap.reason
    assert 2.0 <= snap.elapsed < waited - 1.5  # it trained its two seconds; the busy job's turns were not counted
    busy.wait(patience(60))


def test_stop_reaches_a_job_within_a_call_into_the_backend(tiny_data):
    from mnist_dash.jobs.training import STEPS_PER_EXECUTION

    class StopAt(keras.callbacks.Callback):
        """Presses Stop once five batches are done; notes the last batch every call into the backend ends at."""

        def on_train_batch_end(self, batch, logs=None):
            self.seen = batch + 1
            if self.seen >= 5 and not job._stop.is_set():
                self.at = self.seen
                job.stop()

    stopper = StopAt()
    spec = SPEC.replace(epochs=2, batch_size=8)  # 150 batches an epoch
    job = TrainingJob(spec, tiny_data, queue=JobQueue(1), runner=ThreadRunner([stopper])).start()
    snap = job.wait(patience(60))
    assert snap.status == JobStatus.STOPPED and snap.epoch == 0 and snap.reason == NOTHING_TO_SAVE
    steps = STEPS_PER_EXECUTION.get(keras.backend.backend(), 1)
    assert stopper.seen <= stopper.at + steps < 150  # the call into the backend it was in ended; no other began


def test_a_job_stopped_after_its_last_epoch_is_stored_stopped_never_finished(tiny_data, tmp_path):
    class StopAtTheEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == 2:
                job.stop()  # as a student presses Stop while the last epoch's numbers come in

    store = RunStore(tmp_path)
    spec = SPEC.replace(epochs=2)
    job = TrainingJob(spec, tiny_data, store=store, queue=JobQueue(1), runner=ThreadRunner([StopAtTheEnd()]))
    snap = job.start().wait(patience(60))
    assert snap.status == JobStatus.STOPPED and snap.test_accuracy is None
    assert store.get(snap.run_id).status == "stopped" and store.get(snap.run_id).epochs_run == 2


@pytest.mark.parametrize("when", ["set-up", "in line"])
def test_a_teachers_cancel_ends_a_job_at_once_in_its_set_up_or_in_line(when, tiny_data, process_runner):
    queue = JobQueue(1)
    holder = Stand(queue, "a classmate's job") if when == "in line" else None
    job = TrainingJob(SPEC.replace(epochs=200), tiny_data, queue=queue, runner=process_runner).start()
    if holder is None:  # it got the slot: the worker is loading the data and building its model
        wait_until(lambda: job.snapshot().status == JobStatus.RUNNING, 60)
    job.stop("your teacher cancelled it")
    snap = job.wait(patience(15))
    assert snap.status == JobStatus.STOPPED and snap.reason == "your teacher cancelled it" and snap.epoch == 0
    assert queue.running == (1 if holder else 0)  # its place is free (the classmate keeps theirs)
    if holder is not None:
        holder.finish()


def test_the_feed_gives_fit_the_batches_the_reordered_arrays_gave_and_is_made_once_per_split(tiny_data):
    """On TensorFlow a slice's epoch comes from the process's Feed (tensors kept, tf.data without its autotuner,
    whose thread `fit` waited for as it returned): the same batches in the same order as the arrays reordered, so
    the same weights to the bit; one Feed per split, "holdout"'s new views of the same arrays included."""
    from mnist_dash.data import validation_split
    from mnist_dash.jobs import train_run, training
    from mnist_dash.jobs.contract import TrainRequest
    from mnist_dash.jobs.feed import feed_for

    def trained(feed: bool) -> list[np.ndarray]:
        spec = SPEC.replace(validation="holdout")
        live = training.LiveHistory(threading.Event(), seed=spec.seed)
        job = train_run.JobTraining(TrainRequest("feed" if feed else "arrays", spec, tiny_data), live)
        assert job.feed is not None  # TensorFlow, the tests' backend
        if not feed:
            job.feed = None
        for _ in range(spec.epochs):
            job.run(1)
        assert job.epochs_done == spec.epochs
        return job.state

    for fed, reordered in zip(trained(True), trained(False), strict=True):
        np.testing.assert_array_equal(fed, reordered)
    holdout = feed_for(validation_split(tiny_data, "holdout"))
    assert feed_for(validation_split(tiny_data, "holdout")) is holdout
    assert feed_for(validation_split(tiny_data, "test")) is not holdout
    assert holdout.epoch(np.arange(10), 4).options().autotune.enabled is False


@pytest.mark.parametrize("validation", ["test", "holdout"])
def test_a_finished_jobs_test_figures_are_its_final_weights_on_the_test_set(validation, tiny_data):
    """Validating on the test set (the notebook's way), the last epoch's validation already is the test: the job
    takes it instead of evaluating again in its last turn. Either way the figures are a fresh evaluation's."""
    from mnist_dash.jobs import train_run, training
    from mnist_dash.jobs.contract import TrainRequest
    from mnist_dash.model import build_model

    spec = SPEC.replace(validation=validation, epochs=2)
    live = training.LiveHistory(threading.Event(), seed=spec.seed)
    phases = []
    live.report_phase = phases.append
    job = train_run.JobTraining(TrainRequest("test", spec, tiny_data), live)
    job.run(1)
    job.run(1)
    model = build_model(spec)
    for variable, value in zip(model.variables, job.state, strict=False):  # the model's own, then the optimizer's
        variable.assign(value)
    loss, accuracy = training.evaluate(model, tiny_data.x_test, tiny_data.y_test)
    assert job.test == pytest.approx((loss, accuracy), rel=1e-5)
    assert ("testing the model" in phases) == (validation == "holdout")
