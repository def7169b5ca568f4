"""The Draw page in a real browser: draw a 7 with the mouse on the canvas and read the answer.

Debian's Chromium (headless) against `streamlit run` on 127.0.0.1, with a model trained
for one epoch on the real MNIST in a temporary store. On failure a screenshot and the
page's HTML are saved under test-artifacts/ (see conftest.py).
"""

import re

import pytest
from playwright.sync_api import expect

from bench.streamlit_server import draw_a_seven
from tests.browser.support import patience

BARS = ".st-key-draw_bars .js-plotly-plot"
SALIENCY_Z = "plot => JSON.stringify(plot.calcdata[1][0].z.map(row => Array.from(row)))"


def click_digit(page, digit: int) -> None:
    """Click the probability chart in `digit`'s column, high above its bar."""
    x, y = page.evaluate(
        """([selector, x]) => {
            const plot = document.querySelector(selector), box = plot.getBoundingClientRect();
            const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
            return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(0.6)];
        }""",
        [BARS, digit],
    )
    page.mouse.click(x, y)


@pytest.fixture(scope="module")
def server(trained_server):
    return trained_server


def test_drawing_a_seven_gives_a_prediction_and_the_probability_chart(page, server):
    page.goto(f"{server.url}/draw")
    draw_a_seven(page)
    page.get_by_text("sure").wait_for(timeout=patience(60_000))
    answer = page.locator("[data-testid='stMarkdownContainer'] div").filter(has_text="7").first
    assert answer.inner_text().strip() == "7"
    # The probability chart: a Plotly bar chart with a bar per digit, the 7 the tallest.
    bars = page.locator(BARS)
    bars.wait_for(timeout=patience(30_000))
    heights = bars.evaluate("plot => Array.from(plot.data[0].y)")
    assert len(heights) == 10 and max(range(10), key=lambda digit: heights[digit]) == 7


def test_why_this_answer_shows_saliency_units_and_layers_and_a_bar_click_picks_another_digit(page, server):
    page.goto(f"{server.url}/draw")
    draw_a_seven(page)
    page.get_by_text("What makes it a 7").wait_for(timeout=patience(60_000))
    saliency = page.locator(".st-key-draw_saliency .js-plotly-plot")
    # The drawing in grey, the saliency over it: two 28 x 28 heatmaps.
    # (z travels binary-encoded: the arrays Plotly computed from it are read instead.)
    shapes = saliency.evaluate("plot => plot.calcdata.map(c => [c[0].trace.type, c[0].z.length, c[0].z[0].length])")
    assert shapes == [["heatmap", 28, 28], ["heatmap", 28, 28]]
    seven = saliency.evaluate(SALIENCY_Z)
    # notebook-2-hidden's first layer: the 8 most active units, each a 28 x 28 image of its weights.
    units = page.locator(".st-key-draw_units .js-plotly-plot")
    labels = units.evaluate("plot => plot.layout.annotations.map(note => note.text)")
    assert len(labels) == 8 and all(label.startswith("unit ") for label in labels)
    # Side by side in one heatmap, 4 across and 2 down, each tile 28 x 28 with gaps between.
    assert units.evaluate("plot => [plot.calcdata[0][0].z.length, plot.calcdata[0][0].z[0].length]") == [70, 124]
    # One bar chart per hidden layer: 512 and 128 units.
    layers = page.locator(".st-key-draw_layers .js-plotly-plot")
    assert layers.evaluate("plot => plot.calcdata.map(bars => bars.length)") == [512, 128]
    # A click on the 1's column (its bar far too short to hit) shows what would make the drawing a 1.
    click_digit(page, 1)
    page.get_by_text("What makes it a 1").wait_for(timeout=patience(30_000))
    # Until the page's run ends, a loaded server can show the 7's map (stale) beside the 1's: wait for one.
    expect(saliency).to_have_count(1, timeout=patience(30_000))
    assert saliency.evaluate(SALIENCY_Z) != seven
    assert page.locator(BARS).evaluate("plot => plot.data[0].marker.line.width[1]") > 0  # the 1 is outlined


def test_a_drawing_joins_the_class_set_with_one_click_and_evaluate_counts_it(page, server):
    page.goto(f"{server.url}/draw")
    draw_a_seven(page)
    page.get_by_text("which digit did you mean?").first.wait_for(  # a rerun may show its old copy too
        timeout=patience(60_000)
    )
    page.locator("[data-testid='stButtonGroup'] button").filter(has_text="7").first.click()
    page.get_by_text("Added as a 7: the class set has").wait_for(timeout=patience(30_000))
    page.goto(f"{server.url}/evaluate")
    page.get_by_text("On the class's own handwriting").wait_for(timeout=patience(60_000))
    expect(page.get_by_text("The class's digits")).to_be_visible()


def test_while_a_job_trains_the_drawing_is_read_again_after_each_epoch(page, server):
    # Long enough (batches of 32, the 30 epochs a server allows; ten lasted 6 s on a fast day, three of the page's
    # 2 s ticks) that the drawing is read after at least two more epochs; Stop ends it after.
    page.goto(f"{server.url}/train?layers=64:relu:0:none&epochs=30&batch_size=32&name=live")
    page.locator(".st-key-train_start button").click()
    # Training has begun (Stop is enabled) before we leave: the job then goes on in this session.
    page.locator(".st-key-train_stop button:enabled").wait_for(timeout=patience(60_000))
    page.get_by_role("link", name="Draw").click()
    page.get_by_role("heading", name="Draw a digit").wait_for()
    draw_a_seven(page)
    page.get_by_text("its answer after each epoch").wait_for(timeout=patience(120_000))
    page.wait_for_function(
        "() => { const plot = document.querySelector('.st-key-draw_live .js-plotly-plot');"
        " return plot !== null && plot.data.length === 10 && plot.data[7].x.length >= 2; }",
        timeout=patience(120_000),
    )
    page.get_by_role("link", name="Train").click()
    page.locator(".st-key-train_stop button:enabled").click(timeout=patience(60_000))
    stopped = page.get_by_test_id("stProgress").get_by_text(re.compile(r"^Stopped after \d+ of 30 epochs"))
    stopped.wait_for(timeout=patience(60_000))


def test_the_newest_input_wins_between_an_upload_and_the_canvas(page, server, tmp_path):
    page.goto(f"{server.url}/draw")
    page.get_by_role("heading", name="Draw a digit").wait_for()
    notes = tmp_path / "notes.png"
    notes.write_text("not an image at all")
    page.locator(".st-key-draw_upload input[type='file']").set_input_files(str(notes))
    page.get_by_text("notes.png is not an image; upload a PNG or JPEG").wait_for(timeout=patience(30_000))
    draw_a_seven(page)  # drawn after the upload: the drawing is what gets read
    page.get_by_text("sure").wait_for(timeout=patience(60_000))
    expect(page.get_by_text("is not an image")).to_have_count(
        0, timeout=patience(30_000)
    )  # gone once the page is redrawn
    assert "Pillow" not in page.locator("body").inner_text()
