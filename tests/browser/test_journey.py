"""A student's whole journey in a real browser, page by page, on the real MNIST.

Home → Design (a notebook preset, one layer changed, 2 epochs in batches of 32) → Train (the live chart
gains points while it trains) → a second run stopped part-way → Weights, Compare and
Evaluate for the finished run → Draw (a 7 drawn with the mouse gets an answer). Once with the
runs in the default SQLite store, once in PostgreSQL.
The charts are read from Plotly's own data in the page, never judged by a sleep.
"""

import contextlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from bench.streamlit_server import draw_a_seven
from tests.browser.support import patience, start_server
from tests.postgres_server import fresh_database

LIVE_POINTS = """() => {
    const plot = document.querySelector('.st-key-train_loss_chart .js-plotly-plot');
    return plot && plot.data ? plot.data.reduce((total, trace) => total + trace.x.length, 0) : 0;
}"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, mnist_path, tmp_path_factory):
    """The app on the default store (SQLite under MNIST_DASH_HOME), then on a fresh PostgreSQL database."""
    with contextlib.ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            url = stack.enter_context(fresh_database(request.getfixturevalue("postgres_admin_url")))
        home, log = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("log")
        yield stack.enter_context(start_server(home, mnist_path, log, database_url=url))


def plot_traces(page, selector: str) -> list[dict]:
    """Name and point count of each trace of the Plotly chart under `selector`."""
    page.locator(f"{selector} .js-plotly-plot").first.wait_for()
    return page.evaluate(
        """(selector) => Array.from(document.querySelector(selector + ' .js-plotly-plot').data,
            trace => ({name: trace.name || '', type: trace.type, points: (trace.x || trace.z || []).length}))""",
        selector,
    )


def edit_first_units_cell(page, value: str) -> None:
    """Type `value` into the layer table's first `units` cell (a canvas grid: click, Enter, type, Enter).

    The grid is drawn anew when the design changes (a preset, an edit); a click that lands
    while it is being replaced selects nothing, so the click is tried again a few times.
    """
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("[data-testid='glide-cell-1-0']").wait_for(state="attached")
    editor = page.locator("textarea.gdg-input, input.gdg-input").first
    for _attempt in range(5):
        grid.click(position={"x": 70, "y": 56})  # the first data row, first column after the index
        page.keyboard.press("Enter")
        try:
            editor.wait_for(timeout=patience(3_000))
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    editor.fill(value)
    editor.press("Enter")


def set_number(page, label: str, value: str, in_url: str) -> None:
    """Type `value` into the number input `label` until the page's link shows `in_url`.

    A table edit redraws every input under new keys; for a moment the old and the new
    one are both on the page, so a value typed into the old one is tried again.
    """
    for _attempt in range(5):
        field = page.get_by_role("spinbutton", name=label)
        try:
            expect(field).to_have_count(1)
            field.fill(value)
            field.press("Enter")
            page.wait_for_url(f"**{in_url}**", timeout=patience(5_000))
            return
        except (PlaywrightTimeout, PlaywrightError, AssertionError):
            continue
    raise AssertionError(f"{label} never took {value}")


def go_to(page, link: str, heading: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for()


def pick_finished_run(page) -> None:
    """Choose the finished run (two epochs, with a test score) in the page's run picker."""
    page.get_by_role("combobox", name="Run").click()
    page.get_by_role("option").filter(has_text=" · test ").click()


def assert_no_error(page) -> None:
    """No exception box on the page (Streamlit shows one in place of a traceback)."""
    page.wait_for_load_state("networkidle")
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()


def test_home_design_train_stop_inspect_and_draw(new_page, server):
    page = new_page(server)
    page.goto(server.url)

    # Home: what the app is for, sample digits with their labels, the way in.
    page.get_by_role("heading", name="How does a neural network learn?").wait_for()
    page.get_by_text("label 7").nth(1).wait_for()  # two examples of each digit
    page.get_by_role("link", name="Design a network").first.click()

    # Design: the notebook's first model, its first layer halved, one epoch.
    page.get_by_role("heading", name="Design a network").wait_for()
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="notebook-2-hidden", exact=True).click()
    page.get_by_text("468,874").first.wait_for()  # the notebook's count
    edit_first_units_cell(page, "256")
    page.get_by_text("235,146").first.wait_for()  # 784·256+256 + 256·128+128 + 128·10+10
    # Two epochs in batches of 32: seconds even on a fast day, long enough to watch the chart grow (a Train page
    # redraw a second). One epoch took 5 s there, set-up included: fewer than two redraws with points.
    set_number(page, "Epochs", "2", "epochs=2")
    set_number(page, "Batch size", "32", "batch_size=32")
    assert "layers=256" in page.url
    page.locator(".st-key-design_train button").click()

    # Train: the live chart gains points while the job trains, then the run finishes.
    page.get_by_role("heading", name="Train").wait_for()
    page.wait_for_function(f"({LIVE_POINTS})() >= 1", timeout=patience(90_000))
    seen = page.evaluate(LIVE_POINTS)
    # More points on a later redraw while the job still trains (not all at once when it is over).
    page.wait_for_function(
        f"({LIVE_POINTS})() > {seen} && !document.body.innerText.includes('Finished after')", timeout=90_000
    )
    page.get_by_text(re.compile(r"^Finished after 2 of 2 epochs")).wait_for(timeout=patience(180_000))
    page.get_by_text("Test accuracy:").wait_for()
    traces = {trace["name"]: trace["points"] for trace in plot_traces(page, ".st-key-train_loss_chart")}
    assert traces["validation loss"] == 2 and traces["train loss"] == 2

    # A second run of the same design, stopped part-way: it says so and the app stays usable.
    page.locator(".st-key-train_start button").click()
    page.locator(".st-key-train_stop button:enabled").wait_for(timeout=patience(90_000))
    page.locator(".st-key-train_stop button").click()
    page.get_by_test_id("stProgress").get_by_text(re.compile(r"^Stopped after 0 of 2 epochs")).wait_for(
        timeout=patience(60_000)
    )
    page.get_by_test_id("stMainBlockContainer").get_by_text(
        "nothing to save"
    ).wait_for()  # a run with no finished epoch is not stored
    page.locator(".st-key-train_start button:enabled").wait_for()

    # Weights: the finished run, a violin per layer's kernel (one kind of weight at a time), labelled by layer.
    go_to(page, "Weights", "Weights")
    pick_finished_run(page)
    page.get_by_text("Epoch (0 = the initial weights)").wait_for()
    violins = plot_traces(page, ".st-key-weights_violins")
    names = [trace["name"] for trace in violins]
    assert [trace["type"] for trace in violins] == ["violin"] * 3
    assert names[0].startswith("hidden_1") and names[-1].startswith("output")
    assert_no_error(page)

    # Compare: the finished run's curves and its row in the table.
    go_to(page, "Compare", "Compare runs")
    page.locator(".st-key-compare_loss .js-plotly-plot").first.wait_for()
    page.get_by_text("235,146").first.wait_for()
    assert_no_error(page)

    # Evaluate: the confusion matrix over all 10,000 test digits.
    go_to(page, "Evaluate", "Evaluate")
    pick_finished_run(page)
    page.locator(".st-key-evaluate_matrix .js-plotly-plot").wait_for()
    # The cells' printed counts (z itself travels binary-encoded), summed: every test digit once.
    heatmap = page.evaluate(
        "() => document.querySelector('.st-key-evaluate_matrix .js-plotly-plot').data[0].text"
        ".flat().reduce((total, count) => total + Number(count), 0)"
    )
    assert heatmap == 10_000
    assert_no_error(page)

    # Draw: a 7 drawn with the mouse, and the model's answer.
    go_to(page, "Draw", "Draw a digit")
    draw_a_seven(page)
    page.get_by_text("sure").wait_for(timeout=patience(60_000))
    bars = plot_traces(page, ".st-key-draw_bars")
    assert bars[0]["type"] == "bar" and bars[0]["points"] == 10
    assert_no_error(page)
