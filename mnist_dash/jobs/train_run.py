"""One job's training, from start to stored run, an epoch or more at a time: check, fit, judge, evaluate, save.

Shared by every runner (`mnist_dash.jobs.runners`): on a thread of this process, in a
worker process, and in a Ray task (whose stand-in store hands the run back to the server
to save). Imports Keras: load it only where training happens.

A `JobTraining` trains in slices (`run(epochs)`): between two slices the job's whole state
(every variable of its model and of its optimizer, the random generators' states, the
order its next epoch will shuffle the images in) is kept as arrays, so a job paused for
others and resumed ends with the weights it would have had trained straight through
(`tests/test_slices.py`: the same to the last bit). While it runs, a slice borrows a
compiled model of its design from the process's `ModelPool`: thirty students training the
same preset share one compiled model, and a switch from one job to another is an
assignment of its variables (about 10 ms for notebook-3-hidden-bn), never a new trace.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

import keras
import numpy as np

from mnist_dash.data import fingerprint, validation_split
from mnist_dash.jobs import training
from mnist_dash.jobs.contract import NOTHING_TO_SAVE, JobResult, TrainRequest
from mnist_dash.jobs.feed import feed_for
from mnist_dash.model import build_model
from mnist_dash.runs.spool import save_patiently
from mnist_dash.runs.store import pack_run
from mnist_dash.spec import ModelSpec

# Compiled models a process keeps for the designs it trained last (each holds its traced functions, a few
# tens of MB): the least recently used goes when a fifth design comes.
POOL_DESIGNS = 4


class NotAllowed(ValueError):
    """The design is beyond the limits it was admitted under (checked again where it trains)."""


def design_of(spec: ModelSpec, steps: int) -> tuple:
    """What decides a compiled model's graph: the layers, the optimizer's kind and its constants, the batch.

    The seed, the name, the epochs and the validation data are a job's own; the learning rate
    is a variable of the optimizer, set from each job's state (and by its schedule each epoch).
    """
    graph = spec.replace(name="", seed=0, epochs=1, validation="test", learning_rate=0.001, lr_schedule="constant")
    return graph.replace(initializer="glorot_uniform").design_key(), steps


def _variables(model: keras.Model) -> list:
    return [*model.variables, *model.optimizer.variables]


class ModelPool:
    """Compiled models by design, each lent to one slice at a time (`borrow`); POOL_DESIGNS designs kept."""

    def __init__(self, designs: int = POOL_DESIGNS):
        self.designs = designs
        self._lock = threading.Lock()
        self._idle: OrderedDict[tuple, list[keras.Model]] = OrderedDict()

    @contextlib.contextmanager
    def borrow(self, spec: ModelSpec, steps: int) -> Iterator[keras.Model]:
        """A compiled model of `spec`'s design, its variables those of whoever used it last (or its own)."""
        key = design_of(spec, steps)
        with self._lock:
            free = self._idle.get(key)
            model = free.pop() if free else None
        if model is None:
            model = build_model(spec, steps, fused=True)
            model.optimizer.build(model.trainable_variables)
        yield model  # a slice that raised leaves it out: its traced functions may be half made
        with self._lock:
            self._idle.setdefault(key, []).append(model)
            self._idle.move_to_end(key)
            while len(self._idle) > self.designs:
                self._idle.popitem(last=False)

    def clear(self) -> None:
        """Let every idle model go."""
        with self._lock:
            self._idle.clear()


_POOL = ModelPool()


def default_pool() -> ModelPool:
    """The process's pool: a worker's jobs, or the thread runner's, share it."""
    return _POOL


class JobTraining:
    """One job's training, in slices of epochs; see the module docstring.

    Args:
        request: what to train, on which data, and where the run goes (`finish`).
        live: the job's LiveHistory: its records, weight snapshots and news.
        pool: where a slice borrows its compiled model.
        callbacks: more Keras callbacks for every slice, after the live history's.
    """

    def __init__(self, request: TrainRequest, live: training.LiveHistory, pool: ModelPool | None = None, callbacks=()):
        spec, limits = request.spec, request.limits
        if limits is not None and (problems := limits.problems(spec)):
            raise NotAllowed("; ".join(problem.message for problem in problems))
        self.request, self.spec, self.live = request, spec, live
        self.pool = pool or default_pool()
        self.callbacks = tuple(callbacks)
        self.steps = training.STEPS_PER_EXECUTION.get(keras.backend.backend(), 1)
        live.report_phase("loading the data")
        self.split = validation_split(request.data, spec.validation)
        self.feed = feed_for(self.split)  # on TensorFlow, the split as tensors this process keeps for every job
        live.report_phase("preparing the model")
        fresh = build_model(spec, self.steps, fused=True)  # the job's initial weights, from its seed; then let go
        fresh.optimizer.build(fresh.trainable_variables)
        self.state = [np.array(variable) for variable in _variables(fresh)]
        del fresh
        self.shuffle = np.random.default_rng(spec.seed)  # the order of every epoch's images, the job's own
        self.epochs_done = 0
        self.test: tuple[float, float] | None = None  # test loss and accuracy, once every epoch is done

    @property
    def done(self) -> bool:
        """Whether there is nothing more to train: every epoch done, Stop pressed, or diverged."""
        stopped = self.live.stop_event.is_set()
        return stopped or self.live.diverged is not None or self.epochs_done >= self.spec.epochs

    def run(self, epochs: int | None = None) -> None:
        """Train up to `epochs` more epochs (all that remain when None), then keep the state; Stop ends it early."""
        if self.done:
            return
        stop = self.live.stop_event
        until = self.spec.epochs if epochs is None else min(self.spec.epochs, self.epochs_done + epochs)
        with self.pool.borrow(self.spec, self.steps) as model:
            for variable, value in zip(_variables(model), self.state, strict=True):
                variable.assign(value)
            callbacks = [training.TerminateOnNaN(), self.live, *self.callbacks]
            if self.spec.lr_schedule != "constant":
                schedule = keras.callbacks.LearningRateScheduler(lambda e: training.learning_rate_at(self.spec, e))
                callbacks.insert(0, schedule)
            while self.epochs_done < until and not stop.is_set() and self.live.diverged is None:
                self.live.report_phase("training")
                model.fit(
                    **self._epoch_data(),
                    initial_epoch=self.epochs_done,
                    epochs=self.epochs_done + 1,
                    shuffle=False,
                    callbacks=callbacks,
                    verbose=0,
                )
                with self.live.lock:
                    finished = len(self.live.epochs)
                if finished == self.epochs_done:  # cut short by Stop (or it diverged): nothing more to train
                    break
                self.epochs_done = finished
            self.state = [np.array(variable) for variable in _variables(model)]
            if self.epochs_done == self.spec.epochs and not stop.is_set() and self.live.diverged is None:
                self.test = self._tested_already()
                if self.test is None:
                    self.live.report_phase("testing the model")
                    self.test = training.evaluate(model, self.request.data.x_test, self.request.data.y_test)

    def _tested_already(self) -> tuple[float, float] | None:
        """The test loss and accuracy when the last epoch's validation was on the test set (as the notebook's): the
        same weights on the same images, so `evaluate` would only repeat it (0.1 s of the slot, every job)."""
        if self.spec.validation != "test":
            return None
        with self.live.lock:
            last = self.live.epochs[-1]
        return last["val_loss"], last["val_accuracy"]

    def _epoch_data(self) -> dict:
        """`fit`'s data for the next epoch: the training images in the job's own order, and the validation data."""
        order = self.shuffle.permutation(len(self.split.x_train))
        size = self.spec.batch_size
        if self.feed is not None:
            return {"x": self.feed.epoch(order, size), "validation_data": self.feed.validation(size)}
        split = self.split
        return {
            "x": split.x_train[order],
            "y": split.y_train[order],
            "batch_size": size,
            "validation_data": (split.x_val, split.y_val),
        }

    def finish(self) -> JobResult:
        """How the job ended, with its run stored (finished, or stopped after an epoch).

        A diverged run is not saved (its last weights are NaN and no page could show them),
        nor one stopped before its first epoch ended (a model that learned nothing, and the
        largest file of a run: a class's Start-then-Stop would fill the store). A job whose
        Stop came, even once its last epoch had ended, is a stopped run: it is never told it
        finished.
        """
        live, spec = self.live, self.spec
        with live.lock:
            history, batches = list(live.epochs), list(live.batches)
            latest = live.latest_weights
        seconds = tuple(record["seconds"] for record in history)
        if live.diverged is not None:
            return JobResult("diverged", error=live.diverged.explain(spec), epoch_seconds=seconds)
        if not history or latest is None:
            return JobResult("stopped", reason=NOTHING_TO_SAVE)
        finished = self.test is not None and len(history) == spec.epochs and not live.stop_event.is_set()
        test_loss, test_accuracy = self.test if finished else (None, None)
        run_id, spooled = None, False
        if self.request.store is not None:
            live.report_phase("saving the run")
            run = pack_run(
                spec,
                "finished" if finished else "stopped",
                history,
                batches,
                live.weights.history,
                latest[1],
                test_loss,
                test_accuracy,
                fingerprint(self.request.data),
                self.request.owner,
            )
            run_id, spooled = save_patiently(self.request.store, run, self.request.marker, live.report_phase)
        return JobResult(
            "finished" if finished else "stopped",
            test_loss=test_loss,
            test_accuracy=test_accuracy,
            run_id=run_id,
            epoch_seconds=seconds,
            spooled=spooled,
        )


def train_and_save(request: TrainRequest, live: training.LiveHistory, callbacks=()) -> JobResult:
    """Train `request.spec` straight through with `live` recording it, and store the run (see `finish`)."""
    job = JobTraining(request, live, callbacks=callbacks)
    job.run()
    return job.finish()
