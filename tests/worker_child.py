"""A server stand-in for tests/test_worker.py: it trains in a worker process and is then SIGKILLed.

python -m tests.worker_child   # prints "WORKER <pid>", then "EPOCH" after the first epoch, and trains on
"""

from __future__ import annotations

import time

from mnist_dash.data import validate_arrays
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.jobs.runners.process import ProcessRunner
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.conftest import make_digits

if __name__ == "__main__":
    data = validate_arrays(*make_digits(600, seed=1), *make_digits(100, seed=2), source="synthetic")
    runner = ProcessRunner()
    runner.warm_up(1)
    print("WORKER", runner._idle[0].process.pid, flush=True)
    spec = ModelSpec(layers=(LayerSpec(16),), batch_size=64, epochs=200, name="orphaned")
    job = TrainingJob(spec, data, queue=JobQueue(1), runner=runner).start()
    while not job.snapshot().history:
        time.sleep(0.01)
    print("EPOCH", flush=True)
    job.wait()
