"""A lesson as one file: chosen runs (records, histories, weight snapshots, weights), the class's digits, the challenge.

A teacher exports one (Teacher page, or `python -m mnist_dash lesson export`) and any copy of the app
imports it, so a lesson can go on from another server, or from a copy on a laptop when the hosted one
sleeps. The file is a zip: `lesson.json` (what it holds, the runs' records, the challenge) and each
run's three blobs in the store's own forms (`runs.blobs`), plus `class_digits.npz`. `compact` keeps
the final weights as float16 (half the size; their answers change by rounding only), every other
sampled weight of the per-epoch snapshots and the pictures of the 32 units that moved most: the
form of the lesson shipped with the app (under 5 MB for the notebook's three models). Import checks
everything before it writes anything: a damaged or foreign file is refused with the reason, and a
run already in the store is left as it is.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnist_dash.classroom.challenge import SETTING, Challenge, ChallengeError
from mnist_dash.runs import DamagedRunError, RunNotFound, blobs
from mnist_dash.runs.records import run_info
from mnist_dash.spec import SpecError

FORMAT = "mnist_dash lesson"
VERSION = 1
MAX_MEMBER = 256 * 1024**2  # unpacked, one member: a run's weights of the largest design allowed, with room
MAX_TOTAL = 2 * 1024**3  # unpacked, the whole file
BLOBS = {"history": "history.json", "snapshots": "snapshots.npz", "weights": "weights.npz"}
# Shipped with the app: the notebook's three models trained once on MNIST (scripts/ship_lesson.py), compact, with
# no owner (the board ranks students; these are the class's starting point), imported once into an empty store.
# MNIST_DASH_LESSON: another lesson file for a new store instead (a school's own), or "none" for an empty start.
SHIPPED = Path(__file__).resolve().parent.parent / "lessons" / "notebook.zip"
SHIPPED_ENV = "MNIST_DASH_LESSON"
SHIPPED_SETTING = "shipped_lesson"
log = logging.getLogger(__name__)


class LessonError(ValueError):
    """A lesson file that cannot be imported; the message says what is wrong with it."""


@dataclass(frozen=True)
class Imported:
    added: int  # runs stored
    present: int  # runs the store held already (left as they were)
    digits: int  # class digits added
    challenge: Challenge | None  # the challenge set from the file (None: the file had none)

    def describe(self) -> str:
        parts = [f"{self.added} run{'s' * (self.added != 1)} added"]
        if self.present:
            parts.append(f"{self.present} already here")
        parts.append(f"{self.digits} class digit{'s' * (self.digits != 1)} added")
        parts.append(f"challenge set: {self.challenge.describe()}" if self.challenge else "no challenge in the file")
        return "; ".join(parts) + "."


COMPACT_UNITS = 32  # a compact lesson's unit pictures: the units that moved most (the Weights page shows 32 first)


def _half(blob: bytes, run_id: str) -> bytes:
    return blobs.pack_weights([w.astype(np.float16) for w in blobs.unpack_weights(blob, run_id)])


def _thin(blob: bytes, run_id: str) -> bytes:
    """Weight snapshots for a compact lesson: every other sampled weight (a sample still: it is spread over the
    whole tensor) and the pictures of the COMPACT_UNITS units that moved most (they are kept most moved first)."""
    history = blobs.unpack_snapshots(blob, run_id)
    for key in history.indices:
        history.indices[key] = history.indices[key][::2]
        history.samples[key] = [sample[::2] for sample in history.samples[key]]
    if history.unit_ids is not None:
        history.unit_ids = history.unit_ids[:COMPACT_UNITS]
        history.unit_kernels = history.unit_kernels[:, :COMPACT_UNITS]
    return blobs.pack_snapshots(history)


def export(store, run_ids: list[str], digits: bool = True, challenge: bool = True, compact: bool = False) -> bytes:
    """The lesson file of `run_ids` (in that order), with the class's digits and challenge unless told not to."""
    manifest = {"format": FORMAT, "version": VERSION, "exported": datetime.now(UTC).isoformat(timespec="seconds")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # the blobs are compressed already
        records = []
        for number, run_id in enumerate(run_ids):
            record, data = store.raw(run_id)
            records.append({"run_id": run_id, "record": record})
            if compact:
                data = data | {"weights": _half(data["weights"], run_id), "snapshots": _thin(data["snapshots"], run_id)}
            for key, name in BLOBS.items():
                value = data[key]
                archive.writestr(f"runs/{number}/{name}", value.encode() if isinstance(value, str) else value)
        manifest["runs"] = records
        manifest["challenge"] = (store.setting(SETTING) or None) if challenge else None
        if digits:
            held = store.digits.all()
            kept = io.BytesIO()
            np.savez_compressed(
                kept,
                x=held.x,
                y=held.y,
                owners=np.array(held.owners, dtype=str),
                names=np.array(held.owner_names, dtype=str),
            )
            archive.writestr("class_digits.npz", kept.getvalue())
        archive.writestr("lesson.json", json.dumps(manifest, indent=1), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise LessonError(f"it has no {name}: it is not a whole lesson file") from None


def _manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(_read(archive, "lesson.json"))
    except (ValueError, UnicodeDecodeError) as error:
        raise LessonError(f"its lesson.json cannot be read ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LessonError("it is not an mnist_dash lesson (its lesson.json does not say so)")
    if type(manifest.get("version")) is not int or manifest["version"] > VERSION:
        raise LessonError(
            f"it is a lesson of version {manifest.get('version')!r:.10}, newer than this app reads ({VERSION}): "
            "update the app, then import it again"
        )
    if not isinstance(manifest.get("runs"), list):
        raise LessonError("its lesson.json lists no runs")
    return manifest


def _run(archive: zipfile.ZipFile, number: int, entry) -> tuple[str, dict, dict]:
    """One run of the file, checked as the store would read it back: (run id, record, data)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("run_id"), str) or not entry["run_id"]:
        raise LessonError(f"run {number + 1} in its lesson.json has no run id")
    run_id, record = entry["run_id"], entry.get("record")
    try:
        info = run_info(run_id, record)
        data = {key: _read(archive, f"runs/{number}/{name}") for key, name in BLOBS.items()}
        data["history"] = data["history"].decode()
        history = blobs.unpack_history(data["history"], run_id)
        blobs.unpack_snapshots(data["snapshots"], run_id)
        weights = blobs.unpack_weights(data["weights"], run_id)
    except (DamagedRunError, SpecError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise LessonError(f"run {run_id[:40]} cannot be read: {error}") from None
    if len(history["epochs"]) != info.epochs_run:
        raise LessonError(
            f"run {run_id[:40]} says {info.epochs_run} epochs but its history has {len(history['epochs'])}"
        )
    if sum(int(w.size) for w in weights) != info.params_total or not all(
        np.issubdtype(w.dtype, np.floating) and np.isfinite(w).all() for w in weights
    ):
        raise LessonError(f"run {run_id[:40]} has weights that are not its design's {info.params_total:,} numbers")
    if any(w.dtype != np.float32 for w in weights):  # a compact file's float16: the store keeps float32
        data["weights"] = blobs.pack_weights([w.astype(np.float32) for w in weights])
    return run_id, record, data


def _digits(archive: zipfile.ZipFile) -> tuple | None:
    if "class_digits.npz" not in archive.namelist():
        return None
    try:
        with np.load(io.BytesIO(archive.read("class_digits.npz")), allow_pickle=False) as found:
            x, y, owners, names = (found[key] for key in ("x", "y", "owners", "names"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise LessonError(f"its class digits cannot be read ({error})") from None
    n = len(y)
    if x.dtype != np.uint8 or x.shape != (n, 28, 28) or len(owners) != n or len(names) != n or (y > 9).any():
        raise LessonError("its class digits are not 28 x 28 images of bytes with labels 0 to 9 and owners")
    return x, y.astype(np.uint8), [str(o) for o in owners], [str(n) for n in names]


def read(blob: bytes) -> tuple[list[tuple[str, dict, dict]], tuple | None, Challenge | None]:
    """Everything in a lesson file, checked: its runs, its class digits, its challenge; LessonError if any is wrong."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, ValueError) as error:
        raise LessonError(f"it is not a lesson file (not a zip archive: {error})") from None
    with archive:
        sizes = [info.file_size for info in archive.infolist()]
        if max(sizes, default=0) > MAX_MEMBER or sum(sizes) > MAX_TOTAL:
            raise LessonError("it unpacks to more than a lesson can hold (a damaged or hostile file)")
        manifest = _manifest(archive)
        found = [_run(archive, number, entry) for number, entry in enumerate(manifest["runs"])]
        if len({run_id for run_id, *_ in found}) != len(found):
            raise LessonError("it lists one run id twice")
        try:
            challenge = Challenge.from_json(manifest["challenge"]) if manifest.get("challenge") else None
        except (ChallengeError, TypeError) as error:
            raise LessonError(f"its challenge cannot be used ({error})") from None
        return found, _digits(archive), challenge


def import_lesson(store, blob: bytes) -> Imported:
    """Store a lesson file's runs (those not here yet), add its class digits, set its challenge; all checked first."""
    found, digits, challenge = read(blob)
    added = present = 0
    for run_id, record, data in found:
        try:
            store.get(run_id)
            present += 1
            continue
        except RunNotFound:
            pass
        except DamagedRunError:
            present += 1  # a damaged run of that id is the teacher's to delete first; never overwritten
            continue
        store.insert(run_id, record, data)
        added += 1
    digits_added = store.digits.add_many(*digits) if digits else 0
    if challenge is not None:
        store.set_setting(SETTING, challenge.to_json())
    return Imported(added, present, digits_added, challenge)


def shipped_path() -> Path | None:
    """The lesson a new store starts with: MNIST_DASH_LESSON's file, none when it says "none", else SHIPPED."""
    chosen = os.environ.get(SHIPPED_ENV, "").strip()
    if chosen.lower() == "none":
        return None
    return Path(chosen) if chosen else SHIPPED


def ship(store, path: Path | None = None) -> Imported | None:
    """Once per store: a new deployment's empty store gets the shipped lesson, so every page has runs to show
    before anyone trains. A store with runs, or one that had it (a teacher may delete them), is left alone."""
    path = path or shipped_path()
    if path is None or store.setting(SHIPPED_SETTING) is not None:
        return None
    done = None
    if store.count() == 0 and path.exists():
        try:
            done = import_lesson(store, path.read_bytes())
        except LessonError as error:  # a damaged copy of the app: said in the log, and the app goes on without
            log.warning("the shipped lesson %s was not imported: %s", path, error)
    elif not path.exists():
        log.warning("the lesson for a new store, %s, is not there (%s)", path, SHIPPED_ENV)
    store.set_setting(SHIPPED_SETTING, "imported" if done else "skipped")
    return done
