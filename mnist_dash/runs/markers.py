"""Markers of jobs in progress, so that a restarted server can tell each owner what became of their jobs.

A job writes a row of `in_progress` when it enters the line (phase "queued") and another as it
starts training ("training"): which process (pid, its start time, the machine and the machine's
boot) holds which spec for which owner. Saving the run removes the training row in the same
transaction that writes the run, so a run is either saved or still marked, never both or
neither. A worker whose server has gone saves the epochs it holds as a stopped run and leaves
a "saved" row saying so. A row whose process is gone is news for its owner: a job that left
the line, a run lost, or one saved after its last epoch (`InterruptedJob.reason` says which).
The marker id starts with the UTC time it was made (`20260501-101500-1a2b3c4d`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from mnist_dash.runs.database import in_progress, writing
from mnist_dash.spec import ModelSpec, SpecError, from_dict

MARKER_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")
RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,60}")  # as folder stores named them; fullmatch it
PHASES = ("training", "queued", "saved")
REASONS = {
    "training": "the server stopped while it trained this run, so the run was not saved",
    "queued": "the server restarted while this job waited in line, so it left the line: press Start to queue it again",
    "saved": "the server restarted while it trained this run: it was saved as stopped after epoch {epochs}",
}
_HAS_PROC = Path("/proc/self/stat").is_file()


@dataclass(frozen=True)
class InterruptedJob:
    """A run whose process stopped before it was saved."""

    marker_id: str
    phase: str  # "training", "queued", "saved", or "unknown" when the marker cannot be read
    started: str  # ISO 8601, UTC
    spec: ModelSpec | None  # None when the marker's spec cannot be read
    reason: str  # for people: "the server stopped while it trained this run"
    owner: str | None = None  # whose job it was (owners.Owner.key); None for markers from before owners


def new_marker_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def _started(marker_id: str) -> str:
    moment = datetime.strptime(marker_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot (Linux); None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, *rest = stat.rpartition(")")[2].split()  # the name in brackets may hold spaces
    return None if state in ("Z", "X") else rest[18]


def this_process() -> dict:
    """Who writes a marker: enough to tell later whether that very process still runs (a pid alone gets reused)."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "boot": _boot_id(), "start": _start_ticks(pid)}


def owner_alive(record: dict) -> bool:
    """Whether the process that wrote a marker may still run; True when it cannot be told (another machine)."""
    if record.get("host") != socket.gethostname():
        return True
    pid = record.get("pid")
    if type(pid) is not int or pid <= 0:
        return False
    if _HAS_PROC:
        start = record.get("start")
        return record.get("boot") == _boot_id() and start is not None and _start_ticks(pid) == start
    if os.name == "nt":
        return True  # There os.kill(pid, 0) would end the process, not probe it.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Markers:
    """The rows of `in_progress`: one per job training now, written and read in their own transactions."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def write(
        self,
        marker_id: str,
        spec: ModelSpec,
        owner: str | None = None,
        phase: str = "training",
        replacing: str | None = None,
        **more,
    ) -> None:
        """Record that this process trains (or holds in line, or has saved: `phase`) `spec` for `owner` (a key);
        `replacing`: a marker of the same job that goes in the same transaction (its place in line, as it begins
        to train: a restart then finds one of the two, never both); `more`: what the phase's notice says (a saved
        run's `run_id` and `epochs`). SQLAlchemyError when it cannot."""
        record = {"marker_id": marker_id, "phase": phase, "spec": spec.to_dict(), "owner": owner, **more}
        record |= this_process()
        with writing(self.engine) as connection:
            if replacing is not None:
                self.remove(replacing, connection)
            connection.execute(in_progress.insert().values(marker_id=marker_id, record=json.dumps(record)))

    def remove(self, marker_id: str, connection: Connection | None = None) -> None:
        """Forget a marker (in `connection`'s transaction when given: the save that replaces it); harmless twice."""
        if connection is not None:
            connection.execute(in_progress.delete().where(in_progress.c.marker_id == marker_id))
            return
        with writing(self.engine) as own:
            own.execute(in_progress.delete().where(in_progress.c.marker_id == marker_id))

    def interrupted(self) -> list[InterruptedJob]:
        """Runs whose process stopped while it trained them, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(in_progress).order_by(in_progress.c.marker_id.desc())).all()
        found = []
        for marker_id, text in rows:
            try:
                record = json.loads(text)
                if not isinstance(record, dict) or record.get("phase") not in PHASES:
                    raise ValueError("not a marker of a job in progress")
            except ValueError as error:
                reason = f"the record of this job in progress cannot be read ({error})"
                found.append(InterruptedJob(marker_id, "unknown", _started(marker_id), None, reason))
                continue
            if owner_alive(record):
                continue
            try:
                spec = from_dict(record.get("spec"))
            except SpecError:
                spec = None
            epochs = record.get("epochs") if type(record.get("epochs")) is int else "?"
            reason = REASONS[record["phase"]].format(epochs=epochs)
            owner = record.get("owner") if isinstance(record.get("owner"), str) else None
            found.append(InterruptedJob(marker_id, record["phase"], _started(marker_id), spec, reason, owner))
        return found

    def dismiss(self, marker_id: str) -> bool:
        """Forget an interrupted run; False if its process still runs (or it is gone already)."""
        with self.engine.connect() as connection:
            text = connection.execute(select(in_progress.c.record).where(in_progress.c.marker_id == marker_id)).scalar()
        if text is None:
            return False
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict) and record.get("phase") in PHASES and owner_alive(record):
            return False
        self.remove(marker_id)
        return True
