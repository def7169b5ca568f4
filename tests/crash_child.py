"""A process for tests/test_store_faults.py to kill: it trains into the run store at $MNIST_DASH_HOME.

    python -m tests.crash_child training   # prints EPOCH after the first epoch and trains on
    python -m tests.crash_child saving     # prints SAVING halfway through writing the run, then waits

The parent SIGKILLs it once the line is out, the way a server dies (OOM killer, a pulled plug).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from mnist_dash.data import validate_arrays
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.conftest import make_digits


def _hang_after_the_weights() -> None:
    write = np.savez

    def write_then_hang(*args, **kwargs):
        write(*args, **kwargs)  # model.keras and weights.npz are in runs/.tmp-<id>/, run.json is not
        print("SAVING", flush=True)
        time.sleep(600)

    np.savez = write_then_hang


def main(mode: str) -> None:
    data = validate_arrays(*make_digits(600, seed=1), *make_digits(100, seed=2), source="synthetic")
    epochs = 200 if mode == "training" else 1
    spec = ModelSpec(layers=(LayerSpec(16),), batch_size=64, epochs=epochs, name=f"killed while {mode}")
    if mode == "saving":
        _hang_after_the_weights()
    job = TrainingJob(spec, data, store=RunStore(), queue=JobQueue(1)).start()
    if mode == "training":
        while not job.snapshot().history:
            time.sleep(0.01)
        print("EPOCH", flush=True)
    job.wait()


if __name__ == "__main__":
    main(sys.argv[1])
