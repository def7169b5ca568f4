"""The thread runner: trains on the job's own thread, in this process (the CLI, tests, benchmarks).

The simplest runner, and the only one that takes Keras callbacks (they cannot travel to
another process). Keras loads on the first job, on that job's thread. A job trains an
epoch a turn (its state kept on its thread between them), so jobs sharing a queue take
turns as the app's do. Not for the app's server: a training thread shares the
interpreter lock with every page it draws.
"""

from __future__ import annotations

import threading

from mnist_dash.jobs.contract import JobResult, LiveMirror, TrainRequest, Turns


class ThreadRunner:
    """Trains each job on the thread that asks (`TrainingJob`'s own), `slots` at a time."""

    name = "thread"
    sliced = True

    def __init__(self, callbacks=(), slots: int = 1):
        """`callbacks`: more Keras callbacks for every job's `fit`, called after the live history's."""
        self.callbacks = tuple(callbacks)
        self._slots = slots

    def slots(self) -> int:
        return self._slots

    def warm_up(self, slots: int) -> None:
        """Nothing to start: Keras loads with the first job."""

    def train(self, request: TrainRequest, mirror: LiveMirror, stop: threading.Event, turns: Turns) -> JobResult:
        from mnist_dash.jobs import train_run, training  # Keras loads here, on the job's thread

        live = training.LiveHistory(stop, seed=request.spec.seed, report=mirror.apply)
        try:
            job = train_run.JobTraining(request, live, callbacks=self.callbacks)
            while True:
                job.run(epochs=1)
                if job.done or not turns.between_slices():  # ended, or stopped while it waited: its run is stored
                    return job.finish()
        finally:
            # Let the trained model go: it is saved, and a session may keep its job (history, weights) for hours.
            for callback in (live, *self.callbacks):
                callback.set_model(None)
