"""How quickly does training respond? The engine in-process, then the Train page in headless Chromium.

Engine (in this process, TensorFlow already loaded): for each round, start a
TrainingJob and time until its first live point exists; a second into training
call `stop()` and time until `fit` has returned (Keras's on_train_end).

Page (against `streamlit run` on 127.0.0.1): press Start and time until the new
job's first point is drawn on the live chart (read from the Plotly data in the
page); let it train a second into epoch 2, press Stop and time until the page
shows the job stopped (which includes saving the run). The first round in a fresh
server is cold (TensorFlow loads, unless the Design page's warm-up already did it).

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.train_latency [--rounds 3]
"""

import argparse
import json
import statistics
import tempfile
import time

import keras
from playwright.sync_api import sync_playwright

from bench.streamlit_server import launch_chromium, streamlit_server
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.presets import get_preset

DESIGN = "layers=512:relu:0.4:none,128:relu:0:none&epochs=5&name=latency"
CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ({
    revision: plot.layout && plot.layout.uirevision,
    points: (plot.data || []).map(trace => (trace.x || []).length)}))"""


class TrainEnd(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        self.at = time.perf_counter()


def wait_for(predicate, timeout=120.0, interval=0.01):
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if value := predicate():
            return value
        time.sleep(interval)
    raise TimeoutError("not reached in time")


def engine_round(data) -> dict:
    end = TrainEnd()
    spec = get_preset("notebook-2-hidden").replace(epochs=5)
    started = time.perf_counter()
    job = TrainingJob(spec, data, queue=JobQueue(1), runner=ThreadRunner([end])).start()
    wait_for(lambda: job.snapshot().batch_history)
    first_point = time.perf_counter() - started
    time.sleep(1.0)
    stop_pressed = time.perf_counter()
    job.stop()
    job.wait()
    return {"first_point_s": first_point, "stop_effect_s": end.at - stop_pressed}


def page_round(page) -> dict:
    start = page.locator(".st-key-train_start button")
    wait_for(start.is_enabled)
    before = {chart["revision"] for chart in page.evaluate(CHARTS)}

    def new_point():
        charts = page.evaluate(CHARTS)
        return charts and charts[0]["revision"] not in before and sum(charts[0]["points"]) > 0

    pressed = time.perf_counter()
    start.click()
    wait_for(new_point)
    first_point = time.perf_counter() - pressed
    wait_for(lambda: (charts := page.evaluate(CHARTS)) and charts[0]["points"][1] >= 1)  # epoch 1 done
    time.sleep(1.0)
    stop_pressed = time.perf_counter()
    page.locator(".st-key-train_stop button").click()
    wait_for(lambda: page.get_by_text("Stopped after").count() > 0)
    return {"first_point_s": first_point, "stop_visible_s": time.perf_counter() - stop_pressed}


def report(kind: str, results: list[dict]) -> None:
    for number, result in enumerate(results, start=1):
        print(f"{kind} round {number}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = load_mnist()
    engine = [engine_round(data) for _ in range(args.rounds)]
    report("engine", engine)
    with (
        tempfile.TemporaryDirectory() as home,
        streamlit_server({"MNIST_DASH_HOME": home}) as url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        page.goto(f"{url}/train?{DESIGN}")
        pages = [page_round(page) for _ in range(args.rounds)]
        browser.close()
    report("page", pages)
    summary = {
        "engine_first_point_s": round(statistics.median(r["first_point_s"] for r in engine), 3),
        "engine_stop_effect_s": round(statistics.median(r["stop_effect_s"] for r in engine), 3),
        "page_first_point_cold_s": round(pages[0]["first_point_s"], 3),
        "page_first_point_warm_s": round(statistics.median(r["first_point_s"] for r in pages[1:] or pages), 3),
        "page_stop_visible_s": round(statistics.median(r["stop_visible_s"] for r in pages), 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
