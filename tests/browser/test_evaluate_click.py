"""Evaluate in a real browser: the first evaluation says what it waits for; a click on a cell picks its mistakes.

A fresh `streamlit run` (so Keras is not yet imported in it) over a store with one run trained
for one epoch on the real MNIST. AppTest cannot click a Plotly chart; here the mouse does,
at a point off the cell's centre, and the page's own select boxes and captions are read back.
"""

import pytest

from tests.browser.support import patience

MATRIX = ".st-key-evaluate_matrix .js-plotly-plot"


@pytest.fixture(scope="module")
def server(trained_server):
    return trained_server


def counts(page) -> list[list[int]]:
    """The matrix's printed counts, row = true digit (z itself travels binary-encoded)."""
    return page.evaluate(f"() => document.querySelector('{MATRIX}').data[0].text.map(row => row.map(Number))")


def click_cell(page, true_label: int, predicted: int) -> None:
    """Click inside the cell, a third of the way towards its corner: any point of a cell picks it."""
    x, y = page.evaluate(
        """([selector, x, y]) => {
            const plot = document.querySelector(selector), box = plot.getBoundingClientRect();
            const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
            return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
        }""",
        [MATRIX, predicted + 0.3, true_label - 0.3],
    )
    page.mouse.click(x, y)


def shown_mistakes(page, true_label: int, predicted: int, expected: int) -> list[str]:
    """The captions under the mistakes once the page lists `expected` of them, all of one cell."""
    captions = page.locator("[data-testid='stImageCaption']")
    pattern = f"true {true_label} → {predicted} ("
    page.wait_for_function(
        """([pattern, expected]) => {
            const shown = Array.from(document.querySelectorAll("[data-testid='stImageCaption']"), c => c.innerText);
            return shown.length === expected && shown.every(text => text.startsWith(pattern));
        }""",
        arg=[pattern, expected],
        timeout=patience(30_000),
    )
    return captions.all_inner_texts()


def test_clicking_a_cell_lists_that_cells_mistakes(page, server):
    page.goto(f"{server.url}/evaluate")
    page.locator(MATRIX).wait_for(timeout=patience(120_000))
    matrix = counts(page)
    off_diagonal = sorted(
        ((matrix[t][p], t, p) for t in range(10) for p in range(10) if t != p and matrix[t][p] > 0), reverse=True
    )
    # The page starts on the largest confusion; click two others with mistakes, then the first of them again.
    (_, *first), (_, *second) = off_diagonal[1], off_diagonal[2]
    for true_label, predicted in (first, second, first):
        click_cell(page, true_label, predicted)
        shown = shown_mistakes(page, true_label, predicted, min(matrix[true_label][predicted], 24))
        assert shown and all(text.startswith(f"true {true_label} → {predicted} (") for text in shown)
        assert page.get_by_role("combobox", name="True digit").input_value() == str(true_label)
        assert page.get_by_role("combobox", name="Predicted as").input_value() == str(predicted)
        outline = page.evaluate(f"() => document.querySelector('{MATRIX}').layout.shapes[0]")
        assert (outline["x0"], outline["y0"]) == (predicted - 0.5, true_label - 0.5)
