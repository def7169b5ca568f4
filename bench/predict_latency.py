"""How fast is a prediction on the Draw page? Preprocessing and the model call, timed separately.

Preprocessing: `to_mnist` on 280x280 RGBA canvases holding enlarged test digits.
Prediction: the notebook-2-hidden network on one 28x28 image, as the page computes it:
NumPy from the weights (`predict.Network`; the server never loads Keras). A few hundred
calls each after a warm-up; prints p50/p95 in ms, the last line JSON.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.predict_latency [--calls 300]
"""

import argparse
import json
import time

import numpy as np
from PIL import Image

from mnist_dash.canvas import to_mnist
from mnist_dash.data import load_mnist
from mnist_dash.predict import Network
from mnist_dash.presets import PRESETS


def canvas_of(digit: np.ndarray) -> np.ndarray:
    big = np.asarray(Image.fromarray(digit).resize((224, 224), Image.Resampling.BILINEAR))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[28:252, 28:252, :3] = 255
    rgba[28:252, 28:252, 3] = big
    return rgba


def random_weights(spec) -> list[np.ndarray]:
    """Weights of the right shapes in `model.get_weights()`'s order (their values do not change the time)."""
    from mnist_dash.plan import layer_plan

    rng, width, weights = np.random.default_rng(0), 784, []
    for planned in layer_plan(spec):
        if planned.kind == "Dense":
            units = planned.config["units"]
            weights += [rng.normal(0, 0.05, (width, units)).astype(np.float32), np.zeros(units, np.float32)]
            width = units
        elif planned.kind == "BatchNormalization":
            weights += [np.ones(width, np.float32), np.zeros(width, np.float32)] * 2
    return weights


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50) * 1000), float(np.percentile(samples, 95) * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    data = load_mnist()
    canvases = [canvas_of(digit) for digit in data.x_test[: args.calls]]
    network = Network(PRESETS["notebook-2-hidden"], random_weights(PRESETS["notebook-2-hidden"]))
    for canvas in canvases[:20]:  # warm-up
        network.probabilities(to_mnist(canvas)[None])
    preprocess, predict = [], []
    for canvas in canvases:
        started = time.perf_counter()
        image = to_mnist(canvas)
        middle = time.perf_counter()
        network.probabilities(image[None])
        preprocess.append(middle - started)
        predict.append(time.perf_counter() - middle)
    (pre50, pre95), (pred50, pred95) = percentiles(preprocess), percentiles(predict)
    print(f"preprocess (to_mnist, 280x280 RGBA): p50 {pre50:.2f} ms, p95 {pre95:.2f} ms over {len(preprocess)} calls")
    print(f"predict (NumPy, from the weights):   p50 {pred50:.2f} ms, p95 {pred95:.2f} ms over {len(predict)} calls")
    result = {
        "preprocess_p50_ms": round(pre50, 3),
        "preprocess_p95_ms": round(pre95, 3),
        "predict_p50_ms": round(pred50, 3),
        "predict_p95_ms": round(pred95, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
