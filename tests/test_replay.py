"""A stored run replayed (jobs.replay): curves by the recorded clock, marked as a replay; when it is offered."""

import pytest

from mnist_dash.jobs import JobStatus, Limits, LimitsError
from mnist_dash.jobs.admission import Refusal, refusals
from mnist_dash.jobs.replay import Replay, offers_replay, same_design
from mnist_dash.runs.records import RunInfo
from mnist_dash.spec import LayerSpec, ModelSpec

SPEC = ModelSpec((LayerSpec(64),), epochs=3, name="mine")
HISTORY = {
    "epochs": [
        {"epoch": e, "loss": 1 / e, "accuracy": 0.9, "val_loss": 1 / e, "val_accuracy": 0.9, "seconds": s}
        for e, s in ((1, 2.0), (2, 3.0), (3, 5.0))
    ],
    "batches": [{"epoch": k / 4, "loss": 1.0, "accuracy": 0.5} for k in range(1, 13)],
}


def info(spec=SPEC, accuracy=0.97, status="finished", run_id="run-1"):
    return RunInfo(
        run_id,
        status,
        "2026-12-03T09:12:00+00:00",
        spec,
        50890,
        3,
        (2.0, 3.0, 5.0),
        0.1,
        accuracy,
        None,
        "name:ann",
        "Ann",
    )


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def test_a_replay_shows_each_epoch_when_its_recorded_seconds_have_passed():
    clock = Clock()
    replay = Replay(info(), HISTORY, speed=1, clock=clock)
    first = replay.snapshot()
    assert (first.status, first.epoch, first.batch_history, first.test_accuracy) == (JobStatus.RUNNING, 0, (), None)
    assert first.status_line == "replaying epoch 1 of 3" and not replay.done
    assert first.replay == "a replay of Ann's run of 2026-12-03 09:12 UTC, at the pace it was recorded"
    clock.now += 3.5  # epoch 1 ended at 2 s; half of epoch 2 (3 s long) has played
    middle = replay.snapshot()
    assert middle.epoch == 1 and [h["epoch"] for h in middle.history] == [1]
    assert [b["epoch"] for b in middle.batch_history] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert middle.eta == pytest.approx(6.5) and replay.remaining_seconds() == pytest.approx(6.5)
    clock.now += 6.5
    end = replay.snapshot()
    assert replay.done and end.status == JobStatus.FINISHED and end.epoch == 3 and end.test_accuracy == 0.97
    assert end.run_id == "run-1" and end.replay and end.elapsed == 10.0


def test_a_faster_replay_and_a_stopped_one():
    clock = Clock()
    fast = Replay(info(), HISTORY, speed=5, clock=clock)
    assert "5 times faster than recorded" in fast.about
    clock.now += 1.0  # 5 recorded seconds: epochs 1 and 2
    assert fast.snapshot().epoch == 2
    fast.stop()
    clock.now += 60
    stopped = fast.snapshot()
    assert fast.done and stopped.status == JobStatus.STOPPED and stopped.epoch == 2 and stopped.run_id is None
    assert stopped.reason == "you stopped the replay"


def test_the_runs_offered_are_the_same_design_finished_best_first():
    other_seed = info(SPEC.replace(seed=4, name="theirs"), 0.98, run_id="run-2")
    wider = info(ModelSpec((LayerSpec(128),), epochs=3), 0.99, run_id="run-3")
    stopped = info(accuracy=None, status="stopped", run_id="run-4")
    assert [run.run_id for run in same_design([info(), other_seed, wider, stopped], SPEC)] == ["run-2", "run-1"]


def test_replay_is_offered_when_the_server_will_not_train(monkeypatch):
    assert offers_replay([Refusal("max_queue", "full")]) and offers_replay([Refusal("replay", "replay only")])
    assert not offers_replay([Refusal("owner_jobs", "you have 2")]) and not offers_replay([])
    limits = Limits.from_env({"MNIST_DASH_REPLAY": "1"})
    assert limits.replay and not Limits.from_env({}).replay and not Limits.from_env({"MNIST_DASH_REPLAY": "0"}).replay
    with pytest.raises(LimitsError, match="MNIST_DASH_REPLAY must be 1"):
        Limits.from_env({"MNIST_DASH_REPLAY": "sometimes"})
    [said] = refusals(SPEC, limits, owner_active=0, queue_length=0, stored_runs=0)
    assert said.limit == "replay" and "does not train: it replays stored runs (MNIST_DASH_REPLAY=1)" in said.text
