"""The run store: every training run on disk, written atomically, listed safely.

Layout under the store's root (env `MNIST_DASH_HOME`, default `~/.mnist_dash`):

    runs/<run_id>/run.json      spec, status, test metrics, seconds per epoch, owner
    runs/<run_id>/history.json  per-epoch and per-batch history
    runs/<run_id>/weights.npz   per-epoch weight snapshots (mnist_dash.weights)
    runs/<run_id>/model.keras   the trained model

A run is written into `runs/.tmp-<run_id>/` and renamed into place only when every
file is complete, so a crash mid-write never leaves a run that looks complete.
Listing skips damaged runs and reports them instead of failing, and reports the runs
a stopped server left unsaved (`mnist_dash.run_markers`, markers under `in_progress/`).
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnist_dash.data import Mnist, fingerprint
from mnist_dash.owners import Owner
from mnist_dash.runs.markers import MARKER_ID, PARTIAL_PREFIX, RUN_ID, InterruptedRun, Markers, new_marker_id
from mnist_dash.runs.records import DamagedRun, DamagedRunError, RunInfo, RunListing, new_record, run_info
from mnist_dash.spec import ModelSpec, SpecError
from mnist_dash.weights import WeightHistory

HOME_ENV = "MNIST_DASH_HOME"
RUN_FILES = ("run.json", "history.json", "weights.npz", "model.keras")


def default_home() -> Path:
    """`MNIST_DASH_HOME` if set, else `~/.mnist_dash`."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".mnist_dash").expanduser()


class RunNotFound(KeyError):
    """No run with that id in the store."""


class StoreWriteError(OSError):
    """The store could not be written (disk full, no permission, ...); the message says how to fix it."""

    @classmethod
    def about(cls, action: str, error: OSError, folder: Path) -> StoreWriteError:
        reason = error.strerror or str(error) or type(error).__name__
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            fix = f"Free some disk space there (delete old runs), or set {HOME_ENV} to a folder on a disk with room"
        elif isinstance(error, PermissionError) or error.errno == errno.EROFS:
            fix = f"Make that folder writable, or set {HOME_ENV} to a folder you can write to"
        else:
            fix = f"Check the disk that holds it, or set {HOME_ENV} to another folder"
        return cls(f"could not {action}: {reason} (in {folder}). {fix}, then train again.")


def history_csv(history: list[dict]) -> str:
    """Per-epoch history as CSV, one row per epoch, columns as Keras names them."""
    columns = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")
    lines = [",".join(columns)]
    lines += [",".join(f"{record[c]:.6g}" if c != "epoch" else str(record[c]) for c in columns) for record in history]
    return "\n".join(lines) + "\n"


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "custom"


class RunStore:
    """Runs in a directory; see the module docstring for the layout."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_home()
        self.runs_dir = self.root / "runs"
        self.markers = Markers(self.root / "in_progress")

    def _dir(self, run_id: str) -> Path:
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise RunNotFound(f"not a run id: {run_id!r}")
        return self.runs_dir / run_id

    def save(
        self,
        *,
        spec: ModelSpec,
        status: str,
        history: list[dict],
        batch_history: list[dict],
        weights: WeightHistory,
        model,
        test_loss: float | None = None,
        test_accuracy: float | None = None,
        marker: str | None = None,
        data_fingerprint: str | None = None,
        owner: Owner | None = None,
    ) -> str:
        """Write one run atomically and return its id.

        Args:
            marker: the id `begin_training` gave this run; removed once the run is in place.
            data_fingerprint: `mnist_dash.data.fingerprint` of the data it trained on (see `find_same`).
            owner: whose run it is (None: nobody's, as runs from before owners).

        Raises:
            StoreWriteError: the disk is full, the folder is not writable, ...; nothing of the run is left.
        """
        now = datetime.now(UTC)
        run_id = f"{now:%Y%m%d-%H%M%S}-{_slug(spec.name)}-{secrets.token_hex(2)}"
        partial = self.runs_dir / f"{PARTIAL_PREFIX}{run_id}"
        own_marker = None
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            if marker is None:  # Every half-written run has a marker, so a restart can tell it from a live save.
                marker = own_marker = new_marker_id()
            self.markers.write(marker, spec, "saving", run_id)
            partial.mkdir()
            model.save(partial / "model.keras")
            np.savez(partial / "weights.npz", **weights.to_arrays())
            _write_json(partial / "history.json", {"epochs": history, "batches": batch_history})
            record = new_record(run_id, str(status), now, spec, history, test_loss, test_accuracy, data_fingerprint)
            if owner is not None:
                record |= {"owner": owner.key, "owner_name": owner.name}
            _write_json(partial / "run.json", record)  # Last: its presence means the rest is there.
            os.replace(partial, self.runs_dir / run_id)
        except BaseException as error:
            shutil.rmtree(partial, ignore_errors=True)
            if own_marker is not None:
                self.markers.remove(own_marker)
            if isinstance(error, OSError):
                raise StoreWriteError.about("save the run", error, self.runs_dir) from error
            raise
        self.markers.remove(marker)
        return run_id

    def begin_training(self, spec: ModelSpec) -> str:
        """Mark `spec` as training in this process, so a restart can report it if the process dies.

        Returns the marker id for `save(marker=...)` and `end_training`. Raises
        StoreWriteError when the store cannot be written (better said before training than after).
        """
        marker = new_marker_id()
        try:
            self.markers.write(marker, spec, "training")
        except OSError as error:
            raise StoreWriteError.about("write to the run store", error, self.markers.folder) from error
        return marker

    def end_training(self, marker: str) -> None:
        """Remove the marker of a run that ended without being saved (stopped early, failed); harmless twice."""
        self.markers.remove(marker)

    def interrupted(self) -> list[InterruptedRun]:
        """Runs a stopped server left unsaved, newest first (see `mnist_dash.run_markers`).

        A marker whose process is gone counts; one of a process that still runs (this one
        or another server on this machine) does not. Half-written runs no marker owns are deleted.
        """
        return self.markers.interrupted(self.runs_dir)

    def dismiss_interrupted(self, marker_id: str) -> bool:
        """Forget an interrupted run and delete its half-written files; False if its process still runs."""
        if not isinstance(marker_id, str) or not MARKER_ID.match(marker_id):
            raise RunNotFound(f"not an interrupted run's id: {marker_id!r}")
        return self.markers.dismiss(marker_id, self.runs_dir)

    def get(self, run_id: str) -> RunInfo:
        """The run's record; RunNotFound or DamagedRunError when it cannot be had."""
        path = self._dir(run_id)
        if not path.is_dir():
            raise RunNotFound(f"no run {run_id!r} in {self.runs_dir}")
        missing = [name for name in RUN_FILES if not (path / name).is_file()]
        if missing:
            raise DamagedRunError(f"run {run_id} lacks {', '.join(missing)}")
        for archive in ("weights.npz", "model.keras"):  # Both are zip files: a cheap look at their ends.
            if not zipfile.is_zipfile(path / archive):
                raise DamagedRunError(f"run {run_id} has a damaged {archive} (not a zip archive)")
        try:
            return run_info(run_id, json.loads((path / "run.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, SpecError) as error:
            raise DamagedRunError(f"run {run_id} has an unreadable run.json: {error}") from None

    def list(self) -> RunListing:
        """Every complete run, newest first, every damaged one with the reason, and the interrupted ones."""
        interrupted = self.interrupted()  # First: it deletes half-written runs nobody owns.
        return RunListing(*self._complete_and_damaged(), interrupted)

    def _complete_and_damaged(self) -> tuple[list[RunInfo], list[DamagedRun]]:
        runs, damaged = [], []
        if self.runs_dir.is_dir():
            for path in sorted(self.runs_dir.iterdir(), reverse=True):
                if path.name.startswith(".") or not path.is_dir():
                    continue  # Partial writes and stray files are not runs.
                try:
                    runs.append(self.get(path.name))
                except (DamagedRunError, RunNotFound) as error:
                    damaged.append(DamagedRun(path.name, str(error).strip("'\"")))
        return runs, damaged

    def find_same(self, spec: ModelSpec, data: Mnist) -> RunInfo | None:
        """The newest finished run of the same design (its name aside) trained on the same data; None if none.

        Same design means every field but `name` equal, seed and epochs included, so
        training it again would give the same run: show the stored one instead.
        """
        return self.find_each([spec], data)[0]

    def find_each(self, specs: list[ModelSpec], data: Mnist) -> list[RunInfo | None]:
        """`find_same` for several specs, reading the store once."""
        data_key = fingerprint(data)
        finished = [
            (run.spec.to_dict() | {"name": ""}, run)
            for run in self._complete_and_damaged()[0]
            if run.status == "finished" and run.data_fingerprint == data_key
        ]
        wanted = [spec.to_dict() | {"name": ""} for spec in specs]
        return [next((run for design, run in finished if design == want), None) for want in wanted]

    def owned(self, owner_key: str) -> list[RunInfo]:
        """The owner's complete runs, newest first (their quota counts these)."""
        return [run for run in self._complete_and_damaged()[0] if run.owner == owner_key]

    def history(self, run_id: str) -> dict:
        """`{"epochs": [...], "batches": [...]}` as saved."""
        try:
            return json.loads((self._dir(run_id) / "history.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DamagedRunError(f"run {run_id} has an unreadable history.json: {error}") from None

    def weights(self, run_id: str) -> WeightHistory:
        try:
            with np.load(self._dir(run_id) / "weights.npz", allow_pickle=False) as arrays:
                return WeightHistory.from_arrays(arrays)
        except (OSError, ValueError, KeyError) as error:
            raise DamagedRunError(f"run {run_id} has unreadable weights.npz: {error}") from None

    def model_path(self, run_id: str) -> Path:
        return self._dir(run_id) / "model.keras"

    def load_model(self, run_id: str):
        """The trained Keras model (imports Keras)."""
        import keras

        try:
            return keras.saving.load_model(self.model_path(run_id))
        except Exception as error:  # Keras raises many types for a damaged archive.
            raise DamagedRunError(f"run {run_id} has an unreadable model.keras: {error}") from None

    def delete(self, run_id: str) -> None:
        """Remove a run (renamed aside first, so a half-deleted run never lists as complete)."""
        path = self._dir(run_id)
        if not path.is_dir():
            raise RunNotFound(f"no run {run_id!r} in {self.runs_dir}")
        doomed = self.runs_dir / f".deleting-{run_id}"
        os.replace(path, doomed)
        shutil.rmtree(doomed)
