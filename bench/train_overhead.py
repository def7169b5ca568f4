"""What does training through a TrainingJob cost over a bare `model.fit`?

Trains the same model on the same data both ways, alternating, in one process:
- bare: `build_model(spec)` then `model.fit(..., verbose=0)`;
- job: `TrainingJob` with the LiveHistory callback, per-batch points and per-epoch
  weight snapshots on, polled once a second as the Train page does.
Both are timed by the same callback, from one epoch's end to the next (so work done
at epoch boundaries, like weight snapshots, is counted, and so is everything between the
job's turns: it calls `fit` once an epoch); each run's first epoch is left out (graph
tracing). Prints per-epoch medians; the last line is JSON.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.train_overhead [--rounds 6] [--epochs 5]
"""

import argparse
import json
import statistics
import time

import keras

from mnist_dash.data import load_mnist, validation_split
from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.jobs.training import train
from mnist_dash.presets import get_preset


class EpochClock(keras.callbacks.Callback):
    """Seconds between consecutive epoch ends (the first from the start of training)."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_begin(self, logs=None):
        # Once per job: the job calls `fit` once an epoch (its turns), and the time between its calls counts.
        if not self.ends:
            self.ends = [time.perf_counter()]

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())

    def steady_epochs(self):
        return [b - a for a, b in zip(self.ends[1:-1], self.ends[2:], strict=True)]


def bare(spec, data):
    clock = EpochClock()
    train(spec, validation_split(data, spec.validation), callbacks=[clock])
    return clock.steady_epochs()


def through_job(spec, data):
    clock = EpochClock()
    job = TrainingJob(spec, data, queue=JobQueue(1), runner=ThreadRunner([clock])).start()
    while not job.snapshot().done:
        time.sleep(1.0)
        job.snapshot()  # what the Train page's fragment reads each second
    snap = job.wait()
    assert snap.status == JobStatus.FINISHED, snap.error
    return clock.steady_epochs()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="notebook-2-hidden")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    spec = get_preset(args.preset).replace(epochs=args.epochs)
    data = load_mnist()
    times = {"bare": [], "job": []}
    for round_number in range(args.rounds):
        order = ("bare", "job") if round_number % 2 == 0 else ("job", "bare")
        for name in order:
            epochs = bare(spec, data) if name == "bare" else through_job(spec, data)
            times[name] += epochs
            print(f"round {round_number + 1} {name:4}: " + " ".join(f"{t:.2f}s" for t in epochs), flush=True)
    bare_median, job_median = statistics.median(times["bare"]), statistics.median(times["job"])
    print(f"bare model.fit  median epoch {bare_median:.3f} s over {len(times['bare'])} epochs")
    print(f"TrainingJob     median epoch {job_median:.3f} s over {len(times['job'])} epochs")
    result = {
        "preset": args.preset,
        "bare_epoch_s": round(bare_median, 4),
        "job_epoch_s": round(job_median, 4),
        "overhead_ratio": round(job_median / bare_median, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
