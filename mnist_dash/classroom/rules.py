"""The class's rules, which a teacher keeps in the store: caps for this class, a lock, a design sent to all.

The rules sit on top of the host's `Limits` (`ClassRules.apply`): what every start is
checked against, and what the Design page's inputs ask (`Limits.holds`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace

from mnist_dash.jobs.limits import Limits, Lock
from mnist_dash.spec import SpecError, from_dict

RULES_SETTING = "class_rules"
TEACHER_LIMITS = ("max_epochs", "max_params", "min_batch_size", "owner_jobs", "owner_runs")  # a teacher may change
RAISE_ENV = "MNIST_DASH_TEACHER_MAY_RAISE"  # "1": the host lets a teacher go past its limits, not only under them
LOOSER_WHEN_SMALLER = ("min_batch_size",)  # a smaller smallest batch asks more of the server


def teacher_may_raise() -> bool:
    return os.environ.get(RAISE_ENV, "").strip() == "1"


def within_host(name: str, value: int, host: Limits) -> int:
    """`value` for limit `name`, held to the host's: a teacher tightens the host's limits, never loosens them."""
    ceiling = getattr(host, name)
    return max(value, ceiling) if name in LOOSER_WHEN_SMALLER else min(value, ceiling)


FIXABLE = ("epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule", "initializer", "seed", "validation")


class RulesError(ValueError):
    """Class rules that cannot be used; the message says which setting and why."""


@dataclass(frozen=True)
class ClassRules:
    """What the teacher set for this class, over the host's limits: caps, a lock, a design sent to everyone."""

    limits: dict = field(default_factory=dict)  # TEACHER_LIMITS field -> whole number >= 1
    lock: Lock = Lock.NONE
    fixed: dict = field(default_factory=dict)  # FIXABLE field -> value, with Lock.FIXED
    pushed: dict | None = None  # a design (spec JSON) every student's Design page offers
    pushed_at: float = 0.0  # when it was sent: a student is offered each push once

    def __post_init__(self):
        for name, value in self.limits.items():
            if name not in TEACHER_LIMITS or type(value) is not int or value < 1:
                raise RulesError(f"{name} must be one of {', '.join(TEACHER_LIMITS)}, a whole number of at least 1")
        if self.lock not in tuple(Lock):
            raise RulesError(f"the lock is one of {', '.join(Lock)}, not {self.lock!r:.20}")
        object.__setattr__(self, "lock", Lock(self.lock))  # from the stored JSON's text
        if any(name not in FIXABLE for name in self.fixed):
            raise RulesError(f"only these settings can be fixed: {', '.join(FIXABLE)}")
        if self.pushed is not None:
            try:
                from_dict(self.pushed)
            except SpecError as error:
                raise RulesError(f"the design sent to the class is not valid: {error}") from None

    def apply(self, limits: Limits) -> Limits:
        """The host's limits with the teacher's caps and lock on top (what every start is checked against).

        The teacher's caps are held to the host's (`within_host`) unless the host allows more (`RAISE_ENV`).
        """
        fixed = tuple(sorted(self.fixed.items())) if self.lock == Lock.FIXED else ()
        mine = self.limits
        if not teacher_may_raise():
            mine = {name: within_host(name, value, limits) for name, value in mine.items()}
        return replace(limits, **mine, lock=self.lock, fixed=fixed)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ClassRules:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as error:
            raise RulesError(f"the stored class rules cannot be read ({error})") from None


def read_rules(store) -> ClassRules:
    """The class's rules; none (the host's limits alone) when never set or unreadable."""
    return rules_from(store.setting(RULES_SETTING))


def rules_from(text: str | None) -> ClassRules:
    try:
        return ClassRules.from_json(text) if text else ClassRules()
    except RulesError:
        return ClassRules()


def set_rules(store, rules: ClassRules) -> None:
    store.set_setting(RULES_SETTING, rules.to_json())


def push(store, spec_json: dict) -> ClassRules:
    """Send a design to every student (their Design page offers it once)."""
    rules = replace(read_rules(store), pushed=spec_json, pushed_at=time.time())
    set_rules(store, rules)
    return rules
