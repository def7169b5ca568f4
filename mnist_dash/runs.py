"""The run store: every training run on disk, written atomically, listed safely.

Layout under the store's root (env `MNIST_DASH_HOME`, default `~/.mnist_dash`):

    runs/<run_id>/run.json      spec, status, test metrics, seconds per epoch
    runs/<run_id>/history.json  per-epoch and per-batch history
    runs/<run_id>/weights.npz   per-epoch weight snapshots (mnist_dash.weights)
    runs/<run_id>/model.keras   the trained model

A run is written into `runs/.tmp-<run_id>/` and renamed into place only when every
file is complete, so a crash mid-write never leaves a run that looks complete.
Listing skips damaged runs and reports them instead of failing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnist_dash.plan import count_params
from mnist_dash.spec import ModelSpec, SpecError, from_dict
from mnist_dash.weights import WeightHistory

HOME_ENV = "MNIST_DASH_HOME"
RUN_FILES = ("run.json", "history.json", "weights.npz", "model.keras")
_RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,60}$")


def default_home() -> Path:
    """`MNIST_DASH_HOME` if set, else `~/.mnist_dash`."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".mnist_dash").expanduser()


class RunNotFound(KeyError):
    """No run with that id in the store."""


class DamagedRunError(ValueError):
    """A run directory exists but cannot be read."""


@dataclass(frozen=True)
class RunInfo:
    """What `run.json` says about one run."""

    run_id: str
    status: str  # finished or stopped
    created: str  # ISO 8601, UTC
    spec: ModelSpec
    params_total: int
    epochs_run: int
    epoch_seconds: tuple[float, ...]
    test_loss: float | None
    test_accuracy: float | None


@dataclass(frozen=True)
class DamagedRun:
    run_id: str
    reason: str


@dataclass(frozen=True)
class RunListing:
    runs: list[RunInfo]  # newest first
    damaged: list[DamagedRun]


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

    def _dir(self, run_id: str) -> Path:
        if not _RUN_ID.match(run_id):
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
    ) -> str:
        """Write one run atomically and return its id."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        run_id = f"{now:%Y%m%d-%H%M%S}-{_slug(spec.name)}-{secrets.token_hex(2)}"
        partial = self.runs_dir / f".tmp-{run_id}"
        partial.mkdir()
        try:
            model.save(partial / "model.keras")
            np.savez(partial / "weights.npz", **weights.to_arrays())
            _write_json(partial / "history.json", {"epochs": history, "batches": batch_history})
            record = {
                "run_id": run_id,
                "status": str(status),
                "created": now.isoformat(timespec="seconds"),
                "spec": spec.to_dict(),
                "params_total": count_params(spec).total,
                "epochs_run": len(history),
                "epoch_seconds": [round(h["seconds"], 4) for h in history],
                "test_loss": test_loss,
                "test_accuracy": test_accuracy,
            }
            _write_json(partial / "run.json", record)  # Last: its presence means the rest is there.
            os.replace(partial, self.runs_dir / run_id)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return run_id

    def get(self, run_id: str) -> RunInfo:
        """The run's record; RunNotFound or DamagedRunError when it cannot be had."""
        path = self._dir(run_id)
        if not path.is_dir():
            raise RunNotFound(f"no run {run_id!r} in {self.runs_dir}")
        missing = [name for name in RUN_FILES if not (path / name).is_file()]
        if missing:
            raise DamagedRunError(f"run {run_id} lacks {', '.join(missing)}")
        try:
            record = json.loads((path / "run.json").read_text(encoding="utf-8"))
            return RunInfo(
                run_id=run_id,
                status=str(record["status"]),
                created=str(record["created"]),
                spec=from_dict(record["spec"]),
                params_total=int(record["params_total"]),
                epochs_run=int(record["epochs_run"]),
                epoch_seconds=tuple(float(s) for s in record["epoch_seconds"]),
                test_loss=None if record["test_loss"] is None else float(record["test_loss"]),
                test_accuracy=None if record["test_accuracy"] is None else float(record["test_accuracy"]),
            )
        except (OSError, ValueError, KeyError, TypeError, SpecError) as error:
            raise DamagedRunError(f"run {run_id} has an unreadable run.json: {error}") from None

    def list(self) -> RunListing:
        """Every complete run, newest first, and every damaged one with the reason."""
        runs, damaged = [], []
        if self.runs_dir.is_dir():
            for path in sorted(self.runs_dir.iterdir(), reverse=True):
                if path.name.startswith(".") or not path.is_dir():
                    continue  # Partial writes and stray files are not runs.
                try:
                    runs.append(self.get(path.name))
                except (DamagedRunError, RunNotFound) as error:
                    damaged.append(DamagedRun(path.name, str(error).strip("'\"")))
        return RunListing(runs, damaged)

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
