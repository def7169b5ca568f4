"""What a turn costs beyond its epoch: jobs trained in one-epoch slices, taking turns, as the worker trains them.

`--jobs` jobs of notebook-2-hidden (seeds 0, 1, ...) for `--epochs` epochs each, round robin,
one epoch a slice (`JobTraining.run(1)`), in one TensorFlow process, each run stored in a
temporary SQLite store as the worker stores it. Two ways, alternating round by round, the
same jobs each way:
- arrays: `fit` given the NumPy arrays in the job's order (how slices were fed before);
- tensors: `fit` given the process's `Feed` (`mnist_dash.jobs.feed`), what the worker does now.
A slice's seconds are split into: before its epoch (assigning the job's state, `fit`'s set-up),
the epoch itself (as the run stores it: from its start to the end of its validation), and
after it (`fit`'s tear-down, reading the state back; after the last epoch, testing the model).
A job's set-up (its initial weights) and its end (storing the run) are counted apart. `overhead` is all of a way's
seconds over its epochs' seconds: what `bench/lesson`'s `switch_overhead` measures on a busy
server, here on its own. Both ways must end with the same weights (the same batches in the same
order). Medians per slice; the last line is JSON.

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.slice_cost [--jobs 4 --epochs 3 --rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time

import keras
import numpy as np

from mnist_dash.data import load_mnist
from mnist_dash.jobs import train_run, training
from mnist_dash.jobs.contract import TrainRequest
from mnist_dash.presets import get_preset
from mnist_dash.runs import RunStore

WAYS = ("arrays", "tensors")


class Stamps(keras.callbacks.Callback):
    """When the slice's epoch began and ended, and when `fit` returned."""

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_train_end(self, logs=None):
        self.returned = time.perf_counter()


def lesson(way: str, jobs: int, epochs: int, data, store) -> dict:
    spec = get_preset("notebook-2-hidden").replace(epochs=epochs)
    held, slices, setups, ends = [], [], [], []
    for seed in range(jobs):
        stamps, began = Stamps(), time.perf_counter()
        request = TrainRequest(f"{way}-{seed}", spec.replace(seed=seed, name=f"{way}-{seed}"), data, store)
        job = train_run.JobTraining(request, training.LiveHistory(threading.Event(), seed=seed), callbacks=[stamps])
        if way == "arrays":
            job.feed = None
        setups.append(time.perf_counter() - began)
        held.append((job, stamps))
    while any(not job.done for job, _ in held):
        for job, stamps in held:
            if job.done:
                continue
            began = time.perf_counter()
            job.run(1)
            ended = time.perf_counter()
            epoch = job.live.epochs[-1]["seconds"]
            before = stamps.began - began
            slices.append({"before": before, "epoch": epoch, "after": ended - began - before - epoch})
            if job.done:
                job.finish()
                ends.append(time.perf_counter() - ended)
    whole = sum(setups) + sum(ends) + sum(s["before"] + s["epoch"] + s["after"] for s in slices)
    return {
        "slices": slices,
        "setup": setups,
        "end": ends,
        "overhead": whole / sum(s["epoch"] for s in slices),
        "weights": [job.state for job, _ in held],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both ways, alternating")
    args = parser.parse_args()
    data = load_mnist()
    store = RunStore(tempfile.mkdtemp(prefix="mnist-dash-slices-"))
    lesson("tensors", 1, 1, data, store)  # the traces and the feed, before anything is timed
    found = {way: [] for way in WAYS}
    for round_ in range(args.rounds):
        for way in WAYS if round_ % 2 == 0 else reversed(WAYS):
            found[way].append(lesson(way, args.jobs, args.epochs, data, store))
            print(f"round {round_ + 1}, {way}: overhead {found[way][-1]['overhead']:.3f}", flush=True)
    same = all(
        np.array_equal(a, b)
        for one, other in zip(found["arrays"], found["tensors"], strict=True)
        for job_a, job_b in zip(one["weights"], other["weights"], strict=True)
        for a, b in zip(job_a, job_b, strict=True)
    )
    summary = {"jobs": args.jobs, "epochs": args.epochs, "rounds": args.rounds, "same_weights": same}
    for way, runs in found.items():
        slices = [s for run in runs for s in run["slices"]]
        median = {key: statistics.median(s[key] for s in slices) for key in ("before", "epoch", "after")}
        summary[way] = {
            "before_s": round(median["before"], 3),
            "epoch_s": round(median["epoch"], 3),
            "after_s": round(median["after"], 3),
            "setup_s": round(statistics.median(x for run in runs for x in run["setup"]), 3),
            "end_s": round(statistics.median(x for run in runs for x in run["end"]), 3),
            "overhead": round(statistics.median(run["overhead"] for run in runs), 3),
        }
        print(
            f"{way}: per slice {median['before']:.3f} s before the epoch, {median['epoch']:.3f} s the epoch, "
            f"{median['after']:.3f} s after; a job's set-up {summary[way]['setup_s']:.3f} s, storing its "
            f"run {summary[way]['end_s']:.3f} s; all over the epochs: {summary[way]['overhead']:.3f}",
            flush=True,
        )
    print(f"both ways end with the same weights: {same}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
