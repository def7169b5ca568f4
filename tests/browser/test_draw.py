"""The Draw page in a real browser: draw a 7 with the mouse on the canvas and read the answer.

Debian's Chromium (headless) against `streamlit run` on 127.0.0.1, with a model trained
for one epoch on the real MNIST in a temporary store. On failure a screenshot and the
page's HTML are saved under test-artifacts/ (see conftest.py).
"""

import pytest
from playwright.sync_api import expect

from bench.streamlit_server import draw_a_seven


@pytest.fixture(scope="module")
def server(trained_server):
    return trained_server


@pytest.fixture
def page(new_page, server):
    return new_page(server)


def test_drawing_a_seven_gives_a_prediction_and_the_probability_chart(page, server):
    page.goto(f"{server.url}/draw")
    draw_a_seven(page)
    page.get_by_text("sure").wait_for(timeout=60_000)
    answer = page.locator("[data-testid='stMarkdownContainer'] div").filter(has_text="7").first
    assert answer.inner_text().strip() == "7"
    # The probability chart: one Plotly bar chart with a bar per digit, the 7 the tallest.
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 1", timeout=30_000)
    bars = page.evaluate("() => Array.from(document.querySelector('.js-plotly-plot').data[0].y)")
    assert len(bars) == 10 and max(range(10), key=lambda digit: bars[digit]) == 7


def test_a_drawing_joins_the_class_set_with_one_click_and_evaluate_counts_it(page, server):
    page.goto(f"{server.url}/draw")
    draw_a_seven(page)
    page.get_by_text("which digit did you mean?").wait_for(timeout=60_000)
    page.locator("[data-testid='stButtonGroup'] button").filter(has_text="7").first.click()
    page.get_by_text("Added as a 7: the class set has").wait_for(timeout=30_000)
    page.goto(f"{server.url}/evaluate")
    page.get_by_text("On the class's own handwriting").wait_for(timeout=60_000)
    expect(page.get_by_text("The class's digits")).to_be_visible()


def test_while_a_job_trains_the_drawing_is_read_again_after_each_epoch(page, server):
    # Long enough (batches of 32, ten epochs) that the drawing is read after at least two more epochs.
    page.goto(f"{server.url}/train?layers=64:relu:0:none&epochs=10&batch_size=32&name=live")
    page.locator(".st-key-train_start button").click()
    # Training has begun (Stop is enabled) before we leave: the job then goes on in this session.
    page.locator(".st-key-train_stop button:enabled").wait_for(timeout=60_000)
    page.get_by_role("link", name="Draw").click()
    page.get_by_role("heading", name="Draw a digit").wait_for()
    draw_a_seven(page)
    page.get_by_text("its answer after each epoch").wait_for(timeout=120_000)
    page.wait_for_function(
        "() => { const plots = document.querySelectorAll('.js-plotly-plot');"
        " return plots.length === 2 && plots[1].data.length === 10 && plots[1].data[7].x.length >= 2; }",
        timeout=120_000,
    )


def test_the_newest_input_wins_between_an_upload_and_the_canvas(page, server, tmp_path):
    page.goto(f"{server.url}/draw")
    page.get_by_role("heading", name="Draw a digit").wait_for()
    notes = tmp_path / "notes.png"
    notes.write_text("not an image at all")
    page.locator(".st-key-draw_upload input[type='file']").set_input_files(str(notes))
    page.get_by_text("notes.png is not an image; upload a PNG or JPEG").wait_for(timeout=30_000)
    draw_a_seven(page)  # drawn after the upload: the drawing is what gets read
    page.get_by_text("sure").wait_for(timeout=60_000)
    expect(page.get_by_text("is not an image")).to_have_count(0, timeout=30_000)  # gone once the page is redrawn
    assert "Pillow" not in page.locator("body").inner_text()
