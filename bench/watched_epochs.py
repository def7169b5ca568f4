"""Does watching slow training down? Epoch times with the Train page open in Chromium vs nobody watching.

Alternating in one run, `--rounds` times: (a) notebook-2-hidden trained by a
TrainingJob in a worker process with nobody watching (as the app does it, minus the
page); (b) the same design started from the Train page of `streamlit run` in headless
Chromium, the page redrawing its live charts every second until the run finishes. The
epoch seconds come from the runs themselves. Before the worker process, training ran
on a thread of the server and a watched epoch took 2-10 times longer.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.watched_epochs [--rounds 2 --epochs 3]
"""

import argparse
import json
import re
import statistics
import tempfile

from playwright.sync_api import sync_playwright

from bench.streamlit_server import launch_chromium, streamlit_server
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.jobs.runners.process import ProcessRunner
from mnist_dash.presets import get_preset
from mnist_dash.runs import RunStore
from mnist_dash.share import to_query


def unwatched(spec) -> list[float]:
    snap = TrainingJob(spec, load_mnist(), queue=JobQueue(1), runner=ProcessRunner()).start().wait()
    return [record["seconds"] for record in snap.history]


def watched(page, url: str, spec, home: str) -> list[float]:
    query = "&".join(f"{key}={value}" for key, value in to_query(spec).items())
    page.goto(f"{url}/train?{query}")
    page.locator(".st-key-train_start button:enabled").click()
    page.get_by_text(re.compile(rf"^Finished after {spec.epochs} of {spec.epochs} epochs")).wait_for(timeout=600_000)
    newest = RunStore(home).list().runs[0]
    return list(newest.epoch_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mnist-dash-watched-")
    times = {"unwatched": [], "watched": []}
    with streamlit_server({"MNIST_DASH_HOME": home}) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        for round_number in range(args.rounds):
            spec = get_preset("notebook-2-hidden").replace(
                epochs=args.epochs, seed=round_number, name=f"watched-{round_number}"
            )
            for kind in ("unwatched", "watched"):
                seconds = unwatched(spec) if kind == "unwatched" else watched(page, url, spec, home)
                times[kind] += seconds[1:]  # the first epoch includes tracing: medians of the rest
                print(f"round {round_number + 1} {kind:9} " + " ".join(f"{s:.2f}" for s in seconds) + " s", flush=True)
        browser.close()
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    ratio = medians["watched"] / medians["unwatched"]
    print(
        f"median epoch: {medians['unwatched']:.2f} s nobody watching, {medians['watched']:.2f} s watched; "
        f"ratio {ratio:.2f}"
    )
    print(
        json.dumps(
            {
                "unwatched_s": round(medians["unwatched"], 2),
                "watched_s": round(medians["watched"], 2),
                "watched_ratio": round(ratio, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
