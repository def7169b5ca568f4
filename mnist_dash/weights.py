"""Compact per-epoch snapshots of every layer's weights, for violins over time.

What is kept, per weight tensor (e.g. `hidden_1/kernel`, `bn_2/gamma`) and per epoch
(epoch 0 = the initial weights):
- a fixed sample of at most `sample_size` values (all of them for smaller tensors),
  the same positions every epoch, so a violin at epoch 5 and one at epoch 0 show
  the same weights moving;
- statistics over the whole tensor: mean, std, min, max, the share of weights with
  |w| < NEAR_ZERO, and the relative change since initialisation ||W - W0|| / ||W0||
  (NaN for tensors that start at zero: biases, batch norm's beta).

For notebook-5-hidden-bn that is about 15,000 floats an epoch (60 kB), against the
model's 785,000 weights.

For the first Dense layer (the one whose kernel is (784, units)) it also keeps pictures:
`unit_ids`, up to 64 of its units, the ones whose weights moved most from their initial
values by the newest epoch first, and `unit_kernels`, those units' kernel columns at every
epoch (epochs, units, 784), float16. They are chosen again at each epoch from the whole
kernel of every epoch, which the recorder holds in the runner's memory only (see
`WeightRecorder`): so a slider over the epochs shows the same units forming from noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mnist_dash.units import SHOWN_MOST, first_kernel, most_changed

SAMPLE_SIZE = 2000
NEAR_ZERO = 0.01
# What the recorder may hold of the first layer's kernels, one per epoch (float16): past it, only the
# PRUNED_UNITS units that had moved most are kept. 2048 units for 200 epochs would be 640 MB.
KERNEL_BUDGET = 256 * 1024**2
PRUNED_UNITS = 256
STAT_NAMES = ("mean", "std", "min", "max", "near_zero", "change")


def weight_stats(values: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """The STAT_NAMES statistics of one tensor, as float64 in that order."""
    flat = values.ravel().astype(np.float64)
    start = initial.ravel().astype(np.float64)
    scale = np.linalg.norm(start)
    # Relative change; undefined (NaN) for tensors that start at zero, such as biases and BN's beta.
    change = np.linalg.norm(flat - start) / scale if scale > 0 else np.nan
    return np.array(
        [flat.mean(), flat.std(), flat.min(), flat.max(), np.mean(np.abs(flat) < NEAR_ZERO), change],
    )


@dataclass
class WeightHistory:
    """Sampled weights and statistics per epoch, keyed `layer/weight` in model order."""

    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    indices: dict[str, np.ndarray] = field(default_factory=dict)
    samples: dict[str, list[np.ndarray]] = field(default_factory=dict)
    stats: dict[str, list[np.ndarray]] = field(default_factory=dict)
    unit_ids: np.ndarray | None = None  # (k,) first-layer units, most changed first; None: stored before these
    unit_kernels: np.ndarray | None = None  # (epochs, k, 784) their kernel columns, replaced whole at each epoch

    @property
    def epochs(self) -> int:
        """How many snapshots are held (epoch 0 included)."""
        return len(next(iter(self.samples.values()), []))

    def copy(self) -> WeightHistory:
        """A copy that later snapshots do not change (the arrays themselves are shared)."""
        return WeightHistory(
            dict(self.shapes),
            dict(self.indices),
            {key: list(values) for key, values in self.samples.items()},
            {key: list(values) for key, values in self.stats.items()},
            self.unit_ids,  # never changed in place: `record` makes new arrays
            self.unit_kernels,
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat arrays for `np.savez`: `samples/<key>` is (epochs, n), `stats/<key>` is (epochs, 6).

        With unit pictures, `units/ids` (k,) and `units/kernels` (epochs, k, 784) too.
        """
        arrays = {}
        for key in self.shapes:
            arrays[f"shape/{key}"] = np.array(self.shapes[key], dtype=np.int64)
            arrays[f"index/{key}"] = self.indices[key]
            arrays[f"samples/{key}"] = np.stack(self.samples[key])
            arrays[f"stats/{key}"] = np.stack(self.stats[key])
        if self.unit_ids is not None:
            arrays["units/ids"] = self.unit_ids
            arrays["units/kernels"] = self.unit_kernels
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> WeightHistory:
        """Read back what `to_arrays` wrote (keys kept in their saved order)."""
        history = cls()
        for name in arrays:
            kind, key = name.split("/", 1)
            if kind == "shape":
                history.shapes[key] = tuple(int(n) for n in arrays[name])
                history.indices[key] = np.asarray(arrays[f"index/{key}"])
                history.samples[key] = list(np.asarray(arrays[f"samples/{key}"]))
                history.stats[key] = list(np.asarray(arrays[f"stats/{key}"]))
        if "units/ids" in arrays:  # absent from runs stored before unit pictures were kept
            history.unit_ids = np.asarray(arrays["units/ids"], np.int64)
            history.unit_kernels = np.asarray(arrays["units/kernels"])
        return history


class WeightRecorder:
    """Takes a snapshot of a model's weights each time `record` is called."""

    def __init__(self, sample_size: int = SAMPLE_SIZE, seed: int = 0, kernel_budget: int = KERNEL_BUDGET):
        self.sample_size = sample_size
        self.seed = seed
        self.kernel_budget = kernel_budget
        self.history = WeightHistory()
        self._initial: dict[str, np.ndarray] = {}
        self._kept: np.ndarray | None = None  # the first-layer units whose columns `_kernels` holds
        self._kernels: list[np.ndarray] = []  # per epoch, (784, len(_kept)) float16

    def record(self, weights: dict[str, dict[str, np.ndarray]]) -> None:
        """Add one snapshot; `weights` is `model.layer_weights(model)`. The first call is epoch 0."""
        rng = np.random.default_rng(self.seed)
        for layer, tensors in weights.items():
            for name, values in tensors.items():
                key = f"{layer}/{name}"
                flat = values.ravel()
                if key not in self._initial:
                    self._initial[key] = flat.copy()
                    self.history.shapes[key] = tuple(values.shape)
                    self.history.indices[key] = (
                        np.sort(rng.choice(flat.size, self.sample_size, replace=False))
                        if flat.size > self.sample_size
                        else np.arange(flat.size)
                    )
                    self.history.samples[key] = []
                    self.history.stats[key] = []
                self.history.samples[key].append(flat[self.history.indices[key]].astype(np.float32))
                self.history.stats[key].append(weight_stats(flat, self._initial[key]))
        self._record_units(weights)

    def _record_units(self, weights: dict[str, dict[str, np.ndarray]]) -> None:
        found = first_kernel(weights)
        if found is None:
            return
        layer, kernel = found
        if self._kept is None:
            self._kept = np.arange(kernel.shape[1])
        initial = self._initial[f"{layer}/kernel"].reshape(kernel.shape)[:, self._kept]
        self._kernels.append(kernel[:, self._kept].astype(np.float16))
        order = most_changed(kernel[:, self._kept], initial, len(self._kept))
        if sum(k.nbytes for k in self._kernels) > self.kernel_budget and len(self._kept) > PRUNED_UNITS:
            # Too much to hold: from now on only the units that moved most so far. A unit that starts
            # moving late is then never shown, but the grid shows at most 64 of them anyway.
            keep = order[:PRUNED_UNITS]
            self._kept, order = self._kept[keep], np.arange(PRUNED_UNITS)
            self._kernels = [k[:, keep] for k in self._kernels]
        shown = order[:SHOWN_MOST]
        self.history.unit_ids = self._kept[shown]
        self.history.unit_kernels = np.stack([k[:, shown].T for k in self._kernels])


TRAINED = ("kernel", "bias", "gamma", "beta")  # BN's moving mean and variance are statistics, not weights
KIND_LABELS = {"kernel": "kernels", "bias": "biases", "gamma": "BN scale γ", "beta": "BN shift β"}


def weight_kinds(history: WeightHistory) -> list[str]:
    """The kinds of trained weight a model has, in TRAINED order (gamma and beta only with batch norm)."""
    present = {key.split("/", 1)[1] for key in history.shapes}
    return [name for name in TRAINED if name in present]


def sample_range(history: WeightHistory, names: tuple[str, ...] = TRAINED) -> tuple[float, float]:
    """The lowest and highest sampled value of `names` over every epoch.

    One y-scale for a whole run, so moving through the epochs shows the weights spreading
    instead of the axis rescaling to hide it.
    """
    values = [
        sample
        for key, samples in history.samples.items()
        if key.split("/", 1)[1] in names
        for sample in samples
        if sample.size
    ]
    if not values:
        return 0.0, 0.0
    return float(min(v.min() for v in values)), float(max(v.max() for v in values))


def violin_series(history: WeightHistory, epoch: int, names: tuple[str, ...] = TRAINED) -> list[tuple[str, np.ndarray]]:
    """(label, sampled values) for every layer's weights at `epoch`, in model order.

    Labels name the layer and the weight (`hidden_1 kernel`, `bn_2 gamma`): a batch-norm
    vector is never mistaken for the output layer, as the notebook's positional
    `get_weights()[4]` was.
    """
    series = []
    for key in history.shapes:
        layer, name = key.split("/", 1)
        if name in names:
            series.append((f"{layer} {name}", history.samples[key][epoch]))
    return series


def stats_rows(history: WeightHistory, epoch: int, names: tuple[str, ...] = TRAINED) -> list[dict]:
    """One row of whole-tensor statistics per weight at `epoch` (STAT_NAMES, plus the layer and weight)."""
    rows = []
    for key in history.shapes:
        layer, name = key.split("/", 1)
        if name in names:
            values = dict(zip(STAT_NAMES, (float(v) for v in history.stats[key][epoch]), strict=True))
            rows.append({"layer": layer, "weight": name, "count": int(np.prod(history.shapes[key]))} | values)
    return rows
