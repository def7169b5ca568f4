"""How long does Draw's "why this answer" take a stroke, on TensorFlow and on JAX?

Per stroke the page runs `to_mnist` on the canvas, then `Explainer.explain` (the answer,
every hidden layer's activity and the saliency maps of all ten digits, in one call into
the backend), then cuts out the images of the 8 most active first-layer units: that is
timed as "explain". Building the page's three Plotly figures from it is timed apart
("figures"): it is the same on every backend; "stroke" is the two together. Each preset's model (fresh weights: they do
not change the time), 300 MNIST test digits drawn large on a 280 x 280 canvas, after a
warm-up that traces the backend function. Keras picks its backend once per process, so
each backend runs in a child interpreter of its own.

Last stdout line: JSON {"p95_ms": {"tensorflow": ..., "jax": ...}, ...} for the largest
preset (notebook-5-hidden-bn), the "explain" part. Target: p95 under 100 ms on each.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.explain_latency [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax")
HEADLINE = "notebook-5-hidden-bn"  # the largest preset: the slowest stroke
PARTS = ("explain", "figures", "stroke")


def measure(calls: int) -> dict:
    """This interpreter's backend: p50/p95 in ms per preset, for explain and for the figures."""
    import keras

    from bench.predict_latency import canvas_of, percentiles
    from mnist_dash.canvas import to_mnist
    from mnist_dash.data import load_mnist
    from mnist_dash.model import build_model
    from mnist_dash.plots.explain import layer_activity, saliency_overlay, unit_tiles
    from mnist_dash.predict import Explainer
    from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
    from mnist_dash.units import unit_images

    canvases = [canvas_of(digit) for digit in load_mnist().x_test[:calls]]
    results = {}
    for name in NOTEBOOK_PRESETS:
        explainer = Explainer(build_model(PRESETS[name]))

        def stroke(canvas, explainer=explainer):
            image = to_mnist(canvas)
            explanation = explainer.explain(image)
            active = explanation.most_active(8)
            return image, explanation, active, unit_images(explanation.first_kernel, [unit for unit, _ in active])

        for canvas in canvases[:20]:  # warm-up: tracing the backend function, first calls
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
    return {"backend": keras.backend.backend(), "results": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.calls)))
        return
    summary = {"p95_ms": {}, "p50_ms": {}, "stroke_p95_ms": {}}
    for backend in BACKENDS:
        environment = {**os.environ, "KERAS_BACKEND": backend}
        command = [sys.executable, "-m", "bench.explain_latency", "--child", "--calls", str(args.calls)]
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        if done.returncode != 0:
            print(f"{backend}: failed\n{done.stderr[-2000:]}")
            summary["p95_ms"][backend] = None
            continue
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        assert measured["backend"] == backend, measured["backend"]
        for name, result in measured["results"].items():
            shown = " · ".join(f"{part} p50 {result[part][0]:6.2f}, p95 {result[part][1]:6.2f}" for part in PARTS)
            print(f"{backend:10} {name:22} {shown} ms ({args.calls} strokes)")
        headline = measured["results"][HEADLINE]
        summary["p95_ms"][backend] = round(headline["explain"][1], 2)
        summary["p50_ms"][backend] = round(headline["explain"][0], 2)
        summary["stroke_p95_ms"][backend] = round(headline["stroke"][1], 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
