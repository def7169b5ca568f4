"""How long does Draw's "why this answer" take a stroke, now that the server computes it in NumPy?

Per stroke the page runs `to_mnist` on the canvas, then `Network.explain` (the answer,
every hidden layer's activity and the saliency maps of all ten digits, from the run's
weights, no Keras), then cuts out the images of the 8 most active first-layer units: that
is timed as "explain". Building the page's three Plotly figures from it is timed apart
("figures"); "stroke" is the two together. Each preset's network (weights of the right
shapes: their values do not change the time), 300 MNIST test digits drawn large on a
280 x 280 canvas, after a warm-up.

Last stdout line: JSON {"p95_ms": {"numpy": ...}, ...} for the largest preset
(notebook-5-hidden-bn), the "explain" part. Target: p95 under 100 ms.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.explain_latency [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import time

from bench.predict_latency import canvas_of, percentiles, random_weights
from mnist_dash.canvas import to_mnist
from mnist_dash.data import load_mnist
from mnist_dash.plots.explain import layer_activity, saliency_overlay, unit_tiles
from mnist_dash.predict import Network
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.units import unit_images

HEADLINE = "notebook-5-hidden-bn"  # the largest preset: the slowest stroke
PARTS = ("explain", "figures", "stroke")


def measure(calls: int) -> dict:
    """p50/p95 in ms per preset, for explain, the figures and the whole stroke."""
    canvases = [canvas_of(digit) for digit in load_mnist().x_test[:calls]]
    results = {}
    for name in NOTEBOOK_PRESETS:
        network = Network(PRESETS[name], random_weights(PRESETS[name]))

        def stroke(canvas, network=network):
            image = to_mnist(canvas)
            explanation = network.explain(image)
            active = explanation.most_active(8)
            return image, explanation, active, unit_images(explanation.first_kernel, [unit for unit, _ in active])

        for canvas in canvases[:20]:  # warm-up
            stroke(canvas)
        explain, figures, total = [], [], []
        for canvas in canvases:
            started = time.perf_counter()
            image, explanation, active, images = stroke(canvas)
            middle = time.perf_counter()
            saliency_overlay(image, explanation.saliency[explanation.answer], explanation.answer)
            unit_tiles(images, [f"unit {unit}: {value:.2f}" for unit, value in active])
            layer_activity(explanation.layers)
            ended = time.perf_counter()
            explain.append(middle - started)
            figures.append(ended - middle)
            total.append(ended - started)
        results[name] = {key: percentiles(values) for key, values in zip(PARTS, (explain, figures, total), strict=True)}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    results = measure(args.calls)
    for name, result in results.items():
        shown = " · ".join(f"{part} p50 {result[part][0]:6.2f}, p95 {result[part][1]:6.2f}" for part in PARTS)
        print(f"numpy {name:22} {shown} ms ({args.calls} strokes)")
    headline = results[HEADLINE]
    print(
        json.dumps(
            {
                "p95_ms": {"numpy": round(headline["explain"][1], 2)},
                "p50_ms": {"numpy": round(headline["explain"][0], 2)},
                "stroke_p95_ms": {"numpy": round(headline["stroke"][1], 2)},
            }
        )
    )


if __name__ == "__main__":
    main()
