"""A run's bulky parts as the database keeps them, and read back strictly.

- the history: JSON, `{"epochs": [...], "batches": [...]}`, each entry checked on the way out;
- the weight snapshots (`weights.WeightHistory`): a compressed npz whose samples are float16
  (they only draw violins; the statistics beside them stay exact), about half the bytes, and
  whose first-layer unit pictures are int8 steps (see `_pack_units`; a run stored before
  them has none, and still loads);
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
from mnist_dash.units import PIXELS
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
    if "units/kernels" in arrays:
        _pack_units(arrays)
    return _npz(arrays)


def _pack_units(arrays: dict[str, np.ndarray]) -> None:
    """Unit pictures as int8 levels of one scale for the whole run, stored as steps from epoch to epoch.

    They only draw images, all epochs on one colour scale (max |w| at the ends), so levels of
    max |w| / 127 lose nothing the page can show: the error is at most max |w| / 254. A unit
    moves a little each epoch, so the steps compress better than the levels themselves
    (notebook-2-hidden: 28 kB an epoch against 42 kB with one scale per epoch, 92 kB as float16).
    """
    kernels = arrays.pop("units/kernels").astype(np.float32)
    scale = float(np.abs(kernels).max()) / 127 or 1.0
    levels = np.round(kernels / scale).astype(np.int16)
    # A step can be -254..254; kept modulo 256 in int8, and summed back modulo 256 it still gives the
    # levels exactly, since they lie in -127..127.
    arrays["units/steps"] = np.diff(levels, axis=0, prepend=0).astype(np.int8)
    arrays["units/scale"] = np.float32(scale)


def _unpack_units(arrays: dict[str, np.ndarray]) -> None:
    if "units/steps" in arrays:
        levels = np.cumsum(arrays.pop("units/steps"), axis=0, dtype=np.int8)
        arrays["units/kernels"] = levels.astype(np.float32) * np.float32(arrays.pop("units/scale"))


def unpack_snapshots(blob: bytes, run_id: str) -> WeightHistory:
    """The run's WeightHistory (samples as float32 again); DamagedRunError when its arrays do not fit together."""
    arrays = _arrays(blob, "weight snapshots", run_id)
    try:
        _unpack_units(arrays)
        history = WeightHistory.from_arrays(arrays)
    except (KeyError, ValueError, TypeError) as error:
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
    if history.unit_ids is not None and (problem := _units_problem(history)):
        raise DamagedRunError(f"run {run_id} has damaged weight snapshots: its unit pictures {problem}")
    return history


def _units_problem(history: WeightHistory) -> str | None:
    ids, kernels = history.unit_ids, history.unit_kernels
    width = next((shape[1] for shape in history.shapes.values() if len(shape) == 2 and shape[0] == PIXELS), 0)
    if ids.ndim != 1 or (ids.size and (ids.min() < 0 or ids.max() >= width)) or np.unique(ids).size != ids.size:
        return "name units the first layer does not have"
    if kernels.shape != (history.epochs, ids.size, PIXELS):
        return f"are {kernels.shape}, not (epochs, units, pixels)"
    return None


def pack_weights(weights: list[np.ndarray]) -> bytes:
    return _npz({f"w{number:03d}": np.asarray(values) for number, values in enumerate(weights)})


def unpack_weights(blob: bytes, run_id: str) -> list[np.ndarray]:
    arrays = _arrays(blob, "final weights", run_id)
    return [arrays[name] for name in sorted(arrays)]


def history_csv(history: list[dict]) -> str:
    """Per-epoch history as CSV, one row per epoch, columns as Keras names them."""
    columns = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")
    lines = [",".join(columns)]
    lines += [",".join(f"{record[c]:.6g}" if c != "epoch" else str(record[c]) for c in columns) for record in history]
    return "\n".join(lines) + "\n"
