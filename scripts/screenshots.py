"""Screenshots of each page in headless Chromium against `streamlit run`, for the README.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m scripts.screenshots [--out docs/screenshots]
"""

import argparse
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.streamlit_server import launch_chromium, streamlit_server

DESIGN = "layers=500:relu:0.4:none,300:relu:0.4:after,100:relu:0:after&name=notebook-3-hidden-bn&epochs=3"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as home,
        streamlit_server({"MNIST_DASH_HOME": home}) as url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1366, "height": 1150})
        page.goto(url)
        page.get_by_text("Images per digit").wait_for()
        time.sleep(1.5)
        page.screenshot(path=out / "home.png")
        page.goto(f"{url}/design?{DESIGN}")
        page.get_by_text("Layers, as Keras builds them").wait_for()
        time.sleep(1.5)
        page.screenshot(path=out / "design.png")
        page.locator(".st-key-design_train button").click()
        page.get_by_text("Epoch 2 of 3 ·").wait_for(timeout=120_000)
        time.sleep(2.5)
        page.screenshot(path=out / "train-running.png")
        page.get_by_text("Finished after").wait_for(timeout=120_000)
        time.sleep(1.5)
        page.screenshot(path=out / "train-finished.png", full_page=True)
        browser.close()
    for path in sorted(out.glob("*.png")):
        print(f"{path} {path.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main()
