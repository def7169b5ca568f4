"""A run's bulky parts as the database keeps them, and read back strictly.

- the history: JSON, `{"epochs": [...], "batches": [...]}`, each entry checked on the way out;
- the weight snapshots (`weights.WeightHistory`): a compressed npz whose samples are float16
  (they only draw violins; the statistics beside them stay exact), about half the bytes;
- the final weights: a compressed npz of float32 arrays in the model's order
  (`model.get_weights()`), exact, so a model rebuilt from its design and these weights
  predicts as the trained one did.

Anything of the wrong shape is a DamagedRunError that names what is wrong.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np

from mnist_dash.runs.records import DamagedRunError
from mnist_dash.weights import STAT_NAMES, WeightHistory

EPOCH_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _arrays(blob: bytes, what: str, run_id: str) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, TypeError) as error:
        raise DamagedRunError(f"run {run_id} has unreadable {what}: {error}") from None


def pack_history(epochs: list[dict], batches: list[dict]) -> str:
    return json.dumps({"epochs": epochs, "batches": batches}, separators=(",", ":"))


def unpack_history(text: str, run_id: str) -> dict:
    """`{"epochs": [...], "batches": [...]}`, each epoch a dict of EPOCH_KEYS numbers; DamagedRunError if not."""
    try:
        history = json.loads(text)
    except (TypeError, ValueError) as error:
        raise DamagedRunError(f"run {run_id} has an unreadable history: {error}") from None
    problem = _history_problem(history)
    if problem:
        raise DamagedRunError(f"run {run_id} has a damaged history: {problem}")
    return history


def _history_problem(history) -> str | None:
    if not isinstance(history, dict) or not isinstance(history.get("epochs"), list):
        return "it is not a list of epochs"
    if not isinstance(history.get("batches", []), list):
        return "its batches are not a list"
    for number, epoch in enumerate(history["epochs"], start=1):
        if not isinstance(epoch, dict):
            return f"epoch {number} is not a record"
        for key in EPOCH_KEYS:
            value = epoch.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                return f"epoch {number} has no number for {key!r} (found {value!r:.30})"
    return None


def pack_snapshots(history: WeightHistory) -> bytes:
    arrays = history.to_arrays()
    for name in arrays:
        if name.startswith("samples/"):
            arrays[name] = arrays[name].astype(np.float16)
    return _npz(arrays)


def unpack_snapshots(blob: bytes, run_id: str) -> WeightHistory:
    """The run's WeightHistory (samples as float32 again); DamagedRunError when its arrays do not fit together."""
    arrays = _arrays(blob, "weight snapshots", run_id)
    try:
        history = WeightHistory.from_arrays(arrays)
    except (KeyError, ValueError) as error:
        raise DamagedRunError(f"run {run_id} has damaged weight snapshots: {error}") from None
    epochs = {len(samples) for samples in history.samples.values()}
    for key in history.shapes:
        size = int(np.prod(history.shapes[key]))
        index = history.indices[key]
        samples, stats = history.samples[key], history.stats[key]
        if (
            index.ndim != 1
            or (index.size and (index.min() < 0 or index.max() >= size))
            or any(s.shape != index.shape for s in samples)
            or any(s.shape != (len(STAT_NAMES),) for s in stats)
            or len(stats) != len(samples)
        ):
            raise DamagedRunError(f"run {run_id} has damaged weight snapshots: {key} does not fit its shape")
        history.samples[key] = [s.astype(np.float32) for s in samples]
    if len(epochs) > 1 or not history.shapes:
        raise DamagedRunError(f"run {run_id} has damaged weight snapshots: the layers disagree on the epochs")
    return history


def pack_weights(weights: list[np.ndarray]) -> bytes:
    return _npz({f"w{number:03d}": np.asarray(values) for number, values in enumerate(weights)})


def unpack_weights(blob: bytes, run_id: str) -> list[np.ndarray]:
    arrays = _arrays(blob, "final weights", run_id)
    return [arrays[name] for name in sorted(arrays)]
