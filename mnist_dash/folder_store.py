"""Runs as folders: the layout of the store before the database, read for importing and written for backup.

    <root>/runs/<run_id>/run.json      the record (spec, status, test metrics, seconds per epoch, owner)
    <root>/runs/<run_id>/history.json  {"epochs": [...], "batches": [...]}
    <root>/runs/<run_id>/weights.npz   per-epoch weight snapshots (mnist_dash.weights)
    <root>/runs/<run_id>/model.keras   the trained model

Importing reads the final weights out of `model.keras` and exporting writes one from the
design and the weights (`keras_export.keras_file`), so both import Keras: this module sits above
the run store (`mnist_dash.runs`, which has none), beside the CLI that runs it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy.exc import IntegrityError

from mnist_dash.keras_export import keras_file
from mnist_dash.runs import blobs
from mnist_dash.runs.markers import RUN_ID
from mnist_dash.runs.records import DamagedRunError, run_info
from mnist_dash.runs.store import RunStore
from mnist_dash.spec import SpecError
from mnist_dash.weights import WeightHistory

RUN_FILES = ("run.json", "history.json", "weights.npz", "model.keras")
IMPORT_SETTING = "folder_store_import"  # "done" or "declined": the app offers the import once


def run_folders(root: str | os.PathLike) -> list[Path]:
    """The run folders of a folder store (`root` or `root/runs`), oldest first; none when there is no such store."""
    root = Path(root)
    folder = root / "runs" if (root / "runs").is_dir() else root
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_dir() and RUN_ID.fullmatch(path.name))


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # the same run id is in the database: left as it is
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (run id, why it was skipped)


def import_folder(
    store: RunStore, root: str | os.PathLike, progress: Callable[[str], None] = lambda line: None
) -> ImportReport:
    """Bring every run of a folder store into `store`, each in its own transaction; a run already there is skipped."""
    report = ImportReport()
    for path in run_folders(root):
        try:
            record, data = _read_run(path)
            store.insert(path.name, record, data)
        except IntegrityError:
            report.already.append(path.name)
            progress(f"already in the store: {path.name}")
        except DamagedRunError as error:
            report.damaged.append((path.name, str(error)))
            progress(f"skipped {path.name}: {error}")
        else:
            report.imported.append(path.name)
            progress(f"imported {path.name}")
    return report


# The most a run's file may be, in bytes, before anything reads it (a folder is anyone's files: a 575 kB
# weights.npz declaring 128 MB once took 179 s and 5.7 GB). model.keras: its weights and optimizer's, and room.
MAX_FILE_BYTES = {"run.json": 256 * 2**10, "history.json": 4 * 2**20, "weights.npz": 16 * 2**20}
MAX_SNAPSHOT_BYTES = 64 * 2**20  # what weights.npz's arrays may declare, all together


def _model_file_bytes(params: int) -> int:
    return 16 * params + 2 * 2**20


def _check_sizes(path: Path, params: int | None) -> None:
    caps = MAX_FILE_BYTES | ({"model.keras": _model_file_bytes(params)} if params is not None else {})
    for name, cap in caps.items():
        size = (path / name).stat().st_size
        if size > cap:
            raise DamagedRunError(f"its {name} is {size:,} bytes, more than a run's can be ({cap:,})")


def _declared_bytes(npz: Path) -> int:
    """What the arrays in `npz` say they hold, from their headers alone (nothing is decompressed beyond them)."""
    total = 0
    with zipfile.ZipFile(npz) as archive:
        for entry in archive.infolist():
            with archive.open(entry) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _fortran, dtype = read_header(member)
                if dtype.hasobject:
                    raise ValueError(f"{entry.filename} holds Python objects")
                total += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return total


def _read_run(path: Path) -> tuple[dict, dict]:
    run_id = path.name
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise DamagedRunError(f"it lacks {', '.join(missing)}")
    try:
        _check_sizes(path, None)
        record = json.loads((path / "run.json").read_text(encoding="utf-8"))
        record["run_id"] = run_id
        info = run_info(run_id, record)
        _check_sizes(path, info.params_total)
        history = blobs.unpack_history((path / "history.json").read_text(encoding="utf-8"), run_id)
        if (declared := _declared_bytes(path / "weights.npz")) > MAX_SNAPSHOT_BYTES:
            raise DamagedRunError(f"its weights.npz declares {declared:,} bytes of arrays, more than a run's can be")
        with np.load(path / "weights.npz", allow_pickle=False) as arrays:
            snapshots = WeightHistory.from_arrays(arrays)
        packed = blobs.pack_snapshots(snapshots)
        blobs.unpack_snapshots(packed, run_id)  # what the pages will read back: checked before it goes in
    except DamagedRunError:
        raise
    except (OSError, ValueError, KeyError, TypeError, SpecError, zipfile.BadZipFile) as error:
        raise DamagedRunError(f"it cannot be read: {error}") from None
    return record, {
        "history": blobs.pack_history(history["epochs"], history.get("batches", [])),
        "snapshots": packed,
        "weights": blobs.pack_weights(_final_weights(path / "model.keras")),
    }


def _final_weights(path: Path) -> list[np.ndarray]:
    import keras

    try:
        return keras.saving.load_model(path, compile=False).get_weights()
    except Exception as error:  # Keras raises many types for a damaged archive
        raise DamagedRunError(f"its model.keras cannot be read: {error}") from None


def export_folder(
    store: RunStore, root: str | os.PathLike, progress: Callable[[str], None] = lambda line: None
) -> list[str]:
    """Write every run of `store` under `root/runs/` in the folder layout (a run written already is kept)."""
    target = Path(root) / "runs"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for run in store.list().runs:
        folder = target / run.run_id
        if folder.is_dir():
            progress(f"already exported: {run.run_id}")
            continue
        with _partial(target, run.run_id) as partial:
            record, data = store.raw(run.run_id)
            (partial / "run.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
            history = blobs.unpack_history(data["history"], run.run_id)
            (partial / "history.json").write_text(json.dumps(history, indent=1), encoding="utf-8")
            (partial / "weights.npz").write_bytes(_plain_npz(data["snapshots"]))
            (partial / "model.keras").write_bytes(keras_file(store, run.run_id))
            os.replace(partial, folder)
        written.append(run.run_id)
        progress(f"exported {run.run_id}")
    return written


def _plain_npz(blob: bytes) -> bytes:
    """Snapshots as the folder store kept them (samples as float32)."""
    history = blobs.unpack_snapshots(blob, "export")
    buffer = io.BytesIO()
    np.savez(buffer, **history.to_arrays())
    return buffer.getvalue()


@contextlib.contextmanager
def _partial(parent: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside the target, removed unless it was renamed into place."""
    folder = Path(tempfile.mkdtemp(prefix=f".tmp-{run_id}-", dir=parent))
    folder.chmod(0o755)  # as any other folder (mkdtemp makes it private)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
