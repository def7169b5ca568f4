"""The class roll: who was here this lesson, when each was last seen, last trained, and the last trouble they met.

Kept by the queue (`JobQueue.roll`) from what it sees already: an owner's page drawn (`seen`), a
job entering the line (`entered`), a Start refused (`refused`), a job that ended failed, diverged
or stopped for a reason that was not its owner's Stop (`ended`). Wall-clock times (the Teacher
page says "5 min ago"); nothing else about a student, and only the teacher's page reads it.
Bounded like the queue's memory of recent jobs: the oldest owners go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

OWNERS = 500  # owners remembered (the queue's RECENT_OWNERS)


@dataclass(frozen=True)
class Presence:
    owner: str  # the owner's key
    name: str  # as shown
    first_seen: float  # wall-clock seconds (time.time)
    last_seen: float
    last_entered: float | None = None  # when their newest job entered the line; None: never this server's life
    trouble: str = ""  # the last refusal or failure they met, in the words they were shown
    trouble_at: float | None = None


class Roll:
    """Who the queue has seen, each owner's newest facts; thread-safe."""

    def __init__(self, clock=time.time, size: int = OWNERS):
        self._clock, self._size = clock, size
        self._lock = threading.Lock()
        self._people: OrderedDict[str, Presence] = OrderedDict()

    def _update(self, owner: str, name: str | None, seen: bool = True, **changes) -> None:
        now = self._clock()
        with self._lock:
            known = self._people.pop(owner, None) or Presence(owner, name or owner, now, now)
            last_seen = now if seen else known.last_seen
            self._people[owner] = replace(known, name=name or known.name, last_seen=last_seen, **changes)
            while len(self._people) > self._size:
                self._people.popitem(last=False)

    def seen(self, owner: str, name: str | None = None) -> None:
        """One of the owner's pages was drawn."""
        self._update(owner, name)

    def entered(self, owner: str, name: str) -> None:
        """A job of theirs entered the line."""
        self._update(owner, name, last_entered=self._clock())

    def refused(self, owner: str, name: str, text: str) -> None:
        """A Start of theirs was refused; `text` is the refusal as they read it."""
        self._update(owner, name, trouble=f"refused: {text}", trouble_at=self._clock())

    def ended(self, owner: str, name: str, trouble: str) -> None:
        """A job of theirs ended with `trouble` (failed, diverged, stopped by a limit or the teacher)."""
        if trouble:
            self._update(owner, name, seen=False, trouble=trouble, trouble_at=self._clock())

    def everyone(self) -> list[Presence]:
        """Everyone on the roll, the most recently seen first."""
        with self._lock:
            return sorted(self._people.values(), key=lambda presence: -presence.last_seen)
