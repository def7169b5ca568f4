"""Every page on three screens, read from the page's own elements: nothing cut off, and drawing on a phone.

A phone (390 x 844, touch), a classroom projector (1024 x 768, the sidebar open) and a laptop
(1366 x 900), each one browser context for the module, against one server holding two tiny runs
trained for an epoch on the real MNIST. On each page the checks are of the elements themselves,
not of a picture:

- text: no button, input (a select box's value), label, heading, paragraph, tag, metric, link,
  image or code block is wider than its box (cut with an ellipsis), reaches past the window's
  edge, past a box that clips it, or out of its element; none is under a table's toolbar (shown
  all the time on a touch screen);
- data grids (drawn on a canvas; their columns are read from the grid itself): every header
  whole in its column, and every column on show, unless the grid pins its first column, which
  then names its rows while the rest scrolls sideways (the wide tables on a phone);
- Plotly charts: the toolbar covers no title, and no title, label or legend is cut by the chart.

On the phone: the canvas's undo and clear are visible without a hover and a tap reaches them,
and after a 7 drawn with a finger the answer is on the screen, nothing scrolled.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.runs import RunStore
from mnist_dash.share import to_query
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.browser.support import patience, start_server

SCREENS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "projector": {"viewport": {"width": 1024, "height": 768}},
    "laptop": {"viewport": {"width": 1366, "height": 900}},
}
# Short names, as a class's runs have; the second has dropout and batch norm (every column of the tables).
RUNS = (
    ModelSpec(layers=(LayerSpec(32),), batch_size=256, epochs=1, name="tiny"),
    ModelSpec(layers=(LayerSpec(32, dropout=0.2, batch_norm="after"),), batch_size=256, epochs=1, name="tiny-bn"),
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
KEY = "a key for the class on screens"

# Everything a reader reads or presses, for the text checks (inside stMain, and the sidebar when open).
TEXT = (
    "button, input, label, h1, h2, h3, p, li, pre, code, img, [data-baseweb='tag'], [role='tab'], "
    "[data-testid='stMetricValue'], [data-testid='stPageLink-NavLink'], [data-testid='stCaptionContainer']"
)

CUT_OFF = """(text) => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    const roots = [document.querySelector('[data-testid="stMain"]')];
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    if (sidebar && sidebar.getAttribute('aria-expanded') === 'true') roots.push(sidebar);
    const name = (el) => {
        const said = [el.innerText, el.textContent, el.value, el.getAttribute('aria-label'), el.getAttribute('alt')];
        const words = said.find((words) => words) || '';
        return `${el.tagName.toLowerCase()} "${words.trim().replace(/\\s+/g, ' ').slice(0, 60)}"`;
    };
    const shown = (el) => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && el.checkVisibility({opacityProperty: true, visibilityProperty: true});
    };
    const inside = (box, outer) => box.left >= outer.left - 1 && box.right <= outer.right + 1;
    const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const inked = (el) => {  // the boxes of an element's text itself (a heading's box spans the page)
        if (el instanceof SVGElement || !el.textContent.trim()) return [el.getBoundingClientRect()];
        const range = document.createRange();
        range.selectNodeContents(el);
        return Array.from(range.getClientRects());
    };
    // A table's toolbar (search, download, full screen) shows above it all the time on a touch screen.
    const toolbars = Array.from(document.querySelectorAll('[data-testid="stElementToolbar"]')).filter(shown);
    for (const root of roots) {
        for (const el of root.querySelectorAll(text)) {
            if (!shown(el) || ['radio', 'checkbox', 'range', 'file'].includes(el.type)) continue;  // drawn by others
            const box = el.getBoundingClientRect();
            if (box.left < -1 || box.right > width + 1) problems.push(`${name(el)} reaches past the window's edge`);
            for (const part of [el, ...el.querySelectorAll('*')]) {
                const style = getComputedStyle(part);
                const clips = style.textOverflow === 'ellipsis' || ['INPUT', 'PRE'].includes(part.tagName);
                if (clips && part.scrollWidth > part.clientWidth + 1) {
                    problems.push(`${name(el)} is cut: ${part.scrollWidth} px of text in ${part.clientWidth} px`);
                    break;
                }
            }
            for (let outer = el.parentElement; outer && outer !== root; outer = outer.parentElement) {
                if (getComputedStyle(outer).overflowX !== 'visible' && !inside(box, outer.getBoundingClientRect())) {
                    problems.push(`${name(el)} is cut by the box around it`);
                    break;
                }
            }
            const element = el.closest('[data-testid="stElementContainer"]');
            if (element && !inside(box, element.getBoundingClientRect())) {
                problems.push(`${name(el)} spills out of its element`);
            }
        }
        for (const el of [...root.querySelectorAll(text), ...root.querySelectorAll('svg text')]) {
            if (!shown(el)) continue;
            for (const toolbar of toolbars) {
                const own = toolbar.closest('[data-testid="stElementContainer"]');
                const under = inked(el).some((box) => overlap(box, toolbar.getBoundingClientRect()));
                if (!own.contains(el) && under) {
                    problems.push(`${name(el)} is under a table's toolbar`);
                }
            }
        }
    }
    return problems;
}"""

# A grid draws on a canvas: its columns (title, width, icon), cells and pinned count come from the
# grid's own props, found through React's fiber on its scroller. A header needs its text, the cell
# padding on both sides and, for an editable column, the 28 px of its icon (Glide's own sizing);
# a cell, its shown text and the padding.
GRIDS_CUT_OFF = """() => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    const measure = document.createElement('canvas').getContext('2d');
    document.querySelectorAll('[data-testid="stMain"] .dvn-scroller').forEach((scroller, number) => {
        const fiber = scroller[Object.keys(scroller).find((key) => key.startsWith('__reactFiber$'))];
        let props = null;
        for (let node = fiber; node && !props; node = node.return) {
            const p = node.memoizedProps;
            if (p && Array.isArray(p.columns) && p.columns.length && 'width' in p.columns[0]) props = p;
        }
        if (!props) { problems.push(`grid ${number}: its columns could not be read`); return; }
        const grid = scroller.closest('.stDataFrameGlideDataEditor');
        const style = getComputedStyle(grid);
        const family = style.getPropertyValue('--gdg-font-family').trim();
        measure.font = `${style.getPropertyValue('--gdg-header-font-style').trim()} ${family}`;
        const padding = parseFloat(style.getPropertyValue('--gdg-cell-horizontal-padding'));
        const label = props.columns.map((column) => column.title).filter(Boolean).join(', ');
        for (const column of props.columns) {
            if (!column.title) continue;
            const needs = measure.measureText(column.title).width + 2 * padding + (column.icon ? 28 : 0);
            if (column.width < needs - 1) {
                const sizes = `${column.width} px of ${Math.ceil(needs)}`;
                problems.push(`grid (${label}): header "${column.title}" is cut, ${sizes}`);
            }
        }
        measure.font = `${style.getPropertyValue('--gdg-base-font-style').trim()} ${family}`;
        props.columns.forEach((column, index) => {
            for (let row = 0; row < Math.min(props.rows, 100); row++) {
                const text = props.getCellContent([index, row]).displayData;  // none for a custom cell
                if (typeof text === 'string' && measure.measureText(text).width + 2 * padding > column.width + 1) {
                    problems.push(`grid (${label}): "${text}" is cut in column "${column.title}"`);
                }
            }
        });
        if (scroller.scrollWidth > scroller.clientWidth + 1 && !(props.freezeColumns > 0)) {
            const sizes = `${scroller.scrollWidth} px in ${scroller.clientWidth}`;
            problems.push(`grid (${label}): columns hidden off its side (${sizes}) and none of them pinned`);
        }
        const box = scroller.getBoundingClientRect();
        if (box.left < -1 || box.right > width + 1) problems.push(`grid (${label}) reaches past the window's edge`);
    });
    return problems;
}"""

CHARTS_CUT_OFF = """() => {
    const problems = [];
    const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot').forEach((plot) => {
        const chart = plot.getBoundingClientRect();
        const title = plot.querySelector('.gtitle');
        const toolbar = plot.querySelector('.modebar');
        if (title && toolbar && overlap(title.getBoundingClientRect(), toolbar.getBoundingClientRect())) {
            problems.push(`chart "${title.textContent}": the toolbar covers its title`);
        }
        plot.querySelectorAll('text').forEach((text) => {
            const box = text.getBoundingClientRect();
            if (!text.textContent.trim() || box.width === 0) return;
            if (box.left < chart.left - 1 || box.right > chart.right + 1) {
                problems.push(`chart text "${text.textContent}" is cut by the chart's edge`);
            }
        });
    });
    return problems;
}"""


@pytest.fixture(scope="module")
def server(mnist_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    data, store = load_mnist(mnist_path), RunStore(home)
    for spec in RUNS:
        assert TrainingJob(spec, data, store=store, queue=JobQueue(1)).start().wait().test_accuracy > 0.8
    with start_server(home, mnist_path, tmp_path_factory.mktemp("log"), env={"MNIST_DASH_TEACHER_KEY": KEY}) as server:
        yield server


@pytest.fixture(scope="module", params=list(SCREENS))
def screen(request, chromium, server):
    """One page for each screen, reused by its tests: (screen's name, page)."""
    context = chromium.new_context(**SCREENS[request.param])
    page = context.new_page()
    page.set_default_timeout(patience(60_000))
    yield request.param, page
    context.close()


@pytest.fixture
def shown(screen, request):
    """The screen's page; a failing test leaves a screenshot of it under test-artifacts/."""
    name, page = screen
    yield name, page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"screens-{request.node.name}.png"
        page.screenshot(path=path)
        print(f"screenshot of the page at {page.url}: {path}")


def open_page(page, url: str, ready: str) -> None:
    """Go to `url` and wait until the script has run, `ready` is on the page and the fonts are in."""
    page.goto(url)
    page.locator(ready).first.wait_for()
    page.wait_for_selector("[data-test-script-state='notRunning']")
    page.evaluate("() => document.fonts.ready")


def settle(page, charts: int = 0, grids: int = 0) -> None:
    """Wait for the page's charts and grids to be drawn, and a moment for Plotly to fit them."""
    page.wait_for_function(
        "([charts, grids]) => document.querySelectorAll('[data-testid=stMain] .js-plotly-plot .main-svg').length"
        " >= charts && document.querySelectorAll('[data-testid=stMain] .dvn-scroller').length >= grids",
        arg=[charts, grids],
    )
    page.wait_for_timeout(800)


def cut_off(page) -> list[str]:
    return page.evaluate(CUT_OFF, TEXT) + page.evaluate(GRIDS_CUT_OFF) + page.evaluate(CHARTS_CUT_OFF)


def design_query() -> str:
    return urlencode(to_query(RUNS[1]))


def show_home(page, url):
    open_page(page, url, "text=Images per digit")
    settle(page)


def show_design(page, url):
    open_page(page, f"{url}/design?{design_query()}", "text=Layers, as Keras builds them")
    settle(page, charts=1, grids=2)


def show_train_offer(page, url):
    # The design of a stored run: the page offers that run.
    open_page(page, f"{url}/train?{design_query()}", ".st-key-train_reuse button")
    settle(page)


def show_train_finished(page, url):
    show_train_offer(page, url)
    page.locator(".st-key-train_reuse button").click()
    page.get_by_test_id("stProgress").get_by_text("Finished after").wait_for()
    settle(page, charts=2, grids=1)


def show_weights(page, url):
    open_page(page, f"{url}/weights", "text=Statistics at epoch")
    settle(page, charts=1, grids=1)


def show_weights_units(page, url):
    show_weights(page, url)
    page.get_by_role("tab", name="What each unit looks for").click()
    page.locator(".st-key-weights_inputs_chart_1 .js-plotly-plot").wait_for()
    settle(page, charts=4)  # two halves of the units, two of the deeper layer's inputs


def show_compare(page, url):
    open_page(page, f"{url}/compare", "text=Runs to compare")
    # None is chosen yet (the runs have no owner). The shorter name first: a table kept the column
    # widths of its first rows, and a longer name chosen later was cut off.
    for spec in RUNS:
        page.locator(".st-key-compare_runs input").click()
        page.get_by_role("option").filter(has_text=f"{spec.name} (").first.click()
        page.wait_for_selector("[data-test-script-state='notRunning']")
        settle(page, charts=2, grids=1)
    page.keyboard.press("Escape")
    page.get_by_text("Observations").wait_for()
    settle(page, charts=2, grids=1)


def show_evaluate(page, url):
    open_page(page, f"{url}/evaluate", "text=Mistakes, most confident first")
    settle(page, charts=1, grids=1)


def show_draw(page, url):
    open_page(page, f"{url}/draw", ".st-key-draw_canvas canvas")
    draw_seven(page)
    page.get_by_text("sure").wait_for()
    settle(page, charts=1)


def show_board(page, url):
    open_page(page, f"{url}/board", "text=Class board")
    settle(page, charts=1)


def show_projector(page, url):
    """The projector view (the teacher's, signed in once per screen): the large board and the scatter."""
    open_page(page, f"{url}/teacher", "h1")
    if page.get_by_label("Teacher key").count():
        page.get_by_label("Teacher key").fill(KEY)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="The challenge").wait_for()
    open_page(page, f"{url}/projector", "text=Nothing is training right now")
    settle(page, charts=1)


PAGES = {
    "home": show_home,
    "design": show_design,
    "train-offer": show_train_offer,
    "train-finished": show_train_finished,
    "weights": show_weights,
    "weights-units": show_weights_units,
    "compare": show_compare,
    "evaluate": show_evaluate,
    "draw": show_draw,
    "board": show_board,
    "projector": show_projector,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_nothing_is_cut_off(shown, server, name):
    _screen, page = shown
    PAGES[name](page, server.url)
    problems = cut_off(page)
    assert not problems, "\n".join(problems)


# The 7 of bench.streamlit_server.draw_a_seven (a bar, then a slanted stem), from the canvas's corner.
SEVEN = [(70 + step * 10, 60) for step in range(15)] + [(210 - step * 5, 60 + step * 11) for step in range(18)]


def draw_seven(page) -> None:
    """A 7 drawn on the canvas: with a finger (touch events) on a touch screen, else with the mouse."""
    box = page.locator(".st-key-draw_canvas canvas").last.bounding_box()
    points = [(box["x"] + x, box["y"] + y) for x, y in SEVEN]
    if not page.evaluate("() => navigator.maxTouchPoints > 0"):
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)
        page.mouse.up()
        return
    touch = page.context.new_cdp_session(page)
    for kind, point in [("touchStart", points[0]), *(("touchMove", p) for p in points[1:]), ("touchEnd", None)]:
        touch_points = [] if point is None else [{"x": point[0], "y": point[1]}]
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})
    touch.detach()


UNDO, CLEAR = "[aria-label='Undo']", "[aria-label='Reset canvas & history']"  # the component's toolbar
TOOLBAR = """(selector) => {
    const button = document.querySelector('.st-key-draw_canvas [data-testid=stBidiComponentIsolated]')
        .shadowRoot.querySelector(selector);
    const box = button.getBoundingClientRect();
    let opacity = 1;
    for (let el = button; el; el = el.parentElement || (el.getRootNode() && el.getRootNode().host)) {
        opacity *= parseFloat(getComputedStyle(el).opacity);
    }
    const reached = button.getRootNode().elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return {opacity, top: box.top, bottom: box.bottom, width: box.width, tapped: button.contains(reached)};
}"""


def test_undo_and_clear_show_without_a_hover_above_the_canvas(shown, server):
    name, page = shown
    open_page(page, f"{server.url}/draw", ".st-key-draw_canvas canvas")
    with contextlib.suppress(PlaywrightTimeout):  # the style that shows it comes just after the canvas
        page.wait_for_function(f'() => ({TOOLBAR})("{UNDO}").opacity === 1', timeout=patience(10_000))
    canvas = page.locator(".st-key-draw_canvas canvas").last.bounding_box()
    label = page.get_by_text("Draw here").bounding_box()
    for button in (UNDO, CLEAR):
        seen = page.evaluate(TOOLBAR, button)
        assert seen["opacity"] == 1 and seen["tapped"], (button, seen)  # shown without a hover, and a tap reaches it
        # Between the label and the canvas: it covers neither, and a stroke's first touch never lands on it.
        assert label["y"] + label["height"] <= seen["top"] and seen["bottom"] <= canvas["y"], (button, seen)
        assert seen["width"] >= (32 if name == "phone" else 20), (button, seen)  # a finger's size on the phone


@pytest.mark.parametrize("screen", ["phone"], indirect=True)
def test_on_a_phone_the_answer_is_on_screen_after_a_stroke_and_clear_clears(shown, server):
    _name, page = shown
    open_page(page, f"{server.url}/draw", ".st-key-draw_canvas canvas")
    scrolled = "() => document.querySelector('[data-testid=stMain]').scrollTop"
    assert page.evaluate(scrolled) == 0
    draw_seven(page)  # with a finger
    page.get_by_text("sure").wait_for()
    assert page.evaluate(scrolled) == 0  # the stroke drew; it did not scroll the page
    height = page.viewport_size["height"]
    for part in (page.locator(".st-key-draw_answer [data-testid=stMarkdownContainer]").first, page.get_by_text("sure")):
        box = part.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box  # on the screen without scrolling
    page.locator(f".st-key-draw_canvas {CLEAR}").tap()  # the bin, tapped, clears the drawing: the answer goes
    page.get_by_text("Draw a digit and the model's answer appears here.").wait_for()
