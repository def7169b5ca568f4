"""Who is stuck (mnist_dash.classroom.stuck) over the class roll (mnist_dash.jobs.roll), by known answers."""

from mnist_dash.classroom.stuck import ago, students, summary
from mnist_dash.jobs.roll import Presence, Roll
from mnist_dash.runs.records import RunInfo
from mnist_dash.spec import LayerSpec, ModelSpec

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
SPEC = ModelSpec((LayerSpec(64),), epochs=2)


def stored(owner, name, minutes_ago, accuracy=None, status="finished"):
    from datetime import UTC, datetime

    created = datetime.fromtimestamp(NOW - minutes_ago * 60, UTC).isoformat(timespec="seconds")
    return RunInfo(
        f"run-{owner}-{minutes_ago}", status, created, SPEC, 50890, 2, (1.0, 1.0), 0.1, accuracy, None, owner, name
    )


class Clock:
    def __init__(self):
        self.now = NOW - 3600

    def __call__(self):
        return self.now


def test_the_roll_keeps_each_owners_newest_facts_and_forgets_the_oldest():
    clock = Clock()
    roll = Roll(clock, size=2)
    roll.seen("name:ann", "Ann")
    clock.now += 60
    roll.entered("name:ann", "Ann")
    clock.now += 60
    roll.refused("name:bo", "Bo", "You have 2 jobs in line; wait for one to finish.")
    clock.now += 60
    roll.ended("name:ann", "Ann", "diverged: the loss became NaN in epoch 1")
    roll.ended("name:ann", "Ann", "")  # a job that ended well changes nothing
    ann, bo = sorted(roll.everyone(), key=lambda p: p.name)
    assert (ann.first_seen, ann.last_seen, ann.last_entered) == (NOW - 3600, NOW - 3540, NOW - 3540)
    assert (ann.trouble, ann.trouble_at) == ("diverged: the loss became NaN in epoch 1", NOW - 3420)
    assert bo.trouble == "refused: You have 2 jobs in line; wait for one to finish." and bo.last_entered is None
    roll.seen("name:cy", "Cy")
    assert [p.name for p in roll.everyone()] == ["Cy", "Ann"]  # Bo's facts are the oldest: he goes


def test_one_row_per_student_with_the_stuck_first():
    roll = [
        Presence("name:ann", "Ann", NOW - 3000, NOW - 30, last_entered=NOW - 2400),  # trained 40 min ago
        Presence(
            "name:bo",
            "Bo",
            NOW - 3000,
            NOW - 200,
            last_entered=NOW - 300,
            trouble="refused: queue full",
            trouble_at=NOW - 290,
        ),
        Presence("name:cy", "Cy", NOW - 1500, NOW - 10),  # here 25 min, never trained
        Presence("name:di", "Di", NOW - 3000, NOW - 5, last_entered=NOW - 3000),  # in line now
    ]
    runs = [
        stored("name:ann", "Ann", 35, 0.975),
        stored("name:ann", "Ann", 38, 0.981),
        stored("name:ann", "Ann", 39, None, status="stopped"),
        stored("name:ed", "Ed", 12, 0.960),  # trained on another server of the class: not on this roll
    ]
    rows = students(roll, runs, {"name:di": (1, 1)}, NOW)
    assert [(r.name, r.stuck) for r in rows] == [
        ("Ann", True),
        ("Cy", True),
        ("Ed", True),
        ("Bo", False),
        ("Di", False),
    ]
    ann, cy, ed, bo, di = rows
    assert (ann.finished, ann.best, ann.idle, ann.last_seen) == (2, 0.981, 2100.0, 30.0)  # her newest run: 35 min
    assert (cy.finished, cy.best, cy.idle) == (0, None, 1500.0)  # since she arrived
    assert (ed.last_seen, ed.idle, ed.trouble) == (None, 720.0, "")
    assert (bo.idle, bo.stuck, bo.trouble, bo.trouble_ago) == (300.0, False, "refused: queue full", 290.0)
    assert (di.idle, di.jobs(), bo.jobs()) == (None, "1 running, 1 waiting", "none")
    assert summary(rows) == "5 students this lesson; 3 trained nothing for 10 minutes or more: Ann, Cy, Ed."
    assert summary(rows[3:]) == "2 students this lesson; nobody has gone 10 minutes without training."
    assert students([], [], {}, NOW) == []


def test_times_ago_read_as_people_say_them():
    assert [ago(s) for s in (None, 20, 61, 3599, 3600 + 5 * 60)] == [
        "not seen",
        "just now",
        "1 min ago",
        "59 min ago",
        "1 h 05 min ago",
    ]


def test_the_queue_puts_refusals_entries_and_failures_on_its_roll(tiny_data, tiny_spec):
    import numpy as np

    from mnist_dash.data import Mnist
    from mnist_dash.jobs import JobQueue, JobRefused, Limits, TrainingJob
    from mnist_dash.owners import Owner

    queue = JobQueue(1)
    ann = Owner("name:ann", "Ann", "name")
    queue.seen(ann.key, ann.name)
    broken = Mnist(np.zeros((64, 27, 27), np.uint8), tiny_data.y_train[:64], tiny_data.x_test, tiny_data.y_test)
    job = TrainingJob(tiny_spec, broken, queue=queue, owner=ann).start()
    job.wait(timeout=120)
    [presence] = queue.roll.everyone()
    assert presence.name == "Ann" and presence.last_entered is not None
    assert presence.trouble.startswith("failed: ") and "Error" in presence.trouble
    limits = Limits(owner_jobs=0)
    try:
        queue.enter(TrainingJob(tiny_spec, tiny_data, queue=queue, owner=ann), limits)
    except JobRefused as refused:
        said = refused.reasons[0].text
    [presence] = queue.roll.everyone()
    assert presence.trouble == f"refused: {said}"
