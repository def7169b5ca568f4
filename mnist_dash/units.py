"""What each hidden unit looks for: its incoming weights drawn as an image.

A unit of the first Dense layer has one weight per input pixel (784), so its kernel
column reshaped to 28 x 28 is a picture of the pattern that makes it fire: positive
weights where ink excites it, negative where ink inhibits it.
"""

from __future__ import annotations

import numpy as np

from mnist_dash.spec import IMAGE_SHAPE

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]


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
