"""What each hidden unit looks for: its incoming weights drawn as an image.

A unit of the first Dense layer has one weight per input pixel (784), so its kernel
column reshaped to 28 x 28 is a picture of the pattern that makes it fire: positive
weights where ink excites it, negative where ink inhibits it.

A deeper unit has one weight per unit of the layer below; its strongest inputs (largest
|weight|) say which of those units it listens to, and their pictures say what it
combines. Below the first layer a unit's picture is the product of the kernels under it
(W1 @ W2[:, j], ...): what its input would be if every layer between were linear, as if
activations and batch norm were not there. A sketch, not the exact pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_dash.plan import layer_plan
from mnist_dash.spec import IMAGE_SHAPE, ModelSpec

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
SHOWN_MOST = 64  # the most first-layer units the grid shows (and a run keeps images of)
# Keras's weights of each layer kind, in `model.get_weights()` order.
WEIGHT_NAMES = {"Dense": ("kernel", "bias"), "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance")}


def first_kernel(weights: dict[str, dict[str, np.ndarray]]) -> tuple[str, np.ndarray] | None:
    """(layer name, kernel of shape (784, units)) of the first Dense layer in `weights` (`model.layer_weights`)."""
    for layer, tensors in weights.items():
        kernel = tensors.get("kernel")
        if kernel is not None and kernel.ndim == 2 and kernel.shape[0] == PIXELS:
            return layer, kernel
    return None


def unit_images(kernel: np.ndarray, units) -> np.ndarray:
    """The images (len(units), 28, 28) of first-layer `units`: their kernel columns, reshaped row by row."""
    columns = np.asarray(kernel)[:, np.asarray(units, dtype=np.int64)]
    return columns.T.reshape(-1, *IMAGE_SHAPE)


def unit_change(kernel: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """How far each unit's incoming weights moved from their initial values: ||w - w0|| per column."""
    return np.linalg.norm(np.asarray(kernel, np.float32) - np.asarray(initial, np.float32), axis=0)


def most_changed(kernel: np.ndarray, initial: np.ndarray, count: int = SHOWN_MOST) -> np.ndarray:
    """The `count` units whose weights moved most since `initial`, most first (ties: lower unit first)."""
    return np.argsort(-unit_change(kernel, initial), kind="stable")[:count]


@dataclass(frozen=True)
class UnitGrid:
    """First-layer units and their images at each epoch, as the Weights page draws them."""

    layer: str
    ids: np.ndarray  # (k,) unit numbers, the most changed by the newest epoch first
    images: np.ndarray  # (epochs, k, 28, 28)

    @classmethod
    def of(cls, layer: str, ids: np.ndarray, kernels: np.ndarray) -> UnitGrid:
        """From the units' columns at each epoch, (epochs, k, 784) (`WeightHistory.unit_kernels`)."""
        kernels = np.asarray(kernels, np.float32)
        return cls(layer, np.asarray(ids), kernels.reshape(*kernels.shape[:2], *IMAGE_SHAPE))

    def changes(self, epoch: int) -> np.ndarray:
        """How far each unit had moved from its first image by `epoch` (||w_e - w_0||)."""
        return np.linalg.norm((self.images[epoch] - self.images[0]).reshape(len(self.ids), -1), axis=1)

    def limit(self, count: int) -> float:
        """The largest |weight| of the first `count` units over every epoch: one colour scale for all of them."""
        return float(np.abs(self.images[:, :count]).max()) if self.ids.size else 0.0


def dense_kernels(spec: ModelSpec, weights: list[np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """(layer name, kernel) of every Dense layer, in order, from `model.get_weights()`'s list for `spec`.

    The list is read by the layer plan (how many arrays each layer has), never by guessing
    positions. ValueError when the arrays do not fit the design.
    """
    plan = layer_plan(spec)
    expected = sum(len(WEIGHT_NAMES.get(planned.kind, ())) for planned in plan)
    if expected != len(weights):
        raise ValueError(f"{len(weights)} weight arrays do not fit this design's {expected}")
    kernels, position = [], 0
    for planned in plan:
        if planned.kind == "Dense":
            kernels.append((planned.name, np.asarray(weights[position])))
        position += len(WEIGHT_NAMES.get(planned.kind, ()))
    return kernels


def input_images(kernels: list[np.ndarray], layer: int) -> np.ndarray:
    """(784, units of layer `layer` - 1): the images of the inputs of Dense layer number `layer` (0-based, >= 1).

    For layer 1 those are the first layer's kernel columns; deeper, the kernels multiplied through.
    """
    product = np.asarray(kernels[0], np.float64)
    for kernel in kernels[1:layer]:
        product = product @ np.asarray(kernel, np.float64)
    return product.astype(np.float32)


@dataclass(frozen=True)
class Inputs:
    """A deeper unit and its strongest inputs from the layer below."""

    unit: int
    inputs: np.ndarray  # (n,) unit numbers in the layer below, largest |weight| first
    weights: np.ndarray  # (n,) the weights from them, signed
    images: np.ndarray  # (n, 28, 28) their images (`input_images`)


def strongest_inputs(kernel: np.ndarray, unit: int, count: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, weights): the `count` inputs of `unit` with the largest |weight|, largest first (ties: lower first)."""
    column = np.asarray(kernel)[:, unit]
    order = np.argsort(-np.abs(column), kind="stable")[:count]
    return order, column[order]


def strongest_units(kernel: np.ndarray, count: int) -> np.ndarray:
    """The `count` units with the largest incoming weights (||W[:, j]||), largest first: the most shaped by training."""
    return np.argsort(-np.linalg.norm(np.asarray(kernel, np.float32), axis=0), kind="stable")[:count]


def deeper_units(kernels: list[np.ndarray], layer: int, units, inputs: int = 5) -> list[Inputs]:
    """For each of `units` of Dense layer `layer` (>= 1), its strongest `inputs` with their images."""
    below = input_images(kernels, layer)
    found = []
    for unit in units:
        ids, weights = strongest_inputs(kernels[layer], int(unit), inputs)
        found.append(Inputs(int(unit), ids, weights, unit_images(below, ids)))
    return found
