"""A stored run's record (the JSON in the `runs` table, a folder store's `run.json`), read strictly.

A hand-edited or damaged record is a clear error that names what is wrong, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mnist_dash.plan import count_params
from mnist_dash.runs.markers import InterruptedJob
from mnist_dash.spec import ModelSpec, from_dict

SAVED_STATUSES = ("finished", "stopped")
_KIND_NAMES = {(str,): "text", (int,): "a whole number", (int, float): "a number", (list,): "a list"}


class DamagedRunError(ValueError):
    """A stored run whose record or data cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class RunInfo:
    """What a stored run's record says about it."""

    run_id: str
    status: str  # finished or stopped
    created: str  # ISO 8601, UTC
    spec: ModelSpec
    params_total: int
    epochs_run: int
    epoch_seconds: tuple[float, ...]
    test_loss: float | None
    test_accuracy: float | None
    data_fingerprint: str | None = None  # `mnist_dash.data.fingerprint` of its data; None for older runs
    owner: str | None = None  # the owner's key (`mnist_dash.owners`); None for runs from before owners
    owner_name: str | None = None  # the owner's name, as shown

    @property
    def has_model(self) -> bool:
        """Whether it has a trained model to ask (Draw): finished, or stopped after at least one epoch."""
        return self.status == "finished" or self.epochs_run > 0


@dataclass(frozen=True)
class DamagedRun:
    run_id: str
    reason: str


@dataclass(frozen=True)
class RunListing:
    runs: list[RunInfo]  # newest first
    damaged: list[DamagedRun]
    interrupted: list[InterruptedJob] = field(default_factory=list)  # newest first; see RunStore.interrupted


def new_record(
    run_id: str,
    status: str,
    created: datetime,
    spec: ModelSpec,
    history: list[dict],
    test_loss: float | None,
    test_accuracy: float | None,
    data_fingerprint: str | None,
) -> dict:
    """The record of a run being saved (`run_info` reads it back)."""
    return {
        "run_id": run_id,
        "status": status,
        "created": created.isoformat(timespec="seconds"),
        "spec": spec.to_dict(),
        "params_total": count_params(spec).total,
        "epochs_run": len(history),
        "epoch_seconds": [round(h["seconds"], 4) for h in history],
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "data_fingerprint": data_fingerprint,
    }


def _field(record: dict, key: str, kinds: tuple[type, ...], optional: bool = False):
    """`record[key]` if it has one of `kinds` (bool never counts as a number), else DamagedRunError naming it.

    An `optional` key may be missing or null (None).
    """
    value = record.get(key) if optional else record[key]
    if (value is None and optional) or (isinstance(value, kinds) and not isinstance(value, bool)):
        return value
    expected = _KIND_NAMES[kinds] + (" or null" if optional else "")
    raise DamagedRunError(f"`{key}` is {value!r:.40} (expected {expected})")


def run_info(run_id: str, record) -> RunInfo:
    """The RunInfo a parsed record describes; DamagedRunError (or SpecError) naming what is wrong."""
    if not isinstance(record, dict):
        raise DamagedRunError("it is not a JSON object")
    status = _field(record, "status", (str,))
    if status not in SAVED_STATUSES:
        raise DamagedRunError(f"`status` is {status!r:.40} (expected one of {', '.join(SAVED_STATUSES)})")
    seconds = _field(record, "epoch_seconds", (list,))
    if not all(isinstance(s, int | float) and not isinstance(s, bool) for s in seconds):
        raise DamagedRunError("`epoch_seconds` holds something other than numbers")
    loss, accuracy = (_field(record, key, (int, float), optional=True) for key in ("test_loss", "test_accuracy"))
    return RunInfo(
        run_id=run_id,
        status=status,
        created=_field(record, "created", (str,)),
        spec=from_dict(record["spec"]),
        params_total=_field(record, "params_total", (int,)),
        epochs_run=_field(record, "epochs_run", (int,)),
        epoch_seconds=tuple(float(s) for s in seconds),
        test_loss=None if loss is None else float(loss),
        test_accuracy=None if accuracy is None else float(accuracy),
        data_fingerprint=_field(record, "data_fingerprint", (str,), optional=True),
        owner=_field(record, "owner", (str,), optional=True),
        owner_name=_field(record, "owner_name", (str,), optional=True),
    )
