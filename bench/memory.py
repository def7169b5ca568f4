"""Peak memory of one process that loads MNIST and trains, per Keras backend.

Each configuration runs in a fresh process (KERAS_BACKEND set per process) that loads
the data and trains `notebook-5-hidden-bn` for 2 epochs through a `TrainingJob`, as
the app does (live history, weight snapshots, the run saved to a temporary store),
then reports its peak resident set size (VmHWM in /proc/self/status: the high-water
mark of the whole process, backend import included). For comparison, `notebook_tf`
does the notebook's own preparation first (float32 copies of the images, one-hot
labels) and trains the same model with a bare `fit`.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.memory [--configs engine_tf engine_jax notebook_tf]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from mnist_dash.presets import get_preset

CONFIGS = {"engine_tf": "tensorflow", "engine_jax": "jax", "engine_torch": "torch", "notebook_tf": "tensorflow"}
PRESET = "notebook-5-hidden-bn"
EPOCHS = 2


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (VmHWM from /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def engine_train() -> None:
    from mnist_dash.data import load_mnist
    from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
    from mnist_dash.runs import RunStore

    with tempfile.TemporaryDirectory() as home:
        job = TrainingJob(
            get_preset(PRESET).replace(epochs=EPOCHS), load_mnist(), store=RunStore(home), queue=JobQueue(1)
        )
        snap = job.start().wait()
    if snap.status != JobStatus.FINISHED:
        raise RuntimeError(f"job ended {snap.status}: {snap.error}")


def notebook_train() -> None:
    import keras
    from keras.layers import BatchNormalization, Dense, Dropout

    from mnist_dash.data import load_mnist

    x_train, y_train, x_test, y_test = load_mnist()
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    y_train, y_test = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_test, 10)
    model = keras.Sequential([keras.Input(shape=(784,))])
    for layer in get_preset(PRESET).layers:  # the notebook's order: Dense with relu, batch norm, dropout
        model.add(Dense(layer.units, activation="relu"))
        if layer.batch_norm != "none":
            model.add(BatchNormalization())
        if layer.dropout:
            model.add(Dropout(layer.dropout))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=0, validation_data=(x_test, y_test))


def child(config: str) -> None:
    import keras

    if keras.backend.backend() != CONFIGS[config]:
        raise RuntimeError(f"{config} needs KERAS_BACKEND={CONFIGS[config]}, got {keras.backend.backend()}")
    notebook_train() if config == "notebook_tf" else engine_train()
    print(json.dumps({"peak_rss_mb": round(peak_rss_mb(), 1)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=["engine_tf", "engine_jax"])
    parser.add_argument("--child", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    peaks = {}
    for config in args.configs:
        env = {**os.environ, "KERAS_BACKEND": CONFIGS[config]}
        command = [sys.executable, "-m", "bench.memory", "--child", config]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{config} failed:\n{done.stderr[-3000:]}")
        peaks[config] = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"]
        print(f"{config:12} ({CONFIGS[config]:10}) peak RSS {peaks[config]:7.1f} MB", flush=True)
    print(json.dumps({"preset": PRESET, "epochs": EPOCHS, "peak_rss_mb": peaks}))


if __name__ == "__main__":
    main()
