"""axe-core on every page, as a student and as the signed-in teacher, at a laptop's and a phone's width.

WCAG 2.0 and 2.1, levels A and AA (axe's tags wcag2a, wcag2aa, wcag21a, wcag21aa), with a trained
run in the store, the Train page showing it and the Draw page answering a drawing. A serious or
critical violation fails the test unless tests/browser/axe_baseline.json lists it as Streamlit's or
Plotly's own, with its upstream issue; an entry that no page meets any more fails it too, so the
baseline only ever shrinks. axe-core comes inside the axe-playwright-python package: nothing is
downloaded.
"""

import json
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from bench.streamlit_server import draw_a_seven
from scripts.axe_report import KEY, STUDENT_PAGES, TAGS, TEACHER_ONLY, TRAINED, WIDTHS
from tests.browser.support import patience, settle, start_server, trained_home

BASELINE = json.loads((Path(__file__).with_name("axe_baseline.json")).read_text())
TEACHER_PAGES = [*STUDENT_PAGES, *TEACHER_ONLY]


@pytest.fixture(scope="module")
def server(mnist_path, tmp_path_factory):
    """A server with a teacher key, over a store holding notebook-2-hidden trained for one epoch and four class
    digits (the wall)."""
    from mnist_dash.data import load_mnist
    from mnist_dash.owners import named
    from mnist_dash.runs import RunStore

    home = trained_home(mnist_path, tmp_path_factory)
    test = load_mnist(mnist_path)
    for index in range(4):
        RunStore(home).digits.add(test.x_test[index], int(test.y_test[index]), named("Ada"))
    env = {"MNIST_DASH_TEACHER_KEY": KEY}
    with start_server(home, mnist_path, tmp_path_factory.mktemp("log"), env=env) as running:
        yield running


FOLDED = "() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right <= 0"


def open_page(page, url: str, name: str) -> None:
    """Go to the page, in the state a student works in: the trained run on Train, a drawing on Draw."""
    page.goto(f"{url}/{name}?{TRAINED}" if name == "train" else f"{url}/{name}")
    settle(page)
    if name == "train":
        page.get_by_role("button", name="Use the finished run").click()
        page.locator(".st-key-train_loss_chart .js-plotly-plot").wait_for(timeout=patience(30_000))
        settle(page)
    if name == "draw":
        draw_a_seven(page)
        page.get_by_text("What makes it a").first.wait_for(timeout=patience(60_000))
        settle(page)


# Whether a script run began while axe scanned (Streamlit's running indicator appeared): a fragment's timer can
# start one after the page settled, and the scan would then read the indicator's own Stop button, not the page.
WATCH_RUNS = """() => {
    window.__ranDuringScan = false;
    window.__runWatch?.disconnect();
    window.__runWatch = new MutationObserver(() => {
        if (document.querySelector('[data-testid=stStatusWidget]')) window.__ranDuringScan = true;
    });
    window.__runWatch.observe(document.body, {childList: true, subtree: true});
}"""


def scan(axe: Axe, page, options: dict) -> list[dict]:
    """axe's violations on a settled page; scanned again (up to 3 times) when a script run began during the scan."""
    for _ in range(3):
        page.evaluate(WATCH_RUNS)
        violations = axe.run(page, options=options).response["violations"]
        if not page.evaluate("() => window.__ranDuringScan"):
            break
        settle(page)
    return violations


def known(rule: str, target: str) -> int | None:
    """The baseline entry this violation is, by its index; None when it is new."""
    return next(
        (i for i, entry in enumerate(BASELINE["entries"]) if entry["rule"] == rule and entry["target"] in target),
        None,
    )


def test_the_baseline_lists_only_streamlits_and_plotlys_own_with_their_issues():
    entries = BASELINE["entries"]
    assert len(entries) <= BASELINE["most"]  # it may only shrink
    for entry in entries:
        assert entry["cause"] in ("streamlit", "plotly") and entry["upstream"].startswith("https://github.com/")
        assert entry["rule"] and entry["target"] and entry["why"]


def test_every_page_for_a_student_and_a_teacher_at_two_widths_has_no_serious_violation(server, new_page):
    axe, new, met = Axe(), [], set()
    for role, pages in (("student", STUDENT_PAGES), ("teacher", TEACHER_PAGES)):
        page = new_page(server)
        if role == "teacher":
            page.goto(f"{server.url}/teacher")
            page.get_by_label("Teacher key").fill(KEY)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("button", name="Sign out").wait_for(timeout=patience(30_000))
        for name in pages:
            # Each page is opened once at a laptop's width and scanned, then shrunk to a phone's and scanned
            # again: Streamlit folds its sidebar and Plotly redraws its charts on a resize, as on a phone.
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                if width == WIDTHS[0]:
                    open_page(page, server.url, name)
                else:  # folded away, as when a phone opens the page
                    page.wait_for_function(FOLDED, timeout=patience(10_000), polling=100)
                    settle(page)
                options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
                for violation in scan(axe, page, options):
                    if violation["impact"] not in ("serious", "critical"):
                        continue
                    for node in violation["nodes"]:
                        target = " ".join(map(str, node["target"]))
                        index = known(violation["id"], target)
                        if index is None:
                            new.append(f"{role} /{name} at {width} px: {violation['id']} on {node['html'][:160]}")
                        else:
                            met.add(index)
    assert not new, "new accessibility violations (fix them, or list Streamlit's own in the baseline):\n" + "\n".join(
        new
    )
    stale = [entry for i, entry in enumerate(BASELINE["entries"]) if i not in met]
    assert not stale, f"baseline entries no page meets any more: remove them and lower `most`: {stale}"
