"""A drawing or a photo of a digit -> a 28x28 image that looks like MNIST.

MNIST's own recipe: white ink on black, cropped to the ink, scaled to fit a 20x20
box keeping the aspect ratio (anti-aliased), then placed in 28x28 with its centre
of mass at the centre. An MLP is not shift-invariant, so every step matters.

Uploads come first through read_upload, which shrinks them while decoding: a class of thirty
shares one server, so an upload must cost it a few MB, not hundreds.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

BOX = 20
SIZE = 28
INK = 0.1  # a pixel is ink when it is brighter than this share of the brightest one
MIN_INK_PIXELS = 12  # fewer ink pixels than this (at 28x28 scale) is an empty drawing
# Uploads: a class of thirty shares one server, so one upload may cost it at most ~60 MB in all.
MAX_UPLOAD_BYTES = 8 * 2**20  # = server.maxUploadSize in .streamlit/config.toml (Streamlit's MB is 2**20 bytes)
# What Pillow may hold at once to decode one upload before shrinking it: with the file's own bytes
# (held by Streamlit) and the shrunk copies, one upload then stays under 60 MB.
MAX_DECODE_BYTES = 40_000_000
UPLOAD_SIDE = 560  # uploads are shrunk to this long side first: 20x the 28-pixel field, plenty for a digit
FORMATS = ("PNG", "JPEG")  # MPO (a JPEG with extra pictures, e.g. a phone's HDR photo) opens as JPEG too
ACCEPTED_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA")
SMALLER = "Save it smaller (1000 pixels across is plenty for a digit) and upload it again."


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
    """What the model takes: a uint8 (28, 28) array, 0-255, white digit on black, centred like MNIST.

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
    return np.round(np.clip(result, 0, 1) * 255).astype(np.uint8)


def read_upload(data: bytes, name: str = "the file") -> np.ndarray:
    """An uploaded PNG/JPEG as a uint8 RGBA array at most UPLOAD_SIDE pixels on its long side.

    The image is shrunk by Pillow before any copy or float conversion (a JPEG is even decoded at
    1/2, 1/4 or 1/8 scale), so a 12-megapixel photo costs about 10 MB. Raises BadUpload, saying what
    is wrong and what to do, for anything else: another format, a damaged file, too large.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES >> 20
        raise BadUpload(f"{name} is {len(data) / 2**20:.1f} MB; upload an image of at most {limit} MB.")
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            _check(image, name)
            width, height = image.size
            image.draft(None, (UPLOAD_SIDE, UPLOAD_SIDE))  # JPEG only: decode at a reduced scale
            cost = _decode_bytes(image, width, height)
            if cost > MAX_DECODE_BYTES:
                raise BadUpload(
                    f"{name} is {width} x {height} pixels ({image.format}, {image.mode}) and would take "
                    f"{cost / 1e6:.0f} MB to decode; the limit is {MAX_DECODE_BYTES / 1e6:.0f} MB. {SMALLER}"
                )
            mode = _working_mode(image)
            small = image.convert(mode) if mode else image
            # reducing_gap=1: box-average straight down to within 2x of the target first, so the copy
            # Pillow makes on the way stays under ~5 MB whatever the size (the default gap, 2, costs up
            # to 20 MB); to_mnist's own resize to 20 pixels smooths more than this loses.
            small.thumbnail((UPLOAD_SIDE, UPLOAD_SIDE), reducing_gap=1.0)
            # A phone stores how it was held rather than turning the pixels: turn the small image.
            return np.asarray(ImageOps.exif_transpose(small).convert("RGBA"))
    except BadUpload:
        raise
    except Image.DecompressionBombError:
        raise BadUpload(
            f"{name} claims an image of more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, too large to "
            f"decode safely; the limit is {MAX_DECODE_BYTES / 1e6:.0f} MB decoded. {SMALLER}"
        ) from None
    except UnidentifiedImageError:
        raise BadUpload(_not_png_or_jpeg(data, name)) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadUpload(f"{name} is damaged or truncated ({error}); save it again and upload it.") from None


def _check(image: Image.Image, name: str) -> None:
    """Refuse, from the header alone, what read_upload cannot turn into one digit image."""
    # An MPO's further frames are extras (a depth or HDR map): the first is the photo.
    if image.format != "MPO" and getattr(image, "n_frames", 1) > 1:
        raise BadUpload(f"{name} is animated ({image.n_frames} frames); upload a still image of one digit.")
    if image.mode not in ACCEPTED_MODES:
        raise BadUpload(f"{name} has pixel format {image.mode} (e.g. 16-bit); save it as an 8-bit PNG or JPEG.")


def _working_mode(image: Image.Image) -> str | None:
    """The mode to convert to before shrinking (Pillow shrinks 1 and P by dropping pixels), or None."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return None
    if image.mode == "1" or (image.mode == "P" and "transparency" not in image.info):
        return "L"  # ink reads brightness only, so grey loses nothing
    return "RGBA"


def _decode_bytes(image: Image.Image, width: int, height: int) -> int:
    """Bytes Pillow holds at once to decode `image` (a JPEG already drafted) before shrinking it.

    Pillow keeps 1, L and P at one byte a pixel and every other 8-bit mode (RGB too) at four.
    A PNG is decoded whole; a progressive JPEG also keeps every DCT coefficient of the full-size
    image (two bytes a sample, per component at its own sampling) however small the draft.
    """
    pixels = image.size[0] * image.size[1]
    cost = pixels * (1 if image.mode in ("1", "L", "P") else 4)
    if mode := _working_mode(image):  # converted whole before shrinking
        cost += pixels * (1 if mode == "L" else 4)
    if image.format in ("JPEG", "MPO") and image.info.get("progressive"):
        h_max, v_max = max(c[1] for c in image.layer), max(c[2] for c in image.layer)
        cost += sum(2 * (width * h // h_max) * (height * v // v_max) for _, h, v, _ in image.layer)
    return cost


def _not_png_or_jpeg(data: bytes, name: str) -> str:
    """What an upload that is not a PNG or JPEG is, for the message, from its header only."""
    try:
        with Image.open(io.BytesIO(data)) as other:
            kind = other.format
    except Exception:  # Naming it is a courtesy: any failure means Pillow does not know it either.
        kind = None
    if kind is None:
        return f"{name} is not an image; upload a PNG or JPEG photo or screenshot of a digit."
    return f"{name} is a {kind} image; upload a PNG or JPEG photo or screenshot (save or export it as one)."


GRID = 14  # the keyboard grid's cells a side: two MNIST pixels each, coarse enough to move across by arrow keys


def grid_image(cells, side: int = 280, stroke: int = 18) -> np.ndarray:
    """The keyboard grid's inked cells ((row, column) pairs, 0..GRID-1) as a drawing like the canvas's: a
    `side` x `side` uint8 grey image, white ink on black, a pen of `stroke` px through each cell's centre and
    joining inked neighbours (diagonals too), so a line of cells is one stroke. `to_mnist` reads it as it
    reads the canvas."""
    from PIL import ImageDraw

    inked = {(int(row), int(column)) for row, column in cells if 0 <= row < GRID and 0 <= column < GRID}
    picture = Image.new("L", (side, side), 0)
    pen = ImageDraw.Draw(picture)
    cell = side / GRID

    def centre(row: int, column: int) -> tuple[float, float]:
        return (column + 0.5) * cell, (row + 0.5) * cell

    for row, column in inked:
        x, y = centre(row, column)
        pen.ellipse((x - stroke / 2, y - stroke / 2, x + stroke / 2, y + stroke / 2), fill=255)
        for step_row, step_column in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each neighbour once
            if (row + step_row, column + step_column) in inked:
                pen.line((x, y, *centre(row + step_row, column + step_column)), fill=255, width=stroke)
    return np.asarray(picture)
