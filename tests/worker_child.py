"""A server stand-in for tests/test_worker.py: it trains in a worker process and is then SIGKILLed.

python -m tests.worker_child [store URL]   # prints "WORKER <pid>", then "EPOCH" after the first epoch, and
                                          # trains on; with a store, Ada's job trains and Bo's waits in line
"""

from __future__ import annotations

import sys
import time

from mnist_dash.data import validate_arrays
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.jobs.runners.process import ProcessRunner
from mnist_dash.owners import named
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.conftest import make_digits

if __name__ == "__main__":
    data = validate_arrays(*make_digits(600, seed=1), *make_digits(100, seed=2), source="synthetic")
    store = RunStore(sys.argv[1]) if len(sys.argv) > 1 else None
    runner, line = ProcessRunner(), JobQueue(1)
    runner.warm_up(1)
    print("WORKER", runner._idle[0].process.pid, flush=True)
    spec = ModelSpec(layers=(LayerSpec(16),), batch_size=64, epochs=200, name="orphaned")
    job = TrainingJob(spec, data, queue=line, runner=runner, store=store, owner=named("Ada")).start()
    if store is not None:
        waiting = spec.replace(name="in line")
        TrainingJob(waiting, data, queue=line, runner=runner, store=store, owner=named("Bo")).start()
    while not job.snapshot().history:
        time.sleep(0.01)
    print("EPOCH", flush=True)
    job.wait()
