"""A drawing or a photo of a digit -> a 28x28 image that looks like MNIST.

MNIST's own recipe: white ink on black, cropped to the ink, scaled to fit a 20x20
box keeping the aspect ratio (anti-aliased), then placed in 28x28 with its centre
of mass at the centre. An MLP is not shift-invariant, so every step matters.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

BOX = 20
SIZE = 28
INK = 0.1  # a pixel is ink when it is brighter than this share of the brightest one
MIN_INK_PIXELS = 12  # fewer ink pixels than this (at 28x28 scale) is an empty drawing
MAX_UPLOAD_BYTES = 5_000_000
MAX_UPLOAD_PIXELS = 4096 * 4096
ACCEPTED_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA")


class EmptyDrawing(ValueError):
    """Nothing (or almost nothing) is drawn: there is no digit to read."""


class BadUpload(ValueError):
    """An uploaded file that cannot be used as a digit image; the message says why."""


def ink(image: np.ndarray) -> np.ndarray:
    """Ink intensity in [0, 1] (1 = full ink) from a uint8 grey, RGB or RGBA image.

    A canvas gives RGBA strokes on a transparent background: there the alpha channel
    is the ink. Otherwise brightness is, inverted when the background (the border's
    median) is light, so both white-on-black and black-on-white digits work.
    """
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected a uint8 grey, RGB or RGBA image, got {array.dtype} {array.shape}")
    if array.ndim == 3 and array.shape[2] == 4 and array[..., 3].min() < 255:
        return array[..., 3].astype(np.float32) / 255
    if array.ndim == 3 and array.shape[2] >= 3:
        grey = array[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    else:
        grey = array.reshape(array.shape[:2]).astype(np.float32)
    grey /= 255
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1 - grey if np.median(border) > 0.5 else grey


def to_mnist(image: np.ndarray) -> np.ndarray:
    """A float32 (28, 28) array in [0, 1], white digit on black, centred like MNIST.

    Raises:
        EmptyDrawing: when there is too little ink to be a digit.
    """
    strength = ink(image)
    peak = float(strength.max())
    rows, columns = np.nonzero(strength > INK * peak) if peak > 0 else (np.array([]), np.array([]))
    area_at_28 = len(rows) * (SIZE / max(strength.shape)) ** 2
    if peak < 0.2 or area_at_28 < MIN_INK_PIXELS / 4:
        raise EmptyDrawing("Nothing to read yet: draw a digit (or upload an image of one).")
    cropped = strength[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1] / peak
    height, width = cropped.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    patch = Image.fromarray(np.round(cropped * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    patch = np.asarray(patch, np.float32) / 255
    if patch.sum() <= 0:
        raise EmptyDrawing("Nothing to read yet: draw a digit (or upload an image of one).")
    # Put the centre of mass at the centre of the 28x28 field (whole pixels, so no extra blur).
    ys, xs = np.indices(patch.shape)
    centre_y, centre_x = (ys * patch).sum() / patch.sum(), (xs * patch).sum() / patch.sum()
    top = int(np.clip(round(SIZE / 2 - centre_y), 0, SIZE - patch.shape[0]))
    left = int(np.clip(round(SIZE / 2 - centre_x), 0, SIZE - patch.shape[1]))
    result = np.zeros((SIZE, SIZE), np.float32)
    result[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return np.clip(result, 0, 1)


def read_upload(data: bytes, name: str = "the file") -> np.ndarray:
    """An uploaded PNG/JPEG as a uint8 RGBA array; BadUpload says what is wrong with anything else."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadUpload(
            f"{name} is {len(data) / 1e6:.1f} MB; upload an image of at most {MAX_UPLOAD_BYTES // 1_000_000} MB."
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise BadUpload(f"{name} is {width}x{height} pixels; upload an image of at most 4096x4096.")
            if getattr(image, "n_frames", 1) > 1:
                raise BadUpload(f"{name} is animated ({image.n_frames} frames); upload a still image of one digit.")
            if image.mode not in ACCEPTED_MODES:
                raise BadUpload(f"{name} has pixel format {image.mode} (e.g. 16-bit); save it as an 8-bit PNG or JPEG.")
            image.load()
            return np.asarray(image.convert("RGBA"))
    except BadUpload:
        raise
    except Image.DecompressionBombError:
        raise BadUpload(
            f"{name} claims an image too large to decode safely; upload one of at most 4096x4096."
        ) from None
    except UnidentifiedImageError:
        raise BadUpload(f"{name} is not an image Pillow can read; upload a PNG or JPEG of a digit.") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadUpload(f"{name} is damaged or truncated ({error}); save it again and upload it.") from None
