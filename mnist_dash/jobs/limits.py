"""Limits for a shared server: the most one design, one owner and the whole class may ask of it.

A class of thirty shares one small container. A design that would train for an hour
(many epochs, a huge network, tiny batches) is refused with a message that says which
cap it exceeds and how a teacher raises it; an owner may have only a few jobs in line
at once and a few dozen runs stored; the line itself is bounded, a job left in line by
a closed page leaves it, and a job that trains too long is stopped. Every value comes
from an environment variable (on Streamlit Community Cloud, root-level entries of the
app's secrets become environment variables, so the same names work there). The CLI is
not limited: it runs on the user's own machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

from mnist_dash.plan import count_params
from mnist_dash.presets import PRESETS
from mnist_dash.spec import ModelSpec, Problem

ENV_NAMES = {
    "max_epochs": "MNIST_DASH_MAX_EPOCHS",
    "max_params": "MNIST_DASH_MAX_PARAMS",
    "min_batch_size": "MNIST_DASH_MIN_BATCH_SIZE",
    "owner_jobs": "MNIST_DASH_OWNER_JOBS",
    "max_queue": "MNIST_DASH_MAX_QUEUE",
    "orphan_s": "MNIST_DASH_ORPHAN_S",
    "job_seconds": "MNIST_DASH_JOB_SECONDS",
    "owner_runs": "MNIST_DASH_OWNER_RUNS",
}


REPLAY_ENV = "MNIST_DASH_REPLAY"
FREE_UNDER_PRESETS = ("name", "epochs", "seed", "validation")  # what a student may still change under "presets"


class LimitsError(ValueError):
    """A limit variable that is not a usable number."""


class Lock(StrEnum):
    """What a teacher's lock holds (mnist_dash.classroom.rules): nothing, a preset's design, or chosen settings."""

    NONE = "none"
    PRESETS = "presets"  # designs must be one of the presets; FREE_UNDER_PRESETS stay free
    FIXED = "fixed"  # the `fixed` settings hold, at the teacher's values


@dataclass(frozen=True)
class Limits:
    max_epochs: int = 30  # the notebook trains for 20
    max_params: int = 2_000_000  # the notebook's largest model has 784,960
    min_batch_size: int = 32  # the notebook uses 128; batch 1 would take 60,000 steps an epoch
    owner_jobs: int = 2  # queued or running per owner, across all of their tabs and reloads
    max_queue: int = 40  # queued or running on the whole server: a class of thirty, with room
    orphan_s: int = 120  # a queued job whose owner's pages were all closed this long leaves the line
    job_seconds: int = 900  # a job training longer is stopped (and saved as stopped)
    owner_runs: int = 30  # stored runs per owner: past that, old ones must go first
    replay: bool = False  # MNIST_DASH_REPLAY=1: this copy never trains; Train replays stored runs (jobs.replay)
    # Set by a teacher (mnist_dash.classroom.rules), never by the environment:
    lock: Lock = Lock.NONE
    fixed: tuple[tuple[str, object], ...] = ()  # (field, value) pairs the teacher fixed, with Lock.FIXED

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits, each from its environment variable when set (a whole number ≥ 1)."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            if field.name not in ENV_NAMES:
                continue  # a teacher's setting
            name = ENV_NAMES[field.name]
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or int(raw) < 1:
                raise LimitsError(f"{name} must be a whole number of at least 1, not {raw!r:.40}: fix or unset it.")
            values[field.name] = int(raw)
        replay = environ.get(REPLAY_ENV, "").strip().lower()
        if replay not in ("", "0", "1", "true", "false", "yes", "no"):
            raise LimitsError(f"{REPLAY_ENV} must be 1 (replay only) or 0, not {replay!r:.40}: fix or unset it.")
        values["replay"] = replay in ("1", "true", "yes")
        return cls(**values)

    def problems(self, spec: ModelSpec) -> list[Problem]:
        """What in `spec` goes beyond the caps, each on its field with the variable that raises it."""
        return [problem for _, problem in self.breaches(spec)]

    def breaches(self, spec: ModelSpec) -> Iterator[tuple[str, Problem]]:
        """Each limit `spec` goes beyond (its field name here, or "lock"), with the problem on the design's field."""
        if spec.epochs > self.max_epochs:
            yield (
                "max_epochs",
                Problem("epochs", self._beyond(f"at most {self.max_epochs} epochs", "max_epochs", spec.epochs)),
            )
        if spec.batch_size < self.min_batch_size:
            wording = f"a batch size of at least {self.min_batch_size}"
            yield "min_batch_size", Problem("batch_size", self._beyond(wording, "min_batch_size", spec.batch_size))
        params = count_params(spec).total
        if params > self.max_params:
            yield (
                "max_params",
                Problem("layers", self._beyond(f"at most {self.max_params:,} parameters", "max_params", f"{params:,}")),
            )
        for problem in self._locked(spec):
            yield "lock", problem

    def holds(self, field: str) -> bool:
        """Whether the teacher's lock holds this design setting ("layers" for the hidden layers): the one
        answer the Design page's inputs, the Teacher page and admission all ask."""
        if self.lock == Lock.PRESETS:
            return field not in FREE_UNDER_PRESETS
        return self.lock == Lock.FIXED and field in dict(self.fixed)

    def _locked(self, spec: ModelSpec) -> list[Problem]:
        """What in `spec` breaks the teacher's lock."""
        if self.lock == Lock.PRESETS and not any(_free(spec) == _free(preset) for preset in PRESETS.values()):
            return [Problem("layers", "your teacher has locked the class to the presets: start from one on Design")]
        return [
            Problem(field, f"set by your teacher to {value}")
            for field, value in self.fixed
            if self.holds(field) and getattr(spec, field, value) != value
        ]

    def one_limit(self, values: Mapping, problems: list[Problem]) -> list[Problem]:
        """`problems` with the server's cap said instead of the design's own range where the cap is stricter.

        Epochs of 250 break both the design's range (1-200) and the server's cap (30): a student
        is told the one limit that holds here, not two different ones.
        """
        caps = {"epochs": ("max_epochs", max), "batch_size": ("min_batch_size", min)}
        said = []
        for problem in problems:
            field, value = problem.field, _as_number(values.get(problem.field))
            if field in caps and value is not None:
                cap, side = caps[field]
                limit = getattr(self, cap)
                if side(value, limit) != limit:  # beyond the cap, on the cap's side
                    wording = f"at most {limit} epochs" if field == "epochs" else f"a batch size of at least {limit}"
                    problem = Problem(field, self._beyond(wording, cap, values[field]))
            said.append(problem)
        return said

    @staticmethod
    def _beyond(limit: str, field: str, asked) -> str:
        return (
            f"this server allows {limit} per run so that a class can share it (this design asks for {asked}); "
            f"a teacher can raise the cap with {ENV_NAMES[field]}"
        )


def _free(spec: ModelSpec) -> dict:
    return {key: value for key, value in spec.to_dict().items() if key not in FREE_UNDER_PRESETS}


def _as_number(value) -> float | None:
    try:
        return float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        return None
