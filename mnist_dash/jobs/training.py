"""The LiveHistory callback: what a page needs to draw training while `fit` runs.

It records, thread-safely:
- per batch, throttled to one point every `batch_interval` seconds, the running
  training loss and accuracy of the epoch so far (what Keras's progress bar shows),
  at a fractional epoch position so they share the epoch axis;
- per epoch: loss, accuracy, val_loss, val_accuracy and seconds;
- per epoch, a compact snapshot of every layer's weights (see `mnist_dash.weights`).
Each change is also reported, as one typed `Progress` (`mnist_dash.jobs.contract`), to
`report` when one is given: batch progress at most every `report_interval` seconds,
every finished epoch at once; that is how the server hears of a job in any runner.
It also turns a stop request (a threading.Event) into `model.stop_training` before
the next batch (the next call into the backend: see `train`'s steps_per_execution),
and cuts short the validation pass of an epoch that was stopped.
A loss that stops being a finite number (the training diverged) is never recorded:
`diverged` says where it happened, training stops (TerminateOnNaN) and the
validation pass of that epoch is skipped.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_dash.data import Split
from mnist_dash.jobs.contract import Progress
from mnist_dash.jobs.feed import batches
from mnist_dash.model import build_model, layer_weights
from mnist_dash.spec import ModelSpec
from mnist_dash.weights import WeightRecorder

EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
# A learning rate that trains the presets' kind of model well, per optimizer: what to suggest after a divergence.
SAFE_LEARNING_RATES = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001}
# Batches per call into the backend, by backend (1 where not listed). TensorFlow then loops over the batches
# inside its graph: 16 took an epoch of notebook-2-hidden from 4.2 to 3.4 CPU seconds on a 2-core machine
# (4: 3.7, 8: 3.6, 32: 3.4). JAX's loop over batches is Python either way: no gain there. The batch hooks of
# callbacks then run once per call: batch points and a divergence land on the last batch of a call, and a
# stop waits for the call to end (`fit` returned 0.39 s after stop() instead of 0.17 s, medians of 5).
STEPS_PER_EXECUTION = {"tensorflow": 16}


@dataclass(frozen=True)
class Divergence:
    """Where a loss stopped being a finite number: the training diverged."""

    epoch: int  # 1-based epoch in which it happened
    batch: int  # 1-based batch of that epoch; 0 when the validation loss showed it first
    steps: int  # batches per epoch
    metric: str  # "loss" or "val_loss"
    value: float  # nan, inf or -inf

    def explain(self, spec: ModelSpec) -> str:
        """What happened and where, and how to fix it, for people."""
        if self.batch:
            where = f"the training loss became {self.value} in epoch {self.epoch}, batch {self.batch} of {self.steps}"
        else:
            where = f"the validation loss became {self.value} after epoch {self.epoch}"
        safe = SAFE_LEARNING_RATES.get(spec.optimizer, 0.001)
        suggestion = safe if spec.learning_rate > safe else spec.learning_rate / 10
        return (
            f"{where}: the weights grew until the numbers overflowed, so training stopped there. "
            f"Lower the learning rate ({spec.learning_rate:g} with {spec.optimizer}), e.g. to {suggestion:g}, "
            "and train again."
        )


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    # On the training thread, as LiveHistory (see there): with JAX, `self.model` on a helper thread races the step.
    async_safe = False


class LiveHistory(keras.callbacks.Callback):
    """Records batches, epochs and weight snapshots for live display; honours a stop event."""

    # Batch hooks run on the training thread. With JAX, Keras would run them on a pool of helper threads
    # instead: batch points then arrive out of order, and `self.model` there first writes the training state
    # back into the model while the next step has already consumed it, so a stop failed with "Buffer has been
    # deleted or donated". In line they cost nothing measurable (notebook-2-hidden on 2 cores: 1.33 s per epoch
    # either way). Every write still takes the lock: the page reads from another thread.
    async_safe = False

    def __init__(
        self,
        stop_event: threading.Event | None = None,
        batch_interval: float = 0.25,
        seed: int = 0,
        report: Callable[[Progress], None] | None = None,
        job: int = 0,
        report_interval: float = 0.1,
    ):
        super().__init__()
        self.report = report
        self.job = job  # the runner's number for this job, on every Progress
        self.report_interval = report_interval
        self._reported_points = 0
        self._last_report = -float("inf")
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
        self.diverged: Divergence | None = None
        self._phase: str | None = None

    def on_train_begin(self, logs=None):
        """Each call of `fit` (a job trained in slices calls it once a slice): the initial weights once."""
        self.steps = self.params.get("steps") or 0
        with self.lock:
            first = self.weights.history.epochs == 0
            if first:
                self.weights.record(layer_weights(self.model))
            weights = self.weights.history.copy() if first else None
            news = Progress(self.job, steps=self.steps, epoch=len(self.epochs), batch=0, weights=weights)
        self._send(news)

    def report_phase(self, phase: str) -> None:
        """Say what the job is doing when it is not yet (or no longer) in an epoch: "preparing the model"..."""
        if phase != self._phase:
            self._phase = phase
            self._send(Progress(self.job, phase=phase))

    def _send(self, news: Progress) -> None:
        if self.report is not None:
            self.report(news)

    def _report_batches(self) -> None:
        now = time.perf_counter()
        if now - self._last_report < self.report_interval and self.batch < self.steps:
            return  # the last batch of an epoch always goes: the page shows the epoch complete
        self._last_report = now
        with self.lock:
            points, self._reported_points = tuple(self.batches[self._reported_points :]), len(self.batches)
        self._send(Progress(self.job, epoch=self.epoch, batch=self.batch, points=points))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, 0
        self._validation_cut = False
        self._epoch_started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self.stop_event.is_set():
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        # Keras numbers the batches of a short last call into the backend as if it were whole.
        self.batch = min(batch + 1, self.steps or batch + 1)
        if self.stop_event.is_set():
            self.model.stop_training = True
        self._record_point(logs)
        self._report_batches()

    def _record_point(self, logs: dict) -> None:
        if "loss" not in logs or self.diverged:
            return
        loss = float(logs["loss"])
        if not math.isfinite(loss):
            self.diverged = Divergence(self.epoch + 1, self.batch, self.steps, "loss", loss)
            return  # _TerminateOnNaN stops the training; no point of it goes on the chart.
        now = time.perf_counter()
        if now - self._last_point < self.batch_interval:
            return
        self._last_point = now
        point = {
            "epoch": self.epoch + self.batch / max(self.steps, 1),
            "loss": loss,
            "accuracy": float(logs.get("accuracy", np.nan)),
        }
        with self.lock:
            self.batches.append(point)

    def on_test_batch_begin(self, batch, logs=None):
        if self.stop_event.is_set() or self.diverged:
            self.model.stop_evaluating = True
            self._validation_cut = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.batch < self.steps or self._validation_cut or self.diverged:
            return  # Stopped part-way: its numbers would mislead; the batch points stay.
        record = {"epoch": epoch + 1, **{k: float(logs.get(k, np.nan)) for k in EPOCH_KEYS}}
        # The last batch's update can leave NaN weights behind a finite training loss: the validation loss shows it.
        if not math.isfinite(record["val_loss"]):
            self.diverged = Divergence(epoch + 1, 0, self.steps, "val_loss", record["val_loss"])
            self.model.stop_training = True
            return
        record["seconds"] = time.perf_counter() - self._epoch_started
        snapshot = layer_weights(self.model)
        latest = (epoch + 1, self.model.get_weights())
        with self.lock:
            self.epochs.append(record)
            self.weights.record(snapshot)
            self.latest_weights = latest
            news = Progress(self.job, epochs=(record,), weights=self.weights.history.copy(), latest_weights=latest)
        self._send(news)


def learning_rate_at(spec: ModelSpec, epoch: int) -> float:
    """The learning rate for zero-based `epoch` under the spec's schedule."""
    if spec.lr_schedule == "cosine":
        return spec.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / spec.epochs))
    return spec.learning_rate


def train(
    spec: ModelSpec, split: Split, callbacks=(), epochs: int | None = None, steps_per_execution: int | None = None
) -> keras.Model:
    """Build `spec`'s model and fit it on `split`; returns the trained model.

    Seeds Python, NumPy and the backend from `spec.seed` first (process-wide: Keras
    has no per-model seed for shuffling).

    Args:
        steps_per_execution: batches per call into the backend, and so between two calls of
            the callbacks' batch hooks; by default the backend's `STEPS_PER_EXECUTION`.
    """
    keras.utils.set_random_seed(spec.seed)
    steps_per_execution = steps_per_execution or STEPS_PER_EXECUTION.get(keras.backend.backend(), 1)
    model = build_model(spec, steps_per_execution, fused=True)
    callbacks = [TerminateOnNaN(), *callbacks]
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
    data = batches(x_test, y_test, batch_size)  # on TensorFlow: no autotuner to wait for as it returns
    if data is None:
        test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0)
    else:
        test_loss, test_accuracy = model.evaluate(data, verbose=0)
    return float(test_loss), float(test_accuracy)
