"""The class's queue: who may enter it, whose turn it is, who left it, and where each job stands.

At most `slots` jobs train at once: as many as the app's runner says (`Runner.slots`:
`MNIST_DASH_MAX_JOBS`, default 1, for worker processes; a Ray cluster's CPUs). A turn is
a slice of a job (an epoch, with a runner that trains in slices) or the whole job. Whose
turn is next is one rule, `turn_order`: a job that has not finished its first epoch goes
before every job that has (a student who has seen nothing yet matters more than one in
their eighth epoch), and within each, owners take fair turns, not first come first
served: each owner's turns get start tags (start-time fair queuing with one unit per
turn), so an owner's second job never goes before another owner's first that was queued
while it waited, however fast one student presses Start. A queued job whose owner's pages
have not been seen for the orphan time leaves the line. The queue also remembers each
owner's latest jobs, so a reload or a new tab finds them again.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from mnist_dash.jobs.admission import JobRefused, Refusal, refusals
from mnist_dash.jobs.limits import Limits
from mnist_dash.jobs.roll import Roll
from mnist_dash.jobs.runners import app_runner

RECENT_JOBS = 3  # per owner: what a reload shows
RECENT_OWNERS = 500  # owners whose latest jobs are remembered (each holds its histories)
# One line per entry, start and exit (owner keys, never names): what a host reads to see the class's queue.
log = logging.getLogger(__name__)


@dataclass
class _Place:
    job: object  # a TrainingJob: job_id, owner, epochs_done, turn_seconds()
    tag: int  # start tag: the owner's turn number (among first epochs, or among the later turns)
    seq: int  # arrival order, between equal tags
    running: bool = False
    begun: bool = False  # it has had a turn (it waits between two now)


def turn_order(place: _Place) -> tuple:
    """Who goes next among the jobs waiting for a turn (smallest first): a job that has not finished its first
    epoch before every job that has; then the owners' fair turns (start tags); then arrival."""
    return (getattr(place.job, "epochs_done", 0) > 0, place.tag, place.seq)


def _turn_seconds(job) -> float:
    turn = getattr(job, "turn_seconds", None)
    return turn() if turn is not None else job.remaining_seconds()


def orphan_reason(seconds: int) -> str:
    return (
        f"it left the line because none of your pages was open for {seconds} s (MNIST_DASH_ORPHAN_S); "
        "press Start to queue again"
    )


class JobQueue:
    """Admission, turn order, orphans and queue positions for the jobs of one server."""

    def __init__(self, slots: int | Callable[[], int] = 1, clock=time.monotonic):
        if not callable(slots) and slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self._slots = slots
        self._clock = clock
        self._condition = threading.Condition()
        self._places: dict[str, _Place] = {}  # queued or running, by job id
        self._virtual = 0  # the start tag of the newest first turn to start
        self._next_tag: dict[str, int] = {}  # per owner: the tag its next job gets at the earliest
        self._later_virtual = 0  # the same for the turns after a job's first
        self._later_next: dict[str, int] = {}
        self._arrivals = itertools.count()
        self._seen: dict[str, float] = {}  # per owner: when one of their pages was last drawn
        self._recent: OrderedDict[str, deque] = OrderedDict()
        self.roll = Roll()  # who was here, for the teacher's list of who is stuck

    @property
    def slots(self) -> int:
        """How many jobs may train at once now (a cluster's count may change while jobs wait)."""
        return self._slots() if callable(self._slots) else self._slots

    # ---- entering and leaving ----

    def refusals(self, spec, owner_key: str, limits: Limits, stored_runs: int = 0, count: int = 1) -> list[Refusal]:
        """What `enter` would say to `count` more jobs of this owner now (the buttons mirror it)."""
        with self._condition:
            return self._refusals(spec, owner_key, limits, stored_runs, count)

    def _refusals(self, spec, owner_key, limits, stored_runs, count) -> list[Refusal]:
        active = sum(place.job.owner.key == owner_key for place in self._places.values())
        return refusals(
            spec, limits, owner_active=active, queue_length=len(self._places), stored_runs=stored_runs, count=count
        )

    def enter(self, job, limits: Limits | None = None, stored_runs: int = 0) -> None:
        """Put `job` in line, or raise JobRefused with the reasons (no limits: the CLI's own machine)."""
        owner = job.owner.key
        with self._condition:
            if limits is not None and (reasons := self._refusals(job.spec, owner, limits, stored_runs, 1)):
                self.roll.refused(owner, job.owner.name, " ".join(reason.text for reason in reasons))
                raise JobRefused(reasons)
            tag = max(self._virtual, self._next_tag.get(owner, 0))
            self._next_tag[owner] = tag + 1
            self._places[job.job_id] = _Place(job, tag, next(self._arrivals))
            self._seen[owner] = self._clock()
            self._remember(owner, job)
            self._condition.notify_all()
            self._log("entered", job)
        self.roll.entered(owner, job.owner.name)

    def wait_turn(self, job, cancelled: threading.Event, orphan_s: int | None = None) -> str | None:
        """Block until `job` may train (None), or it leaves the line: "" when cancelled, else the reason."""
        owner = job.owner.key
        with self._condition:
            place = self._places[job.job_id]
            while True:
                if cancelled.is_set():
                    self._drop(place)
                    return ""
                if orphan_s is not None and self._clock() - self._seen.get(owner, 0.0) > orphan_s:
                    self._drop(place)
                    return orphan_reason(orphan_s)
                if self._next_up() is place and self._running() < self.slots:
                    place.running = True
                    if place.begun:
                        self._later_virtual = max(self._later_virtual, place.tag)
                    else:
                        self._virtual = max(self._virtual, place.tag)
                    self._condition.notify_all()
                    self._log("resumed" if place.begun else "started", job)
                    return None
                self._condition.wait(timeout=0.5)

    def pause(self, job_id: str) -> None:
        """A job's turn (a slice) ended and it has more to train: its slot goes to the next in turn, and it waits
        for its next turn (`wait_turn`) with a new tag among the later turns of its owner."""
        with self._condition:
            place = self._places.get(job_id)
            if place is None or not place.running:
                return
            owner = place.job.owner.key
            place.running, place.begun = False, True
            place.tag = max(self._later_virtual, self._later_next.get(owner, 0))
            self._later_next[owner] = place.tag + 1
            self._condition.notify_all()
            self._log("paused", place.job)

    def leave(self, job_id: str) -> None:
        """A job is over (trained, stopped or failed): its place goes to the next in turn."""
        with self._condition:
            place = self._places.get(job_id)
            if place is not None:
                self._drop(place)

    def _drop(self, place: _Place) -> None:
        del self._places[place.job.job_id]
        self._log("left", place.job)
        owner = place.job.owner.key
        tags = self._later_next if place.begun else self._next_tag
        if not place.running and tags.get(owner) == place.tag + 1:
            tags[owner] = place.tag  # a turn never taken is given back
        self._condition.notify_all()

    def _log(self, event: str, job) -> None:
        owner = job.owner.key
        mine = sum(p.job.owner.key == owner for p in self._places.values())
        log.info("queue %s %s owner=%s owner_active=%d total=%d", event, job.job_id, owner, mine, len(self._places))

    def wake(self) -> None:
        """Make waiters look again (after a cancellation)."""
        with self._condition:
            self._condition.notify_all()

    def seen(self, owner_key: str, name: str | None = None) -> None:
        """One of the owner's pages was just drawn: their queued jobs are not orphans."""
        with self._condition:
            self._seen[owner_key] = self._clock()
        self.roll.seen(owner_key, name)

    # ---- where things stand ----

    def _waiting(self) -> list[_Place]:
        return sorted((p for p in self._places.values() if not p.running), key=turn_order)

    def _next_up(self) -> _Place | None:
        waiting = self._waiting()
        return waiting[0] if waiting else None

    def _running(self) -> int:
        return sum(place.running for place in self._places.values())

    def position(self, job_id: str) -> int:
        """1 for the next job to have a turn, 2 after it, ...; 0 when not waiting."""
        with self._condition:
            order = [place.job.job_id for place in self._waiting()]
        return order.index(job_id) + 1 if job_id in order else 0

    def wait_estimate(self, job_id: str) -> float | None:
        """Seconds until `job_id`'s next turn: the turns ahead of it in turn order (the rest of those running, one
        turn of each waiting one ahead) shared over the slots."""
        with self._condition:
            waiting = self._waiting()
            ids = [place.job.job_id for place in waiting]
            if job_id not in ids:
                return None
            ahead = [p.job for p in self._places.values() if p.running] + [p.job for p in waiting[: ids.index(job_id)]]
        return sum(max(0.0, _turn_seconds(job)) for job in ahead) / self.slots

    @property
    def running(self) -> int:
        with self._condition:
            return self._running()

    @property
    def queued(self) -> int:
        with self._condition:
            return len(self._places) - self._running()

    def everyone(self) -> list:
        """Every job queued, running or waiting for its next turn: running first, then in turn order (the teacher's
        view of the queue)."""
        with self._condition:
            places = list(self._places.values())
        return [place.job for place in sorted(places, key=lambda p: (not p.running, *turn_order(p)))]

    def active_of(self, owner_key: str) -> list:
        """The owner's jobs queued or running, in arrival order."""
        with self._condition:
            places = sorted(self._places.values(), key=lambda p: p.seq)
            return [p.job for p in places if p.job.owner.key == owner_key]

    def jobs_of(self, owner_key: str) -> list:
        """The owner's latest jobs, newest first, ended ones too: what a reload shows them."""
        with self._condition:
            return list(reversed(self._recent.get(owner_key, ())))

    def recent(self) -> list:
        """Every owner's latest jobs (the ones a reload finds), ended ones too: the lesson the teacher reads."""
        with self._condition:
            return [job for jobs in self._recent.values() for job in jobs]

    def _remember(self, owner: str, job) -> None:
        jobs = self._recent.pop(owner, None) or deque(maxlen=RECENT_JOBS)
        jobs.append(job)
        self._recent[owner] = jobs
        while len(self._recent) > RECENT_OWNERS:
            self._recent.popitem(last=False)


_default_queue: JobQueue | None = None
_default_lock = threading.Lock()


def default_queue() -> JobQueue:
    """The process-wide queue, with as many slots as the app's runner has (`runners.app_runner`)."""
    global _default_queue
    with _default_lock:
        if _default_queue is None:
            _default_queue = JobQueue(app_runner().slots)
        return _default_queue
