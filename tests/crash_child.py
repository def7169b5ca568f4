"""A process for tests/test_store_faults.py to kill: it trains or saves a run into the database at URL.

    python -m tests.crash_child saving URL     # prints SAVING inside the save's transaction, then waits
    python -m tests.crash_child training URL   # prints EPOCH after the first epoch and trains on

`saving` marks a run in progress as a training job does, then saves a made-up run (no Keras):
right after the `runs` row is written, before the transaction commits, it says SAVING and waits.
The parent SIGKILLs it once the line is out, the way a server dies (OOM killer, a pulled plug).
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import event

from mnist_dash.runs import RunStore
from mnist_dash.runs.database import runs
from tests.support import SPEC, fake_run


def _hang_after_the_runs_row(connection, statement, *args) -> None:
    if getattr(statement, "is_insert", False) and statement.table is runs:
        print("SAVING", flush=True)  # the run's row is written, its data and the commit are not
        time.sleep(600)


def save(url: str) -> None:

    store = RunStore(url)
    spec = SPEC.replace(name="killed while saving")
    marker = store.begin_training(spec)
    event.listen(store.engine, "after_execute", _hang_after_the_runs_row)
    store.save(spec=spec, status="finished", marker=marker, **fake_run(spec))


def train(url: str) -> None:
    from mnist_dash.data import validate_arrays
    from mnist_dash.jobs import JobQueue, TrainingJob
    from mnist_dash.spec import LayerSpec, ModelSpec
    from tests.conftest import make_digits

    data = validate_arrays(*make_digits(600, seed=1), *make_digits(100, seed=2), source="synthetic")
    spec = ModelSpec(layers=(LayerSpec(16),), batch_size=64, epochs=200, name="killed while training")
    job = TrainingJob(spec, data, store=RunStore(url), queue=JobQueue(1)).start()
    while not job.snapshot().history:
        time.sleep(0.01)
    print("EPOCH", flush=True)
    job.wait()


if __name__ == "__main__":
    {"saving": save, "training": train}[sys.argv[1]](sys.argv[2])
