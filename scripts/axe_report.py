"""Count axe-core's WCAG 2.0/2.1 A and AA findings on every page, by impact: the figures behind "before and after".

    python -m scripts.axe_report [--out report.json]

Starts the app over a fresh store holding notebook-2-hidden trained for one epoch on the
real MNIST (`MNIST_DASH_DATA`), then visits every page as a student and as the signed-in
teacher at 1366 and 390 px in headless Chromium (Train showing the trained run, Draw a
drawing) and runs axe-core (inside the axe-playwright-python package) on each. Prints one
line per page and view with its violations, and last a JSON line: per impact, how many
rules were broken (counted once per page and view) and on how many elements. Where
tests/browser/test_accessibility.py only fails on serious or critical findings outside
the baseline, this counts everything axe reports, the moderate and minor ones too. It
runs on any commit of the app: copy it into that checkout's scripts/ and run it there. The
pages, widths, rules and state are the accessibility test's, which imports them from here.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from bench.streamlit_server import draw_a_seven, launch_chromium, streamlit_server

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
KEY = "a key for the class, long enough"
STUDENT_PAGES = ["", "design", "train", "weights", "compare", "evaluate", "draw", "board"]
TEACHER_ONLY = ["teacher", "projector", "wall"]
TRAINED = "layers=512:relu:0.4:none,128:relu:0:none&epochs=1&name=notebook-2-hidden"
WIDTHS = (1366, 390)


def trained_store(home: Path) -> None:
    from mnist_dash.data import load_mnist
    from mnist_dash.jobs import JobQueue, TrainingJob
    from mnist_dash.presets import PRESETS
    from mnist_dash.runs import RunStore

    spec = PRESETS["notebook-2-hidden"].replace(epochs=1)
    TrainingJob(spec, load_mnist(), store=RunStore(home), queue=JobQueue(1)).start().wait()


def settle(page) -> None:
    page.locator("[data-testid=stMain] [data-testid=stElementContainer]").first.wait_for(timeout=90_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(800)


def visit(page, url: str, name: str) -> bool:
    """Open the page in a student's working state; False where this commit has no such page."""
    response = page.goto(f"{url}/{name}?{TRAINED}" if name == "train" else f"{url}/{name}")
    settle(page)
    if name and page.get_by_text("Page not found").count():
        return False
    if name == "train":
        button = page.get_by_role("button", name="Use the finished run")
        if button.count():
            button.first.click()
            settle(page)
    if name == "draw":
        draw_a_seven(page)
        page.wait_for_timeout(3000)
        settle(page)
    return response is None or response.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mnist-dash-axe-"))
    trained_store(home)
    env = {
        "MNIST_DASH_HOME": str(home),
        "MNIST_DASH_DB_URL": "",
        "MNIST_DASH_LESSON": "none",
        "MNIST_DASH_TEACHER_KEY": KEY,
        "MNIST_DASH_DATA": os.environ.get("MNIST_DASH_DATA", ""),
    }
    rules, nodes, views = Counter(), Counter(), 0
    with streamlit_server(env) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        for role in ("student", "teacher"):
            page = browser.new_page()
            pages = STUDENT_PAGES
            if role == "teacher":
                page.goto(f"{url}/teacher")
                settle(page)
                page.get_by_label("Teacher key").fill(KEY)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
                pages = [*STUDENT_PAGES, *TEACHER_ONLY]
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for name in pages:
                    if not visit(page, url, name):
                        print(f"{role} /{name} at {width} px: no such page here", flush=True)
                        continue
                    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
                    found = Axe().run(page, options=options).response["violations"]
                    views += 1
                    for violation in found:
                        rules[violation["impact"]] += 1
                        nodes[violation["impact"]] += len(violation["nodes"])
                    said = ", ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in found) or "none"
                    print(f"{role} /{name} at {width} px: {said}", flush=True)
            page.close()
        browser.close()
    summary = {"views": views, "rules_by_impact": dict(rules), "elements_by_impact": dict(nodes)}
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
