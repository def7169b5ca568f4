"""How long a job will take: a small model of seconds per epoch, calibrated by the jobs that ran.

A queued student wants to know roughly how long to wait. The cost of an epoch grows
with the parameters (every image goes forward and back through every weight) and with
the number of batches; the constants are this project's measurements on a 2-core
machine (notebook-2-hidden, 468,874 parameters, about 3 s an epoch), and every
finished epoch in this process pulls the estimate towards what the machine really does.
"""

from __future__ import annotations

import threading

from mnist_dash.plan import count_params
from mnist_dash.spec import ModelSpec

TRAIN_IMAGES = 60_000
SECONDS_PER_MPARAM = 5.0  # per epoch, per million parameters
SECONDS_PER_STEP = 0.0015  # per batch: the fixed cost of a step and the live callback
LEARNING = 0.3  # how far one measured epoch moves the calibration


class Pace:
    """Seconds-per-epoch estimates, scaled by what this machine has measured so far."""

    def __init__(self):
        self._lock = threading.Lock()
        self.scale = 1.0

    @staticmethod
    def _model_seconds(spec: ModelSpec) -> float:
        steps = TRAIN_IMAGES / spec.batch_size
        return SECONDS_PER_MPARAM * count_params(spec).total / 1e6 + SECONDS_PER_STEP * steps

    def epoch_seconds(self, spec: ModelSpec) -> float:
        with self._lock:
            return self.scale * self._model_seconds(spec)

    def job_seconds(self, spec: ModelSpec) -> float:
        return spec.epochs * self.epoch_seconds(spec)

    def record(self, spec: ModelSpec, seconds_per_epoch: float) -> None:
        """Learn from a measured epoch of `spec`."""
        if not seconds_per_epoch > 0:
            return
        ratio = seconds_per_epoch / self._model_seconds(spec)
        with self._lock:
            self.scale += LEARNING * (ratio - self.scale)


PACE = Pace()  # process-wide: every session's jobs share the machine, so they share its pace
