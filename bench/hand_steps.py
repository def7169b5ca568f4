"""How close can a step written by hand come to the shape floor? notebook-2-hidden's step, on each backend.

The issue-21 targets (bench/epoch_speed: the engine on TensorFlow within 1.5x of NumPy's shape floor,
the fastest configuration within 1.25x) ask what a training step could cost at best. This bench writes
the step by hand, without Keras, on random data of MNIST's shapes (60,000 images, batches of 128; the
numbers are seconds for an epoch's training batches, validation left out), in one process per backend:

- numpy: the shape floor's training products alone (bench.epoch_speed.shape_floor_seconds, its
  validation part left out);
- tensorflow: the same products as graph ops (16 batches a call, the inputs passed in, so nothing is
  folded away); the forward pass alone (dense, ReLU, dropout, softmax cross-entropy; no gradient); the
  whole step with Adam's fused kernel (`ResourceApplyAdam`);
- jax: the same products under `jax.jit`; the whole step under `jax.jit` with Adam written out, which
  XLA fuses into the step.

Each figure is the median of 3 epochs after one that traces. The last stdout line is JSON.

    python -m bench.hand_steps
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

WIDTHS = [784, 512, 128, 10]  # notebook-2-hidden
BATCH, IMAGES, STEPS = 128, 60_000, 16
CALLS = IMAGES // (BATCH * STEPS)  # whole calls of STEPS batches; scaled to the epoch's 469 batches
SCALE = (IMAGES / BATCH) / (CALLS * STEPS)


def median_epoch(epoch) -> float:
    epoch()
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        epoch()
        seconds.append((time.perf_counter() - started) * SCALE)
    return statistics.median(seconds)


def numpy_side() -> dict:
    from bench.epoch_speed import shape_floor_seconds
    from mnist_dash.presets import get_preset

    spec = get_preset("notebook-2-hidden")
    return {"products": statistics.median(shape_floor_seconds(spec, val_images=0) for _ in range(3))}


def tensorflow_side() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    rng = np.random.default_rng(0)
    kernels = [tf.Variable(rng.standard_normal((a, b), np.float32) * 0.05) for a, b in itertools.pairwise(WIDTHS)]
    biases = [tf.Variable(np.zeros(b, np.float32)) for b in WIDTHS[1:]]
    variables = kernels + biases
    slots = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in variables]
    inputs = [tf.constant(rng.standard_normal((BATCH, w), np.float32)) for w in WIDTHS[:-1]]
    deltas = [tf.constant(rng.standard_normal((BATCH, w), np.float32)) for w in WIDTHS[1:]]
    x = tf.constant(rng.random((CALLS, STEPS, BATCH, WIDTHS[0]), np.float32))
    y = tf.constant(rng.integers(0, 10, (CALLS, STEPS, BATCH)).astype(np.int32))

    @tf.function
    def products(inputs, deltas):
        total = tf.constant(0.0)
        for _ in range(STEPS):
            for a, k in zip(inputs, kernels, strict=True):
                total += tf.matmul(a, k)[0, 0]
            for a, d in zip(inputs, deltas, strict=True):
                total += tf.matmul(a, d, transpose_a=True)[0, 0]
            for d, k in list(zip(deltas, kernels, strict=True))[1:]:
                total += tf.matmul(d, k, transpose_b=True)[0, 0]
        return total

    def loss_of(xb, yb, seed):
        h = tf.nn.relu(xb @ kernels[0] + biases[0])
        h = tf.nn.experimental.stateless_dropout(h, 0.4, seed=seed)
        h = tf.nn.relu(h @ kernels[1] + biases[1])
        logits = h @ kernels[2] + biases[2]
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits))

    def calls(train: bool):
        @tf.function
        def call(xs, ys, index):
            total = tf.constant(0.0)
            for i in range(STEPS):
                seed = tf.stack([index, i])
                if not train:
                    total += loss_of(xs[i], ys[i], seed)
                    continue
                with tf.GradientTape() as tape:
                    loss = loss_of(xs[i], ys[i], seed)
                for v, g, (m, s) in zip(variables, tape.gradient(loss, variables), slots, strict=True):
                    tf.raw_ops.ResourceApplyAdam(
                        var=v.handle, m=m.handle, v=s.handle, beta1_power=0.5, beta2_power=0.9, lr=0.001,
                        beta1=0.9, beta2=0.999, epsilon=1e-7, grad=g,
                    )  # fmt: skip
                total += loss
            return total

        def epoch():
            for index in range(CALLS):
                float(call(x[index], y[index], tf.constant(index)))

        return epoch

    def products_epoch():
        for _ in range(CALLS):
            float(products(inputs, deltas))

    return {
        "products": median_epoch(products_epoch),
        "forward_only": median_epoch(calls(train=False)),
        "step_fused_adam": median_epoch(calls(train=True)),
    }


def jax_side() -> dict:
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    shapes = [(a, b) for a, b in itertools.pairwise(WIDTHS)] + [(b,) for b in WIDTHS[1:]]
    params = [jnp.asarray(rng.standard_normal(s, np.float32) * 0.05) for s in shapes]
    inputs = [jnp.asarray(rng.standard_normal((BATCH, w), np.float32)) for w in WIDTHS[:-1]]
    deltas = [jnp.asarray(rng.standard_normal((BATCH, w), np.float32)) for w in WIDTHS[1:]]
    x = jnp.asarray(rng.random((CALLS * STEPS, BATCH, WIDTHS[0]), np.float32))
    y = jnp.asarray(rng.integers(0, 10, (CALLS * STEPS, BATCH)).astype(np.int32))

    @jax.jit
    def products(kernels, inputs, deltas):
        out = [a @ k for a, k in zip(inputs, kernels, strict=True)]
        out += [a.T @ d for a, d in zip(inputs, deltas, strict=True)]
        out += [d @ k.T for d, k in list(zip(deltas, kernels, strict=True))[1:]]
        return sum(o[0, 0] for o in out)

    def loss_of(p, xb, yb, key):
        h = jax.nn.relu(xb @ p[0] + p[3])
        h = jnp.where(jax.random.bernoulli(key, 0.6, h.shape), h / 0.6, 0)
        h = jax.nn.relu(h @ p[1] + p[4])
        logits = h @ p[2] + p[5]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], 1))

    def step(state, xb, yb, key):
        p, m, v, t = state
        loss, g = jax.value_and_grad(loss_of)(p, xb, yb, key)
        t = t + 1
        m = [a + (b - a) * 0.1 for a, b in zip(m, g, strict=True)]
        v = [a + (b * b - a) * 0.001 for a, b in zip(v, g, strict=True)]
        alpha = 0.001 * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        p = [a - alpha * b / (jnp.sqrt(c) + 1e-7) for a, b, c in zip(p, m, v, strict=True)]
        return (p, m, v, t), loss

    step = jax.jit(step, donate_argnums=0)
    state = [(params, [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params], 0.0)]
    key = [jax.random.PRNGKey(0)]

    def products_epoch():
        for _ in range(CALLS * STEPS):
            products(params[:3], inputs, deltas).block_until_ready()

    def step_epoch():
        for i in range(CALLS * STEPS):
            key[0], sub = jax.random.split(key[0])
            state[0], loss = step(state[0], x[i], y[i], sub)
            if i % STEPS == STEPS - 1:
                float(loss)  # the engine reads the loss once a call

    return {"products": median_epoch(products_epoch), "step_xla_fused": median_epoch(step_epoch)}


SIDES = {"numpy": numpy_side, "tensorflow": tensorflow_side, "jax": jax_side}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        print(json.dumps(SIDES[sys.argv[2]]()))
        return
    results = {}
    for side in SIDES:
        env = {**os.environ, "KERAS_BACKEND": "jax" if side == "jax" else "tensorflow"}
        done = subprocess.run(
            [sys.executable, "-m", "bench.hand_steps", "--side", side], env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"{side} failed:\n{done.stderr[-3000:]}")
        results[side] = json.loads(done.stdout.strip().splitlines()[-1])
        for name, seconds in results[side].items():
            print(f"{side:10} {name:16} {seconds:6.2f} s an epoch's training batches", flush=True)
    floor = results["numpy"]["products"]
    ratios = {f"{side}_{name}": round(s / floor, 3) for side, r in results.items() for name, s in r.items()}
    print(json.dumps({"seconds": results, "ratio_to_numpy_products": ratios}))


if __name__ == "__main__":
    main()
