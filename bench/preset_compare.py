"""Which preset learns MNIST best, and at what cost? Each preset trained over several seeds.

Trains every named preset once per seed, alternating presets within each seed, in
one process, and reports test accuracy (mean and spread over seeds) and seconds of
training per run. This is the evidence behind the README's claim for our preset.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.preset_compare \\
           [--presets notebook-2-hidden cosine-2-hidden] [--seeds 0 1 2]
"""

import argparse
import json
import statistics
import time

from mnist_dash.data import load_mnist, validation_split
from mnist_dash.jobs.training import evaluate, train
from mnist_dash.presets import get_preset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["notebook-2-hidden", "cosine-2-hidden"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    data = load_mnist()
    results = {name: {"accuracy": [], "seconds": []} for name in args.presets}
    for seed in args.seeds:
        for name in args.presets:
            spec = get_preset(name).replace(seed=seed)
            started = time.perf_counter()
            model = train(spec, validation_split(data, spec.validation))
            seconds = time.perf_counter() - started
            _, accuracy = evaluate(model, data.x_test, data.y_test)
            results[name]["accuracy"].append(accuracy)
            results[name]["seconds"].append(seconds)
            print(
                f"seed {seed} {name:22} {spec.epochs:>2} epochs  {seconds:6.1f} s  test accuracy {accuracy:.4f}",
                flush=True,
            )
    summary = {}
    for name, result in results.items():
        accuracy, seconds = result["accuracy"], result["seconds"]
        summary[name] = {
            "test_accuracy_mean": round(statistics.mean(accuracy), 5),
            "test_accuracy_min": round(min(accuracy), 5),
            "test_accuracy_max": round(max(accuracy), 5),
            "seconds_median": round(statistics.median(seconds), 2),
        }
        print(
            f"{name:22} accuracy {statistics.mean(accuracy):.4f} (min {min(accuracy):.4f}, max {max(accuracy):.4f})"
            f"  median {statistics.median(seconds):.1f} s per run"
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
