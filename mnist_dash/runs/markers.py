"""Markers of runs in progress, so that a restarted server can tell which runs it interrupted.

A training job writes `<home>/in_progress/<marker_id>.json` as it starts: which process
(pid, its start time, the machine and the machine's boot) trains which spec. Saving the
run moves the marker to the "saving" phase with the run's id, and removes it once the
run is in place. A marker whose process is gone is an interrupted run: the server
stopped, or was killed, while it trained or saved. The marker id starts with the UTC
time it was made (`20260501-101500-1a2b3c4d`), which is when training started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mnist_dash.spec import ModelSpec, SpecError, from_dict

MARKER_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")
RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,60}$")
PARTIAL_PREFIX = ".tmp-"  # a run being written: runs/.tmp-<run_id>/
PHASES = ("training", "saving")
_HAS_PROC = Path("/proc/self/stat").is_file()


@dataclass(frozen=True)
class InterruptedRun:
    """A run whose process stopped before it was saved."""

    marker_id: str
    phase: str  # "training", "saving", or "unknown" when the marker cannot be read
    started: str  # ISO 8601, UTC
    spec: ModelSpec | None  # None when the marker's spec cannot be read
    reason: str  # for people: "the server stopped while it trained this run"


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
    """The marker files in one folder; writes are atomic (a temporary file renamed into place)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, marker_id: str) -> Path:
        return self.folder / f"{marker_id}.json"

    def write(self, marker_id: str, spec: ModelSpec, phase: str, run_id: str | None = None) -> None:
        """Record that this process trains (or saves, as `run_id`) `spec`; raises OSError when it cannot."""
        record = {"marker_id": marker_id, "phase": phase, "run_id": run_id, "spec": spec.to_dict(), **this_process()}
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{marker_id}.tmp"
        partial.write_text(json.dumps(record), encoding="utf-8")
        os.replace(partial, self.path(marker_id))

    def remove(self, marker_id: str) -> None:
        """Best effort: a marker left behind shows as interrupted, or is dropped once its run exists."""
        with contextlib.suppress(OSError):
            self.path(marker_id).unlink(missing_ok=True)

    def read(self, marker_id: str) -> dict:
        """The marker's record; OSError or ValueError when it cannot be had."""
        record = json.loads(self.path(marker_id).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("phase") not in PHASES:
            raise ValueError("not a marker of a run in progress")
        return record

    def ids(self) -> list[str]:
        """Every marker's id, newest first."""
        if not self.folder.is_dir():
            return []
        names = (path.name.removesuffix(".json") for path in self.folder.glob("*.json"))
        return sorted((name for name in names if MARKER_ID.match(name)), reverse=True)

    def interrupted(self, runs_dir: Path) -> list[InterruptedRun]:
        """Runs whose process stopped while it trained or saved them, newest first.

        Tidies up on the way: a marker whose run was saved after all is removed, and a
        half-written run (`runs/.tmp-*`) that no marker owns is deleted. The half-written
        runs are listed before the markers are read: a save writes its marker first, so a
        `.tmp-*` folder seen without one is never a save still in progress.
        """
        partial = {}
        if runs_dir.is_dir():
            partial = {
                p.name.removeprefix(PARTIAL_PREFIX): p for p in runs_dir.glob(f"{PARTIAL_PREFIX}*") if p.is_dir()
            }
        owned, found = set(), []
        for marker_id in self.ids():
            try:
                record = self.read(marker_id)
            except FileNotFoundError:
                continue  # It ended while we looked.
            except (OSError, ValueError) as error:
                reason = f"the record of this run in progress cannot be read ({error})"
                found.append(InterruptedRun(marker_id, "unknown", _started(marker_id), None, reason))
                continue
            run_id = record.get("run_id")
            run_id = run_id if isinstance(run_id, str) and RUN_ID.match(run_id) else None
            owned.add(run_id)
            if owner_alive(record):
                continue
            if run_id is not None and (runs_dir / run_id).is_dir():
                self.remove(marker_id)  # Saved after all: the process stopped before it could tidy up.
                continue
            try:
                spec = from_dict(record.get("spec"))
            except SpecError:
                spec = None
            doing = "saved" if record["phase"] == "saving" else "trained"
            reason = f"the server stopped while it {doing} this run, so the run was not saved"
            found.append(InterruptedRun(marker_id, record["phase"], _started(marker_id), spec, reason))
        for run_id, path in partial.items():
            if run_id not in owned:
                shutil.rmtree(path, ignore_errors=True)
        return found

    def dismiss(self, marker_id: str, runs_dir: Path) -> bool:
        """Forget an interrupted run: its marker and its half-written files; False if its process still runs."""
        try:
            record = self.read(marker_id)
        except FileNotFoundError:
            return False
        except (OSError, ValueError):
            record = None
        if record is not None:
            if owner_alive(record):
                return False
            run_id = record.get("run_id")
            if isinstance(run_id, str) and RUN_ID.match(run_id):
                shutil.rmtree(runs_dir / f"{PARTIAL_PREFIX}{run_id}", ignore_errors=True)
        self.remove(marker_id)
        return True
