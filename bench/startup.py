"""How fast does the app come up? Several fresh launches of `streamlit run`, each measured.

For each launch: seconds from starting `streamlit run` to a healthy server
(/_stcore/health), and to the Home page fully drawn in headless Chromium (its
sample digits and class-balance chart on screen); then the server's resident
memory after that first page. Medians over the launches; the last line is JSON.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.startup [--launches 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

from playwright.sync_api import sync_playwright

from bench.streamlit_server import ROOT, free_port, launch_chromium, rss_mb, run_command, wait_healthy


def one_launch(browser, home: str) -> dict:
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            run_command(port),
            cwd=ROOT,
            env=os.environ | {"MNIST_DASH_HOME": home},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, process, 60, log)
            healthy = time.perf_counter() - started
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.goto(url)
            page.get_by_text("Images per digit").wait_for(timeout=60_000)
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=stProgress]').length >= 10", timeout=60_000
            )
            page.wait_for_function("() => document.querySelectorAll('[data-testid=stImage] img').length >= 20")
            first_page = time.perf_counter() - started
            page.close()
            return {"health_s": healthy, "first_page_s": first_page, "rss_mb": rss_mb(process.pid)}
        finally:
            process.terminate()
            process.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=3)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for number in range(args.launches):
            result = one_launch(browser, home)
            results.append(result)
            print(
                f"launch {number + 1}: healthy after {result['health_s']:.2f} s, Home drawn after "
                f"{result['first_page_s']:.2f} s, server RSS {result['rss_mb']:.0f} MB",
                flush=True,
            )
        browser.close()
    summary = {
        key: round(statistics.median(r[key] for r in results), 3) for key in ("health_s", "first_page_s", "rss_mb")
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
