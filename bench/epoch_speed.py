"""How close does training come to this machine's limit? Seconds per epoch, three ways.

Each configuration runs in its own process (KERAS_BACKEND is set per process), and
the configurations alternate, round after round:
- notebook_tf: the notebook's own code for its first model, as it writes it: images
  reshaped to float32 vectors scaled to [0, 1], one-hot labels, a bare `model.fit`
  (batch 128, verbose 0), on TensorFlow;
- engine_tf, engine_jax: our engine, a `TrainingJob` (LiveHistory's per-batch points
  and per-epoch weight snapshots, polled once a second) on the uint8 arrays, on
  TensorFlow and on JAX. It trains on the job's thread, so the clock can be a callback;
  the app's worker process runs the same `JobTraining` with the same LiveHistory
  and sends its progress over a pipe (`bench/watched_epochs` times that).
- engine_tf_keras_adam (asked for with --configs): engine_tf with Keras's own Adam update in place of
  the engine's FusedAdam (TensorFlow's one-kernel update), to measure what fusing it gives.
Seconds per epoch are the median over every run's epochs after the first (which
traces and compiles), from one epoch's end to the next (validation included). Test
accuracy is measured after the same epochs; round r seeds every configuration with r.

The floor is the epoch's matrix-multiply work at this machine's measured matmul
throughput: forward and backward over the training images counted as 3 forward
passes (the usual 6 FLOPs per weight per image), plus a forward pass over the
validation images, divided by what NumPy's float32 BLAS does on 2048 x 2048 matrices.
The matmul is measured just before every run (best of 5), so under the same load
from other processes as the epochs: `floor_s` uses the median of those measurements,
`quiet_floor_s` the best one. CPU seconds per epoch (all threads of the process)
against the best matmul FLOPs per CPU second give a third ratio, one that other
processes' load hardly moves.

The shape floor is the same work on the epoch's own shapes (`shape_floor_seconds`: for
every batch of 128, each layer's forward product, every weight gradient and every input
gradient but the first's, then the validation pass's forward products), timed through
NumPy's BLAS on the same threads before every run, alternating with the configurations:
`shape_floor_s` is its median, `ratio_to_shape_floor` each configuration's seconds per
epoch over it. Targets (issue 21): engine_tf within 1.5x, the fastest configuration
within 1.25x.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.epoch_speed [--rounds 3] [--epochs 5] [--quick]
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from mnist_dash.presets import get_preset
from mnist_dash.spec import INPUT_SIZE, NUM_CLASSES, ModelSpec

CONFIGS = {
    "notebook_tf": "tensorflow",
    "engine_tf": "tensorflow",
    "engine_jax": "jax",
    "engine_torch": "torch",
    "engine_tf_keras_adam": "tensorflow",  # the engine with Keras's own Adam update in place of FusedAdam
}
DEFAULT_CONFIGS = ("notebook_tf", "engine_tf", "engine_jax")
PRESET = "notebook-2-hidden"  # the notebook's first model


def matmul_throughput(size: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """Float32 matrix-multiply GFLOP per second and per CPU second through NumPy's BLAS (best of `repeats`)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size), np.float32), rng.random((size, size), np.float32)
    a @ b  # warm-up: threads start, pages fault in
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        a @ b
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    flops = 2 * size**3
    return flops / min(walls) / 1e9, flops / min(cpus) / 1e9


def shape_floor_seconds(spec: ModelSpec, train_images: int = 60_000, val_images: int = 10_000) -> float:
    """Seconds of an epoch's matrix products alone, on the design's exact shapes, through NumPy's BLAS.

    For every batch (of `spec.batch_size`, the last one short): each layer's forward product; backward,
    every layer's weight gradient and every layer's input gradient but the first's (nobody needs the
    pixels' gradient); then the validation pass's forward products, in batches of the same size (as
    Keras validates). The arrays are float32 and made once; only the products are timed, one after
    another as training does them.
    """
    rng = np.random.default_rng(0)
    widths = [INPUT_SIZE, *(layer.units for layer in spec.layers), NUM_CLASSES]
    kernels = [rng.standard_normal((a, b), np.float32) for a, b in itertools.pairwise(widths)]

    def batches(images: int) -> list[int]:
        full, last = divmod(images, spec.batch_size)
        return [spec.batch_size] * full + ([last] if last else [])

    def arrays(n: int):
        inputs = [rng.standard_normal((n, width), np.float32) for width in widths[:-1]]
        deltas = [rng.standard_normal((n, width), np.float32) for width in widths[1:]]
        return inputs, deltas

    shapes = {n: arrays(n) for n in set(batches(train_images)) | set(batches(val_images))}
    started = time.perf_counter()
    for n in batches(train_images):
        inputs, deltas = shapes[n]
        for x, kernel in zip(inputs, kernels, strict=True):
            x @ kernel
        for x, delta in zip(inputs, deltas, strict=True):
            x.T @ delta
        for delta, kernel in list(zip(deltas, kernels, strict=True))[1:]:
            delta @ kernel.T
    for n in batches(val_images):
        inputs, _ = shapes[n]
        for x, kernel in zip(inputs, kernels, strict=True):
            x @ kernel
    return time.perf_counter() - started


def epoch_flops(spec: ModelSpec, train_images: int = 60_000, val_images: int = 10_000) -> float:
    """Matrix-multiply FLOPs of one epoch: 3 forward passes per training image, 1 per validation image."""
    widths = [INPUT_SIZE, *(layer.units for layer in spec.layers), NUM_CLASSES]
    forward = 2 * sum(a * b for a, b in itertools.pairwise(widths))
    return forward * (3 * train_images + val_images)


def epoch_clock():
    """A Keras callback timing each epoch, end to end, in wall-clock and in CPU seconds."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            # Once per run: a job calls `fit` once a turn (an epoch), and the time between its calls counts.
            if not getattr(self, "marks", None):
                self.marks = [(time.perf_counter(), time.process_time())]

        def on_epoch_end(self, epoch, logs=None):
            self.marks.append((time.perf_counter(), time.process_time()))

        def steady_epochs(self) -> dict:
            """Wall and CPU seconds of every epoch after the first (which traces and compiles)."""
            spans = list(itertools.pairwise(self.marks[1:]))
            return {
                "epoch_seconds": [end[0] - start[0] for start, end in spans],
                "epoch_cpu_seconds": [end[1] - start[1] for start, end in spans],
            }

    return EpochClock()


def notebook_run(epochs: int, seed: int) -> dict:
    """The notebook's cells for its first model, with the data read from MNIST_DASH_DATA."""
    import keras
    from keras.layers import Dense, Dropout
    from keras.models import Sequential

    from mnist_dash.data import load_mnist

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load_mnist()
    x_train = x_train.reshape(x_train.shape[0], x_train.shape[1] * x_train.shape[2])
    x_test = x_test.reshape(x_test.shape[0], x_test.shape[1] * x_test.shape[2])
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    y_train_onehot = keras.utils.to_categorical(y_train, 10)
    y_test_onehot = keras.utils.to_categorical(y_test, 10)
    model = Sequential()
    model.add(keras.Input(shape=(784,)))  # Keras 3 spelling of the notebook's input_shape=(784,)
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.4))
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    clock = epoch_clock()
    model.fit(
        x_train,
        y_train_onehot,
        batch_size=128,
        epochs=epochs,
        verbose=0,
        validation_data=(x_test, y_test_onehot),
        callbacks=[clock],
    )
    _loss, accuracy = model.evaluate(x_test, y_test_onehot, verbose=0)
    return {**clock.steady_epochs(), "test_accuracy": float(accuracy)}


def engine_run(epochs: int, seed: int) -> dict:
    """Our engine: a TrainingJob with its live history, polled once a second as the Train page does."""
    from mnist_dash.data import load_mnist
    from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
    from mnist_dash.jobs.runners.thread import ThreadRunner

    spec = get_preset(PRESET).replace(epochs=epochs, seed=seed)
    clock = epoch_clock()
    job = TrainingJob(spec, load_mnist(), queue=JobQueue(1), runner=ThreadRunner([clock])).start()
    while not job.done:
        time.sleep(1.0)
        job.snapshot()  # what the Train page's fragment reads each second
    snap = job.wait()
    if snap.status != JobStatus.FINISHED:
        raise RuntimeError(f"job ended {snap.status}: {snap.error}")
    return {**clock.steady_epochs(), "test_accuracy": snap.test_accuracy}


def child(config: str, epochs: int, seed: int) -> None:
    import keras

    if keras.backend.backend() != CONFIGS[config]:
        raise RuntimeError(f"{config} needs KERAS_BACKEND={CONFIGS[config]}, got {keras.backend.backend()}")
    if config == "engine_tf_keras_adam":
        from mnist_dash import model

        model.FusedAdam = keras.optimizers.Adam
    result = notebook_run(epochs, seed) if config == "notebook_tf" else engine_run(epochs, seed)
    print(json.dumps(result))


def run_child(config: str, epochs: int, seed: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": CONFIGS[config]}
    command = [
        sys.executable,
        "-m",
        "bench.epoch_speed",
        "--child",
        config,
        "--epochs",
        str(epochs),
        "--seed",
        str(seed),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (the first is left out of the times)")
    parser.add_argument("--quick", action="store_true", help="one round of 3 epochs, to try the benchmark")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(DEFAULT_CONFIGS))
    parser.add_argument("--child", choices=list(CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs, args.seed)
        return
    if args.quick:
        args.rounds, args.epochs = 1, 3
    walls = {config: [] for config in args.configs}
    cpus = {config: [] for config in args.configs}
    accuracies = {config: [] for config in args.configs}
    matmuls, shape_floors = [], []
    spec = get_preset(PRESET)
    for round_number in range(args.rounds):
        shift = round_number % len(args.configs)  # a different configuration goes first each round
        for config in args.configs[shift:] + args.configs[:shift]:
            matmuls.append(matmul_throughput())
            shape_floors.append(shape_floor_seconds(spec))
            result = run_child(config, args.epochs, seed=round_number)
            walls[config] += result["epoch_seconds"]
            cpus[config] += result["epoch_cpu_seconds"]
            accuracies[config].append(result["test_accuracy"])
            epochs_text = " ".join(f"{t:.2f}" for t in result["epoch_seconds"])
            print(
                f"round {round_number + 1} {config:12} {epochs_text} s (matmul {matmuls[-1][0]:.0f} GFLOP/s, "
                f"shape floor {shape_floors[-1]:.2f} s), "
                f"test {result['test_accuracy']:.4f}",
                flush=True,
            )
    flops = epoch_flops(spec)
    shape_floor = statistics.median(shape_floors)
    gflops = statistics.median(wall for wall, _cpu in matmuls)
    best = max(wall for wall, _cpu in matmuls)
    gflops_per_cpu_s = max(cpu for _wall, cpu in matmuls)
    floors = {"floor": flops / (gflops * 1e9), "quiet": flops / (best * 1e9), "cpu": flops / (gflops_per_cpu_s * 1e9)}
    wall_median = {config: statistics.median(values) for config, values in walls.items()}
    cpu_median = {config: statistics.median(values) for config, values in cpus.items()}
    accuracy = {config: statistics.median(values) for config, values in accuracies.items()}
    print(f"\n{PRESET}: {flops / 1e9:.1f} GFLOP of matrix multiplies per epoch")
    print(f"matmul: median {gflops:.1f} GFLOP/s, best {best:.1f} GFLOP/s, best {gflops_per_cpu_s:.1f} GFLOP per CPU s")
    print(
        f"floor: {floors['floor']:.2f} s per epoch at the median, {floors['quiet']:.2f} s at the best, "
        f"{floors['cpu']:.2f} CPU s; shape floor (the epoch's own products) {shape_floor:.2f} s"
    )
    notebook = wall_median.get("notebook_tf")
    print(
        f"{'config':12} {'s/epoch':>8} {'x shape':>8} {'x floor':>8} {'x quiet':>8} {'vs notebook':>11} "
        f"{'CPU s':>6} {'x CPU floor':>11} {'test acc':>9}"
    )
    for config in args.configs:
        speedup = f"{notebook / wall_median[config]:.2f}x" if notebook else "-"
        print(
            f"{config:12} {wall_median[config]:8.3f} {wall_median[config] / shape_floor:8.2f} "
            f"{wall_median[config] / floors['floor']:8.2f} "
            f"{wall_median[config] / floors['quiet']:8.2f} {speedup:>11} {cpu_median[config]:6.2f} "
            f"{cpu_median[config] / floors['cpu']:11.2f} {accuracy[config]:9.4f}"
        )
    print(f"({args.rounds} rounds of {args.epochs} epochs; medians over {args.rounds * (args.epochs - 1)} epochs each)")
    result = {f"{config}_s": round(wall_median[config], 4) for config in args.configs}
    result |= {
        "floor_s": round(floors["floor"], 4),
        "quiet_floor_s": round(floors["quiet"], 4),
        "cpu_floor_s": round(floors["cpu"], 4),
        "shape_floor_s": round(shape_floor, 4),
        "ratio_to_shape_floor": {config: round(value / shape_floor, 3) for config, value in wall_median.items()},
        "matmul_gflops": round(gflops, 1),
        "matmul_gflops_best": round(best, 1),
        "ratio_to_floor": {config: round(value / floors["floor"], 3) for config, value in wall_median.items()},
        "ratio_to_quiet_floor": {config: round(value / floors["quiet"], 3) for config, value in wall_median.items()},
        "cpu_s": {config: round(value, 4) for config, value in cpu_median.items()},
        "cpu_ratio_to_floor": {config: round(value / floors["cpu"], 3) for config, value in cpu_median.items()},
        "test_accuracy": {config: round(value, 4) for config, value in accuracy.items()},
        "epochs": args.epochs,
        "rounds": args.rounds,
    }
    if notebook:
        result["speedup_vs_notebook"] = {config: round(notebook / value, 3) for config, value in wall_median.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
