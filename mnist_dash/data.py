"""Load and check MNIST: uint8, read-only, one copy per process.

Where the data comes from, in order: an explicit path, the `MNIST_DASH_DATA`
environment variable (a Keras-layout `mnist.npz`), then `keras.datasets.mnist`
(its cache under ~/.keras/datasets, else a download). Images stay uint8; the model
scales them to [0, 1] itself, so no float32 copy of the dataset is ever made.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
import weakref
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

ENV_VAR = "MNIST_DASH_DATA"
KEYS = ("x_train", "y_train", "x_test", "y_test")
_FIX = f"Set {ENV_VAR} to a Keras-layout mnist.npz, or connect to the internet once so Keras can download and cache it."


class MnistDataError(Exception):
    """MNIST could not be loaded; the message says why and how to fix it."""


class MnistFileNotFound(MnistDataError):
    """The given path does not exist."""


class MnistNotNpz(MnistDataError):
    """The file exists but is not a NumPy .npz archive."""


class MnistMissingArrays(MnistDataError):
    """The archive lacks one of x_train, y_train, x_test, y_test."""


class MnistBadArray(MnistDataError):
    """An array has the wrong shape or dtype."""


class MnistBadLabels(MnistDataError):
    """A label is outside 0-9."""


class MnistUnavailable(MnistDataError):
    """No path was given and Keras could neither find a cache nor download."""


class Mnist(NamedTuple):
    """The four MNIST arrays in Keras's layout; unpacks as (x_train, y_train, x_test, y_test)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class Split(NamedTuple):
    """Arrays to train on and to validate on (views into the loaded data, never copies)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def load_mnist(path: str | os.PathLike | None = None) -> Mnist:
    """MNIST as four read-only uint8 arrays, loaded once per process per source.

    Args:
        path: a Keras-layout .npz; when None, `MNIST_DASH_DATA`, then Keras's loader.

    Raises:
        MnistDataError (a subclass per cause) with a message that says how to fix it.
    """
    chosen = path if path is not None else os.environ.get(ENV_VAR) or None
    if chosen is None:
        return _load_with_keras()
    resolved = Path(chosen).expanduser().resolve()
    if not resolved.is_file():
        source = "the given path" if path is not None else f"{ENV_VAR}"
        raise MnistFileNotFound(f"MNIST file not found: {resolved} (from {source}). {_FIX}")
    stat = resolved.stat()
    return _load_npz(str(resolved), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _load_npz(path: str, mtime_ns: int, size: int) -> Mnist:
    # mtime and size are in the cache key so that a replaced file is read again.
    unpacked = _unpacked_copy(path, mtime_ns, size)
    if unpacked.is_file():
        try:
            with np.load(unpacked, allow_pickle=False) as archive:
                return validate_arrays(*(archive[key] for key in KEYS), source=path)
        except Exception:  # a damaged copy is only a lost shortcut: read the original
            pass
    mnist = _read_npz(path)
    _keep_unpacked(mnist, unpacked)
    return mnist


def _unpacked_copy(path: str, mtime_ns: int, size: int) -> Path:
    """Where an uncompressed copy of the file is kept (under MNIST_DASH_HOME).

    Keras's mnist.npz is deflated: unpacking its 55 MB took 0.4 s of every server's first page.
    The copy reads in a tenth of that; it is made again whenever the file changes.
    """
    home = os.environ.get("MNIST_DASH_HOME") or (Path.home() / ".mnist_dash")
    key = hashlib.sha256(f"{path}|{mtime_ns}|{size}".encode()).hexdigest()[:16]
    return Path(home).expanduser() / "cache" / f"mnist-{key}.npz"


def _keep_unpacked(mnist: Mnist, target: Path) -> None:
    if target.is_file():
        return
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:  # best effort: a read-only or full disk only means the next start unpacks again
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as file:
            np.savez(file, **dict(zip(KEYS, mnist, strict=True)))
        os.replace(partial, target)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()


def _read_npz(path: str) -> Mnist:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise MnistNotNpz(f"{path} is not a NumPy .npz archive ({error}). {_FIX}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise MnistNotNpz(f"{path} holds a single array, not an .npz archive with {', '.join(KEYS)}. {_FIX}")
    with archive:
        missing = [key for key in KEYS if key not in archive.files]
        if missing:
            raise MnistMissingArrays(
                f"{path} lacks {', '.join(missing)} (it has {', '.join(archive.files) or 'nothing'}). "
                f"A Keras-layout mnist.npz has {', '.join(KEYS)}."
            )
        try:
            arrays = [archive[key] for key in KEYS]
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
            raise MnistNotNpz(f"{path} is damaged: {error}. {_FIX}") from None
    return validate_arrays(*arrays, source=path)


@functools.lru_cache(maxsize=1)
def _load_with_keras() -> Mnist:
    try:
        (x_train, y_train), (x_test, y_test) = _keras_load_data()
    except Exception as error:  # Keras raises plain Exception for a failed download.
        raise MnistUnavailable(
            f"MNIST is not available: no path was given, {ENV_VAR} is not set, and Keras could not load it "
            f"from its cache or download it ({type(error).__name__}: {error}). {_FIX}"
        ) from None
    return validate_arrays(x_train, y_train, x_test, y_test, source="keras.datasets.mnist")


def _keras_load_data():
    import keras  # Imported here: loading from a file never needs Keras or TensorFlow.

    return keras.datasets.mnist.load_data()


def class_counts(labels: np.ndarray) -> np.ndarray:
    """Images per digit, 0 to 9."""
    return np.bincount(labels, minlength=10)


def validate_arrays(x_train, y_train, x_test, y_test, *, source: str = "the data") -> Mnist:
    """Check shapes, dtypes and labels; return read-only arrays (labels as uint8)."""
    checked = []
    for name, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8:
            raise MnistBadArray(f"x_{name} in {source} has dtype {images.dtype}; MNIST images must be uint8 (0-255).")
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
            raise MnistBadArray(f"x_{name} in {source} has shape {images.shape}; expected (N, 28, 28) with N > 0.")
        if not np.issubdtype(labels.dtype, np.integer):
            raise MnistBadArray(f"y_{name} in {source} has dtype {labels.dtype}; labels must be integers 0-9.")
        if labels.shape != (len(images),):
            raise MnistBadArray(
                f"y_{name} in {source} has shape {labels.shape}; expected ({len(images)},), one label per image."
            )
        if labels.min() < 0 or labels.max() > 9:
            bad = labels[(labels < 0) | (labels > 9)]
            raise MnistBadLabels(f"y_{name} in {source} has labels outside 0-9 (e.g. {bad[0]}, {len(bad)} in all).")
        checked += [_read_only(images), _read_only(labels.astype(np.uint8, copy=False))]
    return Mnist(*checked)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


_fingerprints: dict[tuple[int, ...], tuple[tuple[weakref.ref, ...], str]] = {}
_fingerprints_lock = threading.Lock()


def fingerprint(data: Mnist) -> str:
    """A short hash of the four arrays (names, dtypes, shapes and bytes): whether two runs saw the same data.

    Computed once per set of arrays and remembered while they live (0.04 s for MNIST);
    the loaded arrays are read-only, so their bytes cannot change under it.
    """
    key = tuple(id(array) for array in data)
    with _fingerprints_lock:
        refs, value = _fingerprints.get(key, ((), ""))
        if refs and all(ref() is array for ref, array in zip(refs, data, strict=True)):
            return value
    digest = hashlib.sha256()
    for name, array in zip(KEYS, data, strict=True):
        array = np.ascontiguousarray(array)
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.data)
    value = digest.hexdigest()[:32]
    with _fingerprints_lock:
        for stale in [k for k, (refs, _) in _fingerprints.items() if any(ref() is None for ref in refs)]:
            del _fingerprints[stale]
        _fingerprints[key] = (tuple(weakref.ref(array) for array in data), value)
    return value


def validation_split(data: Mnist, source: str = "test") -> Split:
    """Train and validation arrays for `source` ("test" as the notebook, or "holdout").

    "holdout" validates on the last sixth of the training set (10,000 of MNIST's
    60,000, like the classic 50k/10k split) and trains on the rest; the test set then
    stays unseen until the final evaluation. Both are views, not copies.
    """
    if source == "test":
        return Split(data.x_train, data.y_train, data.x_test, data.y_test)
    if source == "holdout":
        cut = len(data.x_train) - len(data.x_train) // 6
        return Split(data.x_train[:cut], data.y_train[:cut], data.x_train[cut:], data.y_train[cut:])
    raise ValueError(f"validation source must be 'test' or 'holdout', got {source!r}")


def examples_per_class(labels: np.ndarray, per_class: int = 2) -> list[int]:
    """Indices of the first `per_class` images of each digit, ordered 0, 1, ..., 9, 0, 1, ..."""
    firsts = [np.flatnonzero(labels == digit)[:per_class] for digit in range(10)]
    return [int(indices[row]) for row in range(per_class) for indices in firsts if row < len(indices)]


def enlarge(image: np.ndarray, factor: int = 3) -> np.ndarray:
    """A 28x28 digit scaled up by whole pixels (no blur), for showing at a readable size."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))
