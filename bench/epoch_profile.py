"""Where an epoch's time goes on TensorFlow: the same epoch of notebook-2-hidden, built up layer by layer.

One process (TensorFlow, this machine's threads), real MNIST, seconds per epoch as the median of
`--epochs` epochs after a first one that traces and warms up, each step adding one thing:

1. numpy_products: the epoch's matrix products alone through NumPy's BLAS (bench.epoch_speed's
   shape floor: every batch's forward, weight-gradient and input-gradient products, then the
   validation pass's forward products);
2. tf_products: the same products as TensorFlow ops, inside one graph loop over the epoch;
3. tf_step: a whole training step written in TensorFlow by hand (scale, dense, ReLU, dropout,
   softmax cross-entropy, the gradient by GradientTape, Adam), 16 batches per call into the graph
   as the engine's steps_per_execution, plus the validation pass;
4. keras_fit: Keras's `model.fit` of the same model (the engine's `build_model`, FusedAdam, uint8 pixels,
   steps_per_execution 16, accuracy metric), one call for all epochs, no callbacks;
5. keras_fit_live: the same with the engine's callbacks (TerminateOnNaN and LiveHistory: batch
   points, the epoch's weight snapshot and latest weights);
6. engine_slices: the engine as the worker runs it (`JobTraining.run(1)`: one `fit` per epoch, the
   state restored into a pooled model and read back after each).

Then Adam's update alone, an epoch's worth (one update per batch, STEPS a call, on fixed gradients):
adam_keras with Keras's own Adam (about ten elementwise operations per variable), adam_fused with
the engine's FusedAdam (TensorFlow's one-kernel `ResourceApplyAdam`).

The differences say what each part costs: TensorFlow's ops against BLAS (2 - 1), the rest of the
step (3 - 2), Keras's machinery (4 - 3), the live callbacks (5 - 4), slicing (6 - 5). The last
stdout line is JSON with each step's seconds and its ratio to numpy_products.

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.epoch_profile [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import itertools

import numpy as np

from bench.epoch_speed import PRESET, shape_floor_seconds
from mnist_dash.presets import get_preset
from mnist_dash.spec import NUM_CLASSES

STEPS = 16  # batches per call into the graph, as training.STEPS_PER_EXECUTION["tensorflow"]


def timed(epoch, epochs: int) -> float:
    """Median seconds of `epoch()` over `epochs` calls, after one that warms up."""
    epoch()
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        epoch()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def widths(spec) -> list[int]:
    return [784, *(layer.units for layer in spec.layers), NUM_CLASSES]


def tf_products(spec, batch: int, train: int, val: int):
    """An epoch of the products alone, one graph loop: forward, weight and input gradients, then validation."""
    import tensorflow as tf

    sizes = widths(spec)
    kernels = [tf.random.normal((a, b)) for a, b in itertools.pairwise(sizes)]
    inputs = [tf.random.normal((batch, width)) for width in sizes[:-1]]
    deltas = [tf.random.normal((batch, width)) for width in sizes[1:]]

    @tf.function
    def loop(train_batches, val_batches):
        total = tf.constant(0.0)
        for _ in tf.range(train_batches):
            for x, kernel in zip(inputs, kernels, strict=True):
                total += tf.reduce_sum(tf.matmul(x, kernel)[0, :1])
            for x, delta in zip(inputs, deltas, strict=True):
                total += tf.reduce_sum(tf.matmul(x, delta, transpose_a=True)[0, :1])
            for delta, kernel in list(zip(deltas, kernels, strict=True))[1:]:
                total += tf.reduce_sum(tf.matmul(delta, kernel, transpose_b=True)[0, :1])
        for _ in tf.range(val_batches):
            for x, kernel in zip(inputs, kernels, strict=True):
                total += tf.reduce_sum(tf.matmul(x, kernel)[0, :1])
        return total

    return lambda: loop(tf.constant(-(-train // batch)), tf.constant(-(-val // batch))).numpy()


def tf_step(spec, data, seed: int = 0):
    """A hand-written training step in TensorFlow: the notebook's model, dropout, Adam, STEPS batches a call."""
    import tensorflow as tf

    sizes, rng = widths(spec), np.random.default_rng(seed)
    kernels = [
        tf.Variable((rng.uniform(-1, 1, (a, b)) * np.sqrt(6 / (a + b))).astype(np.float32))
        for a, b in itertools.pairwise(sizes)
    ]
    biases = [tf.Variable(tf.zeros((b,))) for b in sizes[1:]]
    variables = [*kernels, *biases]
    moments = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in variables]
    step_count = tf.Variable(0.0)
    rates = [layer.dropout for layer in spec.layers]
    x_train = tf.constant(data.x_train.reshape(len(data.x_train), -1))
    y_train = tf.constant(data.y_train.astype(np.int32))
    x_val = tf.constant(data.x_test.reshape(len(data.x_test), -1))
    y_val = tf.constant(data.y_test.astype(np.int32))
    batch = spec.batch_size
    seeds = tf.random.Generator.from_seed(seed)

    def forward(x, training):
        h = tf.cast(x, tf.float32) / 255.0
        for i, (kernel, bias) in enumerate(zip(kernels, biases, strict=True)):
            h = tf.matmul(h, kernel) + bias
            if i < len(rates):
                h = tf.nn.relu(h)
                if training and rates[i]:
                    h = tf.nn.experimental.stateless_dropout(h, rates[i], seed=seeds.make_seeds(1)[:, 0])
        return h

    @tf.function
    def steps(start):
        loss = tf.constant(0.0)
        for offset in tf.range(STEPS):
            first = (start + offset) * batch
            x, y = x_train[first : first + batch], y_train[first : first + batch]
            with tf.GradientTape() as tape:
                logits = forward(x, True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
            gradients = tape.gradient(loss, variables)
            step_count.assign_add(1.0)
            correction = tf.sqrt(1 - 0.999**step_count) / (1 - 0.9**step_count)
            for variable, gradient, (m, v) in zip(variables, gradients, moments, strict=True):
                m.assign(0.9 * m + 0.1 * gradient)
                v.assign(0.999 * v + 0.001 * tf.square(gradient))
                variable.assign_sub(spec.learning_rate * correction * m / (tf.sqrt(v) + 1e-7))
        return loss

    @tf.function
    def validate():
        correct = tf.constant(0)
        for first in tf.range(0, x_val.shape[0], batch):
            logits = forward(x_val[first : first + batch], False)
            answers = tf.argmax(logits, 1, output_type=tf.int32)
            correct += tf.reduce_sum(tf.cast(answers == y_val[first : first + batch], tf.int32))
        return correct

    batches = len(data.x_train) // batch

    def epoch():
        for start in range(0, batches - STEPS + 1, STEPS):
            steps(tf.constant(start)).numpy()
        validate().numpy()

    return epoch


def keras_fit(spec, data, callbacks_for) -> callable:
    """One epoch of `model.fit` on the engine's model, with the callbacks `callbacks_for(model)` returns."""
    from mnist_dash.model import build_model

    model = build_model(spec, STEPS, fused=True)
    callbacks = callbacks_for(model)
    count = [0]

    def epoch():
        model.fit(
            data.x_train,
            data.y_train,
            batch_size=spec.batch_size,
            initial_epoch=count[0],
            epochs=count[0] + 1,
            validation_data=(data.x_test, data.y_test),
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
        count[0] += 1

    return epoch


def live_callbacks(_model):
    from mnist_dash.jobs import training

    live = training.LiveHistory(stop_event=threading.Event())
    return [training.TerminateOnNaN(), live]


def engine_slices(spec, data):
    """The worker's way: JobTraining.run(1) per call, state restored into a pooled model and read back."""
    from mnist_dash.jobs import training
    from mnist_dash.jobs.contract import TrainRequest
    from mnist_dash.jobs.train_run import JobTraining

    big = spec.replace(epochs=50)
    live = training.LiveHistory(stop_event=threading.Event())
    job = JobTraining(TrainRequest(job_id="profile", spec=big, data=data), live)
    return lambda: job.run(1)


def adam_updates(spec, data, fused: bool):
    """An epoch's Adam updates alone on the engine's model: Keras's own (`fused` False) or FusedAdam."""
    import tensorflow as tf

    from mnist_dash.model import build_model

    model = build_model(spec, STEPS, fused=fused)
    variables = model.trainable_variables
    model.optimizer.build(variables)
    rng = np.random.default_rng(0)
    gradients = [tf.constant(rng.standard_normal(v.shape).astype(np.float32) * 1e-3) for v in variables]

    @tf.function
    def steps():
        for _ in range(STEPS):
            model.optimizer.apply(gradients, variables)

    calls = len(data.x_train) // spec.batch_size // STEPS

    def epoch():
        for _ in range(calls):
            steps()
        float(model.optimizer.iterations)

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per step (after one that warms up)")
    args = parser.parse_args()
    from mnist_dash.data import load_mnist

    spec, data = get_preset(PRESET), load_mnist()
    batch, train, val = spec.batch_size, len(data.x_train), len(data.x_test)
    steps = {
        "numpy_products": lambda: shape_floor_seconds(spec, train, val),
        "tf_products": tf_products(spec, batch, train, val),
        "tf_step": tf_step(spec, data),
        "keras_fit": keras_fit(spec, data, lambda model: []),
        "keras_fit_live": keras_fit(spec, data, live_callbacks),
        "engine_slices": engine_slices(spec, data),
        "adam_keras": adam_updates(spec, data, fused=False),
        "adam_fused": adam_updates(spec, data, fused=True),
    }
    seconds = {}
    for name, epoch in steps.items():
        seconds[name] = timed(epoch, args.epochs)
        floor = seconds["numpy_products"]
        print(f"{name:16} {seconds[name]:6.2f} s per epoch, {seconds[name] / floor:5.2f}x the products", flush=True)
    floor = seconds["numpy_products"]
    print(
        json.dumps(
            {"seconds": {k: round(v, 3) for k, v in seconds.items()}}
            | {
                "ratio_to_products": {k: round(v / floor, 3) for k, v in seconds.items()},
                "epochs": args.epochs,
            }
        )
    )


if __name__ == "__main__":
    main()
