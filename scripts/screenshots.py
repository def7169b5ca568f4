"""Screenshots of each page in headless Chromium against `streamlit run`, for the README.

First trains the notebook's three presets for a few epochs into a temporary store,
so Weights, Compare and Evaluate show real runs.

Then the teacher's view of a lesson (this lesson on the Teacher page, what the class tried on the
projector, the digits wall) over a store of eight students: the shipped notebook runs as three of
them, five small designs trained for real, and two dozen MNIST test digits as the class's own.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m scripts.screenshots [--out docs/screenshots] [--epochs 3]
       [--lesson-only]
"""

import argparse
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.streamlit_server import draw_a_seven, launch_chromium, streamlit_server
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.owners import named
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import RunStore

DESIGN = "layers=500:relu:0.4:none,300:relu:0.4:after,100:relu:0:after&name=notebook-3-hidden-bn&epochs=3"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lesson-only", action="store_true", help="only the teacher's view of a lesson and the wall")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        lesson_store(home)
        env = {"MNIST_DASH_HOME": home, "MNIST_DASH_TEACHER_KEY": TEACHER_KEY}
        with streamlit_server(env) as url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            shoot_lesson(url, out, browser)
            browser.close()
    if args.lesson_only:
        return
    with tempfile.TemporaryDirectory() as home:
        train_presets(home, args.epochs)
        env = {"MNIST_DASH_HOME": home, "MNIST_DASH_TEACHER_KEY": TEACHER_KEY}
        with streamlit_server(env) as url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            shoot(url, out, browser)
            shoot_teacher(url, out, browser)
            browser.close()
    for path in sorted(out.glob("*.png")):
        print(f"{path} {path.stat().st_size // 1024} kB")


def train_presets(home: str, epochs: int) -> None:
    data, store = load_mnist(), RunStore(home)
    for name, student in zip(NOTEBOOK_PRESETS, ("Ada", "Bo", "Cy"), strict=True):  # three students, for the board
        spec = PRESETS[name].replace(epochs=epochs)
        snap = TrainingJob(spec, data, store=store, queue=JobQueue(1), owner=named(student)).start().wait()
        print(f"trained {name}: {snap.status}, test accuracy {snap.test_accuracy:.4f}", flush=True)


SCREENS = {  # a laptop, a classroom projector, a phone held upright (touch): the sizes the browser suite checks
    "": {"viewport": {"width": 1366, "height": 1150}},
    "-1024": {"viewport": {"width": 1024, "height": 768}},
    "-390": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def show_home(page, url):
    page.goto(url)
    page.get_by_text("Images per digit").wait_for()


def show_design(page, url):
    page.goto(f"{url}/design?{DESIGN}")
    page.get_by_text("Layers, as Keras builds them").wait_for()


def show_weights(page, url):
    page.goto(f"{url}/weights")
    page.get_by_text("Statistics at epoch").wait_for()
    page.locator(".st-key-weights_run input").click()
    page.keyboard.type("notebook-5")  # the select box filters its options as one types
    page.keyboard.press("Enter")
    page.get_by_text("bn_4 gamma").first.wait_for(state="attached")  # a cell of the grid (drawn on a canvas)


def show_weights_units(page, url):
    """The units tab, for the notebook's first model (its first layer of 512 units, no batch norm)."""
    page.goto(f"{url}/weights")
    page.get_by_text("Statistics at epoch").wait_for()
    page.locator(".st-key-weights_run input").click()
    page.get_by_role("option").filter(has_text="notebook-2-hidden").first.click()
    page.get_by_text(re.compile(r"512 relu, drop 0.4 → 128 relu → 10 · \d+ epochs")).wait_for()  # its details
    page.get_by_role("tab", name="What each unit looks for").click()
    page.locator(".st-key-weights_units_chart_1 .js-plotly-plot").wait_for()
    # From Play down (under the page's header): the epoch slider, the tabs and the grid under them.
    page.locator(".st-key-weights_play").evaluate("play => play.scrollIntoView({block: 'start'})")


def show_compare(page, url):
    page.goto(f"{url}/compare")
    page.get_by_text("Runs to compare", exact=True).wait_for()
    for name in NOTEBOOK_PRESETS:  # the students' three runs (the viewer has none of their own)
        page.locator(".st-key-compare_runs input").click()
        page.get_by_role("option").filter(has_text=f"{name} (").first.click()
        page.wait_for_selector("[data-test-script-state='notRunning']")
    page.keyboard.press("Escape")
    page.get_by_text("Observations").wait_for()


def show_evaluate(page, url):
    page.goto(f"{url}/evaluate")
    page.get_by_text("Mistakes, most confident first").wait_for(timeout=60_000)


def show_draw(page, url):
    page.goto(f"{url}/draw")
    draw_a_seven(page)
    page.get_by_text("What makes it a 7").wait_for(timeout=60_000)


def show_draw_inside(page, url):
    """Draw's "inside the network" under the answer: the most active units and each layer's activity."""
    show_draw(page, url)
    heading = page.get_by_role("heading", name="Inside the network")
    heading.evaluate("element => element.scrollIntoView({block: 'start'})")  # at the top, not just in view


def show_board(page, url):
    page.goto(f"{url}/board")
    page.get_by_text("best for its size").first.wait_for(state="attached")


PAGES = {
    "home": show_home,
    "design": show_design,
    "weights": show_weights,
    "weights-units": show_weights_units,
    "compare": show_compare,
    "evaluate": show_evaluate,
    "draw": show_draw,
    "draw-inside": show_draw_inside,
    "board": show_board,
}


def shoot(url: str, out: Path, browser) -> None:
    """Every page at each of the three sizes (home.png, home-1024.png, home-390.png, ...), then Train at 1366 px."""
    for suffix, screen in SCREENS.items():
        context = browser.new_context(**screen)
        page = context.new_page()
        for name, show in PAGES.items():
            show(page, url)
            time.sleep(2)  # Plotly fits its charts after they appear
            page.screenshot(path=out / f"{name}{suffix}.png", full_page=name == "compare" and not suffix)
        if suffix == "-1024":
            show_train(page, url, out, suffix)
        context.close()
    page = browser.new_page(**SCREENS[""])
    show_train(page, url, out, "")


TEACHER_KEY = "screenshots for the README"  # at least 16 characters, or the app will not start


def shoot_teacher(url: str, out: Path, browser) -> None:
    """The Teacher page (a challenge set) and the projector view on a laptop and on a 1920 px projector."""
    for suffix, viewport in (("", {"width": 1366, "height": 1150}), ("-1920", {"width": 1920, "height": 1080})):
        page = browser.new_page(viewport=viewport)
        page.goto(f"{url}/teacher")
        page.get_by_label("Teacher key").fill(TEACHER_KEY)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Most parameters (0: no budget)").fill("1000000")  # the notebook's models fit
        page.get_by_role("button", name="Set the challenge").click()
        page.get_by_text("Now: best test accuracy").wait_for()
        time.sleep(1)
        page.screenshot(path=out / f"teacher{suffix}.png")
        page.get_by_role("link", name="Projector").click()
        page.locator(".projector-board").wait_for()
        time.sleep(2)
        page.screenshot(path=out / f"projector{suffix}.png")
        if suffix:
            show_board(page, url)
            time.sleep(2)
            page.screenshot(path=out / f"board{suffix}.png")
        page.close()


# A class of six for the lesson's screenshots: small designs trained for real, one or two epochs each.
CLASS = (
    ("Ada", "notebook-2-hidden", {}),
    ("Bo", "notebook-3-hidden-bn", {}),
    ("Cy", "notebook-5-hidden-bn", {}),
    ("Di", None, {"units": 128, "dropout": 0.5}),
    ("Ed", None, {"units": 128, "dropout": 0.6}),
    ("Fa", None, {"units": 128, "dropout": 0.5, "batch_norm": "before"}),
    ("Gil", None, {"units": 128, "batch_norm": "after"}),
    ("Hu", None, {"units": 64}),
)


def lesson_store(home: str) -> None:
    """A lesson's store: the shipped notebook runs as three students', five small designs trained for real, and
    two dozen MNIST test digits as the class's handwriting."""
    from mnist_dash.classroom.lesson import SHIPPED, read
    from mnist_dash.spec import LayerSpec, ModelSpec

    data, store = load_mnist(), RunStore(home)
    shipped = {
        record["spec"]["name"]: (run_id, record, blobs) for run_id, record, blobs in read(SHIPPED.read_bytes())[0]
    }
    for student, preset, design in CLASS:
        if preset is not None:
            run_id, record, blobs = shipped[preset]
            now = datetime.now(UTC).isoformat(timespec="seconds")  # this lesson's: today
            store.insert(run_id, record | {"owner": named(student).key, "owner_name": student, "created": now}, blobs)
            continue
        layer = LayerSpec(
            design["units"], dropout=design.get("dropout", 0.0), batch_norm=design.get("batch_norm", "none")
        )
        spec = ModelSpec((layer, layer), epochs=2, name=f"{student.lower()}-net")
        snap = TrainingJob(spec, data, store=store, queue=JobQueue(1), owner=named(student)).start().wait()
        print(f"trained {spec.name}: test accuracy {snap.test_accuracy:.4f}", flush=True)
    for index in range(24):
        store.digits.add(data.x_test[index], int(data.y_test[index]), named(CLASS[index % 4][0]))


def shoot_lesson(url: str, out: Path, browser) -> None:
    """This lesson on the Teacher page (1366 and 1920 px), what the class tried on the projector, the digits wall."""
    for suffix, viewport in (("", {"width": 1366, "height": 1150}), ("-1920", {"width": 1920, "height": 1080})):
        page = browser.new_page(viewport=viewport)
        page.goto(f"{url}/teacher")
        page.get_by_label("Teacher key").fill(TEACHER_KEY)
        page.get_by_role("button", name="Sign in").click()
        heading = page.get_by_role("heading", name="What the class tried")
        heading.wait_for(timeout=60_000)
        page.get_by_role("heading", name="This lesson").scroll_into_view_if_needed()
        time.sleep(1.5)
        page.screenshot(path=out / f"teacher-lesson{suffix}.png")
        if suffix:
            page.goto(f"{url}/projector")
            page.locator("[data-testid='stButtonGroup'] button").filter(has_text="What the class tried").click()
            page.get_by_role("heading", name="What the class tried").wait_for(timeout=60_000)
            time.sleep(1.5)
            page.screenshot(path=out / f"projector-tried{suffix}.png")
            page.goto(f"{url}/wall")
            page.locator(".st-key-wall_board .js-plotly-plot").wait_for(timeout=60_000)
            time.sleep(2)
            page.screenshot(path=out / f"wall{suffix}.png")
        page.close()


def show_train(page, url: str, out: Path, suffix: str) -> None:
    """Design's Train button, the offer of the stored run, then a new job live and finished."""
    show_design(page, url)
    page.locator(".st-key-design_train button").click()
    # The store already holds this design, seed and data: the Train page offers the finished run.
    page.get_by_text("This exact design was trained before").wait_for(timeout=60_000)
    time.sleep(1.5)
    page.screenshot(path=out / f"train-offer{suffix}.png")
    page.locator(".st-key-train_start button").click()  # train it again, to show the live view
    page.get_by_text("Epoch 2 of 3 ·").wait_for(timeout=120_000)
    time.sleep(2.5)
    page.screenshot(path=out / f"train-running{suffix}.png")
    page.get_by_text("Finished after").wait_for(timeout=120_000)
    time.sleep(1.5)
    page.screenshot(path=out / f"train-finished{suffix}.png", full_page=not suffix)


if __name__ == "__main__":
    main()
