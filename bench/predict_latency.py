"""How fast is a prediction on the Draw page? Preprocessing and the model call, timed separately.

Preprocessing: `to_mnist` on 280x280 RGBA canvases holding enlarged test digits.
Prediction: the notebook-2-hidden model called directly on one 28x28 image (as the
page does; `model.predict` has a large per-call overhead). A few hundred calls each
after a warm-up; prints p50/p95 in ms, the last line JSON.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.predict_latency [--calls 300]
"""

import argparse
import json
import time

import numpy as np
from PIL import Image

from mnist_dash.canvas import to_mnist
from mnist_dash.data import load_mnist
from mnist_dash.model import build_model
from mnist_dash.presets import PRESETS


def canvas_of(digit: np.ndarray) -> np.ndarray:
    big = np.asarray(Image.fromarray(digit).resize((224, 224), Image.Resampling.BILINEAR))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[28:252, 28:252, :3] = 255
    rgba[28:252, 28:252, 3] = big
    return rgba


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50) * 1000), float(np.percentile(samples, 95) * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    data = load_mnist()
    canvases = [canvas_of(digit) for digit in data.x_test[: args.calls]]
    model = build_model(PRESETS["notebook-2-hidden"])  # the weights do not change the time
    for canvas in canvases[:20]:  # warm-up: imports, tracing
        model(to_mnist(canvas)[None].astype(np.float32), training=False)
    preprocess, predict = [], []
    for canvas in canvases:
        started = time.perf_counter()
        image = to_mnist(canvas)
        middle = time.perf_counter()
        np.asarray(model(image[None].astype(np.float32), training=False))
        preprocess.append(middle - started)
        predict.append(time.perf_counter() - middle)
    (pre50, pre95), (pred50, pred95) = percentiles(preprocess), percentiles(predict)
    print(f"preprocess (to_mnist, 280x280 RGBA): p50 {pre50:.2f} ms, p95 {pre95:.2f} ms over {len(preprocess)} calls")
    print(f"predict (model called directly):     p50 {pred50:.2f} ms, p95 {pred95:.2f} ms over {len(predict)} calls")
    result = {
        "preprocess_p50_ms": round(pre50, 3),
        "preprocess_p95_ms": round(pre95, 3),
        "predict_p50_ms": round(pred50, 3),
        "predict_p95_ms": round(pred95, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
