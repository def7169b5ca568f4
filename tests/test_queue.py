"""The class's queue: limits per owner and for the class, fair turns, orphans, waits; the pace; the caps."""

import pytest

from mnist_dash.jobs import JobQueue, JobRefused, JobStatus, Limits, LimitsError, TrainingJob
from mnist_dash.jobs.pace import Pace
from mnist_dash.presets import PRESETS
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.patience import patience
from tests.support import Clock, Stand, wait_until


def started_order(stands, queue):
    """Finish the running stand each time and note who starts next, until all have run."""
    order = []
    pending = list(stands)
    while pending:
        running = [s for s in pending if s.started.is_set()]
        if not running:
            wait_until(lambda: any(s.started.is_set() for s in pending), timeout=5)
            continue
        for stand in running:
            order.append(stand.job_id)
            pending.remove(stand)
            stand.finish()
    return order


def test_an_owners_second_job_waits_for_every_other_owners_first():
    queue = JobQueue(1)
    limits = Limits(owner_jobs=2)
    first = Stand(queue, "first", owner="first")
    assert first.started.wait(5)
    # One student presses twice before anyone else; three classmates once each, later.
    stands = [Stand(queue, "m1", owner="mallory", limits=limits), Stand(queue, "m2", owner="mallory", limits=limits)]
    stands += [Stand(queue, f"h{i}", owner=f"honest {i}", limits=limits) for i in range(3)]
    assert [queue.position(s.job_id) for s in stands] == [1, 5, 2, 3, 4]
    first.finish()
    assert started_order(stands, queue) == ["m1", "h0", "h1", "h2", "m2"]


def test_a_turn_is_kept_for_a_newcomer_who_arrives_while_a_second_job_waits():
    queue = JobQueue(1)
    a1 = Stand(queue, "a1", owner="ada")
    assert a1.started.wait(5)
    a2 = Stand(queue, "a2", owner="ada")
    b1 = Stand(queue, "b1", owner="bob")  # queued while ada's second job waited: it goes first
    assert (queue.position("b1"), queue.position("a2")) == (1, 2)
    a1.finish()
    assert started_order([a2, b1], queue) == ["b1", "a2"]


def test_owner_limit_queue_limit_and_stored_runs_refuse_with_the_reason():
    queue = JobQueue(1)
    limits = Limits(owner_jobs=2, max_queue=3, owner_runs=5)
    Stand(queue, "a1", owner="ada", limits=limits)
    Stand(queue, "a2", owner="Ada ", limits=limits)  # the same owner: names differ only in case and spaces
    with pytest.raises(JobRefused) as refused:
        Stand(queue, "a3", owner="ADA", limits=limits)
    assert "You have 2 job(s) queued or running" in str(refused.value) and "MNIST_DASH_OWNER_JOBS" in str(refused.value)
    Stand(queue, "b1", owner="bob", limits=limits)
    with pytest.raises(JobRefused, match=r"The class queue is full: 3 jobs .*\(MNIST_DASH_MAX_QUEUE\)"):
        Stand(queue, "c1", owner="cy", limits=limits)
    reasons = queue.refusals(None, "name:dee", limits, stored_runs=5)
    [runs] = [r for r in reasons if r.limit == "owner_runs"]  # a value a page can ask about, not a sentence
    assert "5 stored runs" in runs.text and "MNIST_DASH_OWNER_RUNS" in runs.text and "delete old runs" in runs.text
    assert [r.limit for r in refused.value.reasons] == ["owner_jobs"]
    assert queue.refusals(None, "name:bob", Limits(), stored_runs=0) == []


def test_refusals_include_the_design_caps():
    queue = JobQueue(1)
    spec = ModelSpec(layers=(LayerSpec(8),), epochs=50)
    [reason] = queue.refusals(spec, "name:ada", Limits(max_epochs=10))
    assert reason.limit == "max_epochs"
    assert "at most 10 epochs" in reason.text and "MNIST_DASH_MAX_EPOCHS" in reason.text


def test_a_queued_job_whose_pages_are_gone_leaves_the_line_and_says_so():
    clock = Clock()
    queue = JobQueue(1, clock=clock)
    limits = Limits(orphan_s=120)
    running = Stand(queue, "running", owner="ada", limits=limits)
    assert running.started.wait(5)
    watched = Stand(queue, "watched", owner="bob", limits=limits)
    closed = Stand(queue, "closed", owner="cy", limits=limits)
    clock.now += 100
    queue.seen("name:bob")  # bob's page is open, cy's is not
    clock.now += 50
    queue.wake()
    closed.thread.join(5)
    assert "none of your pages was open for 120 s" in closed.left and "MNIST_DASH_ORPHAN_S" in closed.left
    assert watched.thread.is_alive() and queue.position("watched") == 1 and queue.position("closed") == 0
    assert running.started.is_set() and queue.running == 1  # a job that trains is never an orphan
    running.finish()
    assert watched.started.wait(5)
    watched.finish()


def test_the_wait_is_the_work_ahead_in_turn_order_shared_over_the_slots():
    queue = JobQueue(2)
    a = Stand(queue, "a", owner="ada", seconds=30.0)
    b = Stand(queue, "b", owner="bob", seconds=10.0)
    assert a.started.wait(5) and b.started.wait(5)
    c = Stand(queue, "c", owner="cy", seconds=20.0)
    d = Stand(queue, "d", owner="dee", seconds=5.0)
    assert queue.wait_estimate("c") == pytest.approx((30 + 10) / 2)
    assert queue.wait_estimate("d") == pytest.approx((30 + 10 + 20) / 2)
    assert queue.wait_estimate("a") is None  # running, not waiting
    for stand in (a, b):
        stand.finish()
    assert c.started.wait(5) and d.started.wait(5)
    assert queue.queued == 0


def test_a_queued_job_knows_its_wait_and_cancelling_leaves_the_line(tiny_data, tiny_spec):
    queue = JobQueue(1)
    holder = Stand(queue, "someone-else", seconds=42.0)
    assert holder.started.wait(5)
    queued = TrainingJob(tiny_spec, tiny_data, queue=queue).start()
    wait_until(lambda: queued.snapshot().queue_position == 1)
    snap = queued.snapshot()
    assert snap.status == JobStatus.QUEUED and snap.wait == pytest.approx(42.0)
    assert queued.remaining_seconds() > 0
    queued.stop()
    assert queued.wait(timeout=patience(10)).status == JobStatus.STOPPED and queue.queued == 0
    assert queued.remaining_seconds() == 0.0
    holder.finish()


def test_a_refused_job_starts_nothing(tiny_data, tiny_spec):
    queue = JobQueue(1)
    job = TrainingJob(tiny_spec, tiny_data, queue=queue, limits=Limits(max_epochs=1))
    with pytest.raises(JobRefused, match="at most 1 epochs"):
        job.start()
    assert queue.queued == 0 and queue.running == 0 and not job._thread.is_alive()


def test_the_pace_grows_with_the_network_and_learns_from_measurements():
    pace = Pace()
    small = PRESETS["notebook-2-hidden"]
    big = PRESETS["notebook-5-hidden-bn"]
    assert pace.epoch_seconds(big) > pace.epoch_seconds(small) > 0
    assert pace.job_seconds(small) == pytest.approx(small.epochs * pace.epoch_seconds(small))
    assert pace.epoch_seconds(small.replace(batch_size=32)) > pace.epoch_seconds(small)
    for _ in range(20):  # this machine turns out twice as slow as the constants say
        pace.record(small, 2 * Pace._model_seconds(small))
    assert pace.epoch_seconds(small) == pytest.approx(2 * Pace._model_seconds(small), rel=0.01)
    pace.record(small, float("nan"))  # a broken measurement changes nothing
    assert pace.scale == pytest.approx(2.0, rel=0.01)


def test_caps_default_allow_every_preset():
    caps = Limits()
    assert all(caps.problems(spec) == [] for spec in PRESETS.values())


def test_caps_name_the_field_the_limit_and_the_variable():
    caps = Limits(max_epochs=10, max_params=100_000, min_batch_size=64)
    spec = ModelSpec(layers=(LayerSpec(512), LayerSpec(512)), epochs=50, batch_size=16)
    problems = {problem.field: problem.message for problem in caps.problems(spec)}
    assert set(problems) == {"epochs", "batch_size", "layers"}
    assert "at most 10 epochs" in problems["epochs"] and "MNIST_DASH_MAX_EPOCHS" in problems["epochs"]
    assert "at least 64" in problems["batch_size"] and "MNIST_DASH_MIN_BATCH_SIZE" in problems["batch_size"]
    assert "669,706" in problems["layers"] and "MNIST_DASH_MAX_PARAMS" in problems["layers"]


def test_limits_from_the_environment():
    limits = Limits.from_env(
        {"MNIST_DASH_MAX_EPOCHS": " 100 ", "MNIST_DASH_OWNER_JOBS": "5", "MNIST_DASH_ORPHAN_S": "30"}
    )
    assert (limits.max_epochs, limits.owner_jobs, limits.orphan_s) == (100, 5, 30)
    assert limits.min_batch_size == Limits().min_batch_size
    assert Limits.from_env({}) == Limits()


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "2.5"])
def test_a_bad_cap_variable_is_a_clear_error(raw):
    with pytest.raises(LimitsError, match=f"MNIST_DASH_MAX_PARAMS must be a whole number of at least 1, not '{raw}'"):
        Limits.from_env({"MNIST_DASH_MAX_PARAMS": raw})


def test_one_limit_per_setting_the_servers_cap_where_it_is_stricter():
    from mnist_dash.spec import Problem

    limits = Limits(max_epochs=30, min_batch_size=32)
    own = [Problem("epochs", "must be between 1 and 200, got 250"), Problem("batch_size", "must be at least 1")]
    said = limits.one_limit({"epochs": 250, "batch_size": 0}, own)
    assert "at most 30 epochs" in said[0].message and "MNIST_DASH_MAX_EPOCHS" in said[0].message
    assert "at least 32" in said[1].message
    assert limits.one_limit({"epochs": "abc"}, own[:1]) == own[:1]  # not a number: the design's own problem
