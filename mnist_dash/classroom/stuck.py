"""Who is stuck: one row per student of the lesson, from the class roll, the queue and the lesson's stored runs.

Pure: the Teacher page gathers the roll (`jobs.roll.Presence`), each owner's jobs queued and running,
and the runs stored since the lesson began, and `students` says, per student, when they were last seen,
what they have in line, how many runs they finished and their best, the last refusal or failure they
met, and how long since they last trained: nothing for `IDLE_S` with nothing in line is marked stuck.
Only the teacher sees it; nothing here is shown to other students.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mnist_dash.jobs.roll import Presence
from mnist_dash.runs.records import RunInfo
from mnist_dash.text import count

IDLE_S = 600  # ten minutes without training anything, nothing in line: worth a visit


@dataclass(frozen=True)
class Student:
    owner: str  # the owner's key
    name: str
    last_seen: float | None  # seconds ago; None: not seen by this server (runs only)
    queued: int  # jobs waiting for a turn
    running: int
    finished: int  # runs finished this lesson
    best: float | None  # their best test accuracy this lesson
    trouble: str  # the last refusal or failure they met ("" when none)
    trouble_ago: float | None
    idle: float | None  # seconds since they last started a job or stored a run (or arrived); None while one is in line
    stuck: bool  # nothing trained for IDLE_S, nothing in line

    def jobs(self) -> str:
        parts = [f"{self.running} running" if self.running else "", f"{self.queued} waiting" if self.queued else ""]
        return ", ".join(part for part in parts if part) or "none"


def _wall(created: str) -> float:
    return datetime.fromisoformat(created).timestamp()


def ago(seconds: float | None) -> str:
    """'just now', '4 min ago', '2 h 05 min ago'."""
    if seconds is None:
        return "not seen"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    return f"{minutes} min ago" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min ago"


def students(
    roll: list[Presence],
    runs: list[RunInfo],
    active: dict[str, tuple[int, int]],
    now: float,
    idle_after_s: float = IDLE_S,
) -> list[Student]:
    """One row per student on the roll or with a run this lesson: the stuck first (longest idle first), then by name.

    Args:
        roll: the queue's roll (`JobQueue.roll.everyone()`).
        runs: the runs stored this lesson (any status), with owners.
        active: per owner key, (jobs waiting, jobs running) now.
        now: wall-clock seconds (time.time).
    """
    people = {presence.owner: presence for presence in roll}
    names = {run.owner: run.owner_name or run.owner for run in runs if run.owner}
    found = []
    for owner in sorted(set(people) | set(names)):
        presence = people.get(owner)
        mine = [run for run in runs if run.owner == owner]
        finished = [run.test_accuracy for run in mine if run.status == "finished" and run.test_accuracy is not None]
        queued, running = active.get(owner, (0, 0))
        trained = [_wall(run.created) for run in mine]
        if presence is not None:
            trained.append(presence.last_entered or presence.first_seen)
        idle = None if queued or running else max(0.0, now - max(trained))
        found.append(
            Student(
                owner=owner,
                name=presence.name if presence else names[owner],
                last_seen=None if presence is None else max(0.0, now - presence.last_seen),
                queued=queued,
                running=running,
                finished=len(finished),
                best=max(finished, default=None),
                trouble=presence.trouble if presence else "",
                trouble_ago=None if presence is None or presence.trouble_at is None else now - presence.trouble_at,
                idle=idle,
                stuck=idle is not None and idle >= idle_after_s,
            )
        )
    return sorted(found, key=lambda s: (not s.stuck, -(s.idle or 0.0) if s.stuck else 0.0, s.name.casefold()))


def summary(rows: list[Student]) -> str:
    """'12 students this lesson; 3 have trained nothing for 10 minutes: Ann, Bo, Cy.'"""
    stuck = [row.name for row in rows if row.stuck]
    said = f"{count(len(rows), 'student')} this lesson"
    if not stuck:
        return f"{said}; nobody has gone {IDLE_S // 60} minutes without training."
    return f"{said}; {len(stuck)} trained nothing for {IDLE_S // 60} minutes or more: {', '.join(stuck)}."
