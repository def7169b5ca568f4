"""Weights in a real browser: the units' images under their tab, moved by the epoch slider and the count.

Over a store with notebook-2-hidden trained for one epoch on the real MNIST (`trained_server`).
The images are read back from the page: Plotly draws a heatmap as one bitmap, so a change of
epoch shows as a new bitmap, and the labels above the images as the figure's annotations.
"""

import pytest

from tests.browser.support import patience

UNITS = ".st-key-weights_units_chart_{} .js-plotly-plot"


@pytest.fixture(scope="module")
def server(trained_server):
    return trained_server


def shown(page) -> dict:
    """The labels over both halves of the grid and the bitmaps Plotly drew for them."""
    return page.evaluate(
        """(selector) => {
            const plots = [0, 1].map((half) => document.querySelector(selector.replace('{}', half)));
            return {
                labels: plots.flatMap((plot) => plot.layout.annotations.map((note) => note.text)),
                bitmaps: plots.map((plot) => plot.querySelector('image').getAttribute('href')),
            };
        }""",
        UNITS,
    )


def test_the_units_tab_shows_the_grid_and_the_epoch_slider_moves_it(page, server):
    page.goto(f"{server.url}/weights")
    page.get_by_text("Statistics at epoch").wait_for(timeout=patience(60_000))
    page.get_by_role("tab", name="What each unit looks for").click()
    page.locator(UNITS.format(1)).wait_for()
    page.get_by_text("hidden_1: the 32 units that moved most, after epoch 1").wait_for()
    trained = shown(page)
    assert len(trained["labels"]) == 32 and all(" · " in label for label in trained["labels"])
    assert not any(label.endswith(" · 0.0") for label in trained["labels"])  # each moved in its epoch

    # The tab's own rerun over first: a slider moved while a run is still going can be dropped by the page.
    page.wait_for_selector("[data-test-script-state='notRunning']")
    page.get_by_role("slider", name="Epoch (0 = the initial weights)").focus()  # above the tabs
    page.keyboard.press("Home")
    at_start = page.get_by_text("hidden_1: the 32 units that moved most, at the start")
    try:
        at_start.wait_for(timeout=patience(15_000))
    except Exception:  # a move the page dropped mid-rerun (seen on loaded runs): moved again, as a user would
        page.keyboard.press("End")
        page.wait_for_selector("[data-test-script-state='notRunning']")
        page.keyboard.press("Home")
        at_start.wait_for()
    for half in (0, 1):  # both halves of the grid redrawn (the second may come a moment after the first)
        page.wait_for_function(
            "(selector) => document.querySelector(selector).layout.annotations.every(a => a.text.endsWith(' · 0.0'))",
            arg=UNITS.format(half),
        )
    start = shown(page)
    assert [label.split(" · ")[0] for label in start["labels"]] == [
        label.split(" · ")[0] for label in trained["labels"]
    ]  # the same units, in the same order: only their images change
    assert all(label.endswith(" · 0.0") for label in start["labels"])
    assert start["bitmaps"][0] != trained["bitmaps"][0] and start["bitmaps"][1] != trained["bitmaps"][1]

    page.get_by_role("slider", name="Units shown").focus()
    page.keyboard.press("End")
    page.wait_for_function(  # both halves redrawn (the second a moment after the first on a busy machine)
        "(selectors) => selectors.every((s) => document.querySelector(s)?.layout?.annotations?.length === 32)",
        arg=[UNITS.format(0), UNITS.format(1)],
    )
    assert len(shown(page)["labels"]) == 64
    page.get_by_text("What hidden_2's units listen to in hidden_1").wait_for()
    assert page.locator(".st-key-weights_inputs_chart_1 .js-plotly-plot").count() == 1
