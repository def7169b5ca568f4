"""The LiveHistory callback: what a page needs to draw training while `fit` runs.

It records, thread-safely:
- per batch, throttled to one point every `batch_interval` seconds, the running
  training loss and accuracy of the epoch so far (what Keras's progress bar shows),
  at a fractional epoch position so they share the epoch axis;
- per epoch: loss, accuracy, val_loss, val_accuracy and seconds;
- per epoch, a compact snapshot of every layer's weights (see `mnist_dash.weights`).
It also turns a stop request (a threading.Event) into `model.stop_training` before
the next batch, and cuts short the validation pass of an epoch that was stopped.
"""

from __future__ import annotations

import math
import threading
import time

import keras
import numpy as np

from mnist_dash.data import Split
from mnist_dash.model import build_model, layer_weights
from mnist_dash.spec import ModelSpec
from mnist_dash.weights import WeightRecorder

EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


class LiveHistory(keras.callbacks.Callback):
    """Records batches, epochs and weight snapshots for live display; honours a stop event."""

    # Keras may call on_train_batch_end on a helper thread; every write takes the lock.
    async_safe = True

    def __init__(self, stop_event: threading.Event | None = None, batch_interval: float = 0.25, seed: int = 0):
        super().__init__()
        self.stop_event = stop_event or threading.Event()
        self.batch_interval = batch_interval
        self.weights = WeightRecorder(seed=seed)
        self.lock = threading.Lock()
        self.epochs: list[dict] = []
        self.batches: list[dict] = []
        self.epoch = 0  # zero-based index of the epoch in progress
        self.batch = 0  # batches done in that epoch
        self.steps = 0  # batches per epoch
        self._last_point = -float("inf")
        self._epoch_started = 0.0
        self._validation_cut = False
        self.latest_weights: tuple[int, list[np.ndarray]] | None = None  # (epoch, model.get_weights())

    def on_train_begin(self, logs=None):
        self.steps = self.params.get("steps") or 0
        with self.lock:
            self.weights.record(layer_weights(self.model))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, 0
        self._validation_cut = False
        self._epoch_started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self.stop_event.is_set():
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.batch = batch + 1
        if self.stop_event.is_set():
            self.model.stop_training = True
        now = time.perf_counter()
        if now - self._last_point < self.batch_interval or "loss" not in logs:
            return
        self._last_point = now
        point = {
            "epoch": self.epoch + self.batch / max(self.steps, 1),
            "loss": float(logs["loss"]),
            "accuracy": float(logs.get("accuracy", np.nan)),
        }
        with self.lock:
            self.batches.append(point)

    def on_test_batch_begin(self, batch, logs=None):
        if self.stop_event.is_set():
            self.model.stop_evaluating = True
            self._validation_cut = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.batch < self.steps or self._validation_cut:
            return  # Stopped part-way: its numbers would mislead; the batch points stay.
        record = {"epoch": epoch + 1, **{k: float(logs.get(k, np.nan)) for k in EPOCH_KEYS}}
        record["seconds"] = time.perf_counter() - self._epoch_started
        snapshot = layer_weights(self.model)
        latest = (epoch + 1, self.model.get_weights())
        with self.lock:
            self.epochs.append(record)
            self.weights.record(snapshot)
            self.latest_weights = latest


def learning_rate_at(spec: ModelSpec, epoch: int) -> float:
    """The learning rate for zero-based `epoch` under the spec's schedule."""
    if spec.lr_schedule == "cosine":
        return spec.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / spec.epochs))
    return spec.learning_rate


def train(spec: ModelSpec, split: Split, callbacks=(), epochs: int | None = None) -> keras.Model:
    """Build `spec`'s model and fit it on `split`; returns the trained model.

    Seeds Python, NumPy and the backend from `spec.seed` first (process-wide: Keras
    has no per-model seed for shuffling).
    """
    keras.utils.set_random_seed(spec.seed)
    model = build_model(spec)
    if spec.lr_schedule != "constant":
        callbacks = [keras.callbacks.LearningRateScheduler(lambda epoch: learning_rate_at(spec, epoch)), *callbacks]
    model.fit(
        split.x_train,
        split.y_train,
        batch_size=spec.batch_size,
        epochs=epochs or spec.epochs,
        validation_data=(split.x_val, split.y_val),
        callbacks=list(callbacks),
        verbose=0,
    )
    return model


def evaluate(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray, batch_size: int = 1024) -> tuple[float, float]:
    """Test loss and accuracy, as the notebook's `model.evaluate` prints them."""
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0)
    return float(test_loss), float(test_accuracy)


class EpochPredictions:
    """What a training job's model says about one image after each epoch (for the Draw page).

    Feed it the job's `latest_weights()` as they change; a new image starts a new series.
    """

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self._model: keras.Model | None = None
        self._image_key: bytes | None = None
        self.epochs: list[int] = []
        self.probabilities: list[np.ndarray] = []

    def update(self, image: np.ndarray, latest: tuple[int, list[np.ndarray]]) -> bool:
        """Predict `image` (28x28 in [0, 1]) with the weights of `latest` if that epoch is new; True if it was."""
        key = np.asarray(image, np.float32).tobytes()
        if key != self._image_key:
            self._image_key, self.epochs, self.probabilities = key, [], []
        epoch, weights = latest
        if self.epochs and self.epochs[-1] == epoch:
            return False
        if self._model is None:
            self._model = build_model(self.spec)
        self._model.set_weights(weights)
        self.probabilities.append(np.asarray(self._model(image[None] * 255.0, training=False))[0])
        self.epochs.append(epoch)
        return True
