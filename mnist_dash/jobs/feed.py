"""How a slice hands its epoch's images to `fit` on TensorFlow: pipelines without autotuning, over kept tensors.

Given NumPy arrays, each call of Keras's `fit` or `evaluate` builds a new `tf.data` pipeline
over a copy of them, tuned by tf.data's autotuner; when the call returns, tearing that pipeline
down waits for the autotuner's thread: 1.0-1.6 s in most calls on this 2-core machine, with
nothing to show in a Python profile (the call is idle in its own return). A job trained in
slices calls `fit` once an epoch, so a lesson paid it every epoch of every student: a turn held
the slot 1.29 times as long as its epoch (`bench/lesson`, `bench/slice_cost`).

A `Feed` holds a split's arrays as tensors, once per process for every job that trains on them,
and gives each epoch a small pipeline, with autotuning off, that gathers the job's own order
batch by batch from them: the same batches, in the same order, as `fit` cut from the reordered
arrays, so the same weights to the last bit (`bench/slice_cost`, `tests/test_slices.py`).
JAX's `fit` reads NumPy arrays without `tf.data`: there `feed_for` and `batches` give None and
the arrays go to Keras as they are.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import keras
import numpy as np

from mnist_dash.data import Split

FEEDS_KEPT = 2  # splits whose tensors a process keeps (a worker has one dataset: "test" and "holdout" of it)

_lock = threading.Lock()
_feeds: OrderedDict[tuple, Feed] = OrderedDict()


def _untuned(dataset):
    """`dataset` with tf.data's autotuner off: nothing to tune in a gather per batch, and no thread to wait for."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def batches(x: np.ndarray, y: np.ndarray, batch_size: int):
    """`x` and `y` in batches of `batch_size` on TensorFlow (the test set's evaluation, say); None elsewhere."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return _untuned(tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size))


class Feed:
    """A split's arrays as TensorFlow tensors, and an epoch's batches gathered from them in a given order."""

    def __init__(self, split: Split):
        import tensorflow as tf

        self.arrays = tuple(split)  # kept alive with the tensors (see feed_for)
        self.x_train, self.y_train = tf.constant(split.x_train), tf.constant(split.y_train)
        self.x_val, self.y_val = tf.constant(split.x_val), tf.constant(split.y_val)
        self._validation: dict[int, object] = {}

    def epoch(self, order: np.ndarray, batch_size: int):
        """The epoch's batches: the images and labels at `order`, `batch_size` at a time (the last one shorter)."""
        import tensorflow as tf

        x, y = self.x_train, self.y_train
        at = tf.data.Dataset.from_tensor_slices(tf.constant(order)).batch(batch_size)
        return _untuned(at.map(lambda rows: (tf.gather(x, rows), tf.gather(y, rows))).prefetch(2))

    def validation(self, batch_size: int):
        """The validation images and labels in batches (one pipeline per batch size, kept)."""
        if batch_size not in self._validation:
            self._validation[batch_size] = batches(self.x_val, self.y_val, batch_size)
        return self._validation[batch_size]


def feed_for(split: Split) -> Feed | None:
    """The process's Feed of `split` on TensorFlow, made at its first job and kept (FEEDS_KEPT); None elsewhere."""
    if keras.backend.backend() != "tensorflow":
        return None
    # By memory, not by object: "holdout" makes new views of the same arrays for every job. The feed holds the
    # arrays, so while it is kept no other array can come to live at their addresses.
    key = tuple((array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str) for array in split)
    with _lock:
        feed = _feeds.get(key)
        if feed is not None:
            _feeds.move_to_end(key)
            return feed
    feed = Feed(split)
    with _lock:
        _feeds[key] = feed
        while len(_feeds) > FEEDS_KEPT:
            _feeds.popitem(last=False)
    return feed
