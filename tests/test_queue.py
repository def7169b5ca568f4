"""Waiting in line on a shared server: wait estimates, the pace model, and the caps."""

import threading

import pytest

from mnist_dash.caps import Caps, CapsError
from mnist_dash.jobs import JobStatus, TrainingJob
from mnist_dash.limiter import JobLimiter
from mnist_dash.pace import Pace
from mnist_dash.presets import PRESETS
from mnist_dash.spec import LayerSpec, ModelSpec

from .test_jobs import wait_until


def test_the_wait_is_the_work_ahead_shared_over_the_slots():
    limiter = JobLimiter(2)
    never = threading.Event()
    assert limiter.acquire("a", never, remaining=lambda: 30.0)
    assert limiter.acquire("b", never, remaining=lambda: 10.0)
    waiters = [
        threading.Thread(target=limiter.acquire, args=(name, never), kwargs={"remaining": lambda s=s: s})
        for name, s in (("c", 20.0), ("d", 5.0))
    ]
    for index, thread in enumerate(waiters):
        thread.start()
        wait_until(lambda i=index: limiter.queued == i + 1)
    assert limiter.wait_estimate("c") == pytest.approx((30 + 10) / 2)
    assert limiter.wait_estimate("d") == pytest.approx((30 + 10 + 20) / 2)
    assert limiter.wait_estimate("a") is None  # running, not waiting
    limiter.release("a")
    limiter.release("b")
    for thread in waiters:
        thread.join(5)
    assert limiter.queued == 0


def test_no_estimate_when_a_job_ahead_cannot_say():
    limiter = JobLimiter(1)
    never = threading.Event()
    assert limiter.acquire("a", never)  # no remaining given
    waiter = threading.Thread(target=limiter.acquire, args=("b", never), kwargs={"remaining": lambda: 1.0})
    waiter.start()
    wait_until(lambda: limiter.queued == 1)
    assert limiter.wait_estimate("b") is None
    limiter.release("a")
    waiter.join(5)


def test_a_queued_job_knows_its_wait_and_cancelling_leaves_the_line(tiny_data, tiny_spec):
    limiter = JobLimiter(1)
    holder = threading.Event()
    assert limiter.acquire("someone-else", holder, remaining=lambda: 42.0)
    queued = TrainingJob(tiny_spec, tiny_data, limiter=limiter).start()
    wait_until(lambda: queued.snapshot().queue_position == 1)
    snap = queued.snapshot()
    assert snap.status == JobStatus.QUEUED and snap.wait == pytest.approx(42.0)
    assert queued.remaining_seconds() > 0
    queued.stop()
    assert queued.wait(timeout=10).status == JobStatus.STOPPED and limiter.queued == 0
    assert queued.remaining_seconds() == 0.0


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
    caps = Caps()
    assert all(caps.problems(spec) == [] for spec in PRESETS.values())


def test_caps_name_the_field_the_limit_and_the_variable():
    caps = Caps(max_epochs=10, max_params=100_000, min_batch_size=64)
    spec = ModelSpec(layers=(LayerSpec(512), LayerSpec(512)), epochs=50, batch_size=16)
    problems = {problem.field: problem.message for problem in caps.problems(spec)}
    assert set(problems) == {"epochs", "batch_size", "layers"}
    assert "at most 10 epochs" in problems["epochs"] and "MNIST_DASH_MAX_EPOCHS" in problems["epochs"]
    assert "at least 64" in problems["batch_size"] and "MNIST_DASH_MIN_BATCH_SIZE" in problems["batch_size"]
    assert "669,706" in problems["layers"] and "MNIST_DASH_MAX_PARAMS" in problems["layers"]


def test_caps_from_the_environment():
    caps = Caps.from_env({"MNIST_DASH_MAX_EPOCHS": " 100 ", "MNIST_DASH_SESSION_JOBS": "5"})
    assert (caps.max_epochs, caps.session_jobs, caps.min_batch_size) == (100, 5, Caps().min_batch_size)
    assert Caps.from_env({}) == Caps()


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "2.5"])
def test_a_bad_cap_variable_is_a_clear_error(raw):
    with pytest.raises(CapsError, match=f"MNIST_DASH_MAX_PARAMS must be a whole number of at least 1, not '{raw}'"):
        Caps.from_env({"MNIST_DASH_MAX_PARAMS": raw})
