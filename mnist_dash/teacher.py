"""Who is the teacher, and the class settings a teacher keeps in the store: the challenge and the class's rules.

A teacher signs in with the key the host set (`MNIST_DASH_TEACHER_KEY`, an environment
variable or root-level secret), or is a signed-in user whose email is on the host's list
(`MNIST_DASH_TEACHERS`, comma-separated). Without either set, nobody is a teacher.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace

from mnist_dash.challenge import Challenge, ChallengeError
from mnist_dash.jobs.limits import Limits
from mnist_dash.spec import SpecError, from_dict

KEY_ENV = "MNIST_DASH_TEACHER_KEY"
TEACHERS_ENV = "MNIST_DASH_TEACHERS"
CHALLENGE_SETTING = "challenge"
RULES_SETTING = "class_rules"
LOCKS = ("none", "presets", "fixed")
TEACHER_LIMITS = ("max_epochs", "max_params", "min_batch_size", "owner_jobs", "owner_runs")  # a teacher may change
FIXABLE = ("epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule", "initializer", "seed", "validation")


def teachers_configured() -> bool:
    """Whether the host set a teacher key or a list of teachers' emails."""
    return bool(os.environ.get(KEY_ENV, "").strip() or _emails())


def _emails() -> set[str]:
    return {email.strip().casefold() for email in os.environ.get(TEACHERS_ENV, "").split(",") if email.strip()}


def is_teacher(key: str | None = None, email: str | None = None) -> bool:
    """Whether `key` is the host's teacher key (compared in constant time) or `email` is on the teachers' list."""
    expected = os.environ.get(KEY_ENV, "").strip()
    if expected and key and hmac.compare_digest(key.strip().encode(), expected.encode()):
        return True
    return bool(email) and email.strip().casefold() in _emails()


def read_challenge(store) -> Challenge | None:
    """The class's challenge, or None when none is set (or the stored one cannot be read: it is then ignored)."""
    return challenge_from(store.setting(CHALLENGE_SETTING))


def challenge_from(text: str | None) -> Challenge | None:
    try:
        return Challenge.from_json(text) if text else None
    except ChallengeError:
        return None


def set_challenge(store, challenge: Challenge | None) -> None:
    """Set the class's challenge (None clears it); every page reads it from the store."""
    store.set_setting(CHALLENGE_SETTING, "" if challenge is None else challenge.to_json())


class RulesError(ValueError):
    """Class rules that cannot be used; the message says which setting and why."""


@dataclass(frozen=True)
class ClassRules:
    """What the teacher set for this class, over the host's limits: caps, a lock, a design sent to everyone."""

    limits: dict = field(default_factory=dict)  # TEACHER_LIMITS field -> whole number >= 1
    lock: str = "none"  # LOCKS
    fixed: dict = field(default_factory=dict)  # FIXABLE field -> value, with lock "fixed"
    pushed: dict | None = None  # a design (spec JSON) every student's Design page offers
    pushed_at: float = 0.0  # when it was sent: a student is offered each push once

    def __post_init__(self):
        for name, value in self.limits.items():
            if name not in TEACHER_LIMITS or type(value) is not int or value < 1:
                raise RulesError(f"{name} must be one of {', '.join(TEACHER_LIMITS)}, a whole number of at least 1")
        if self.lock not in LOCKS:
            raise RulesError(f"the lock is one of {', '.join(LOCKS)}, not {self.lock!r:.20}")
        if any(name not in FIXABLE for name in self.fixed):
            raise RulesError(f"only these settings can be fixed: {', '.join(FIXABLE)}")
        if self.pushed is not None:
            try:
                from_dict(self.pushed)
            except SpecError as error:
                raise RulesError(f"the design sent to the class is not valid: {error}") from None

    def apply(self, limits: Limits) -> Limits:
        """The host's limits with the teacher's caps and lock on top (what every start is checked against)."""
        fixed = tuple(sorted(self.fixed.items())) if self.lock == "fixed" else ()
        return replace(limits, **self.limits, lock=self.lock, fixed=fixed)

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
