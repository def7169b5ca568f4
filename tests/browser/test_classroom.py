"""A classroom's server in a real browser: names are text everywhere, a reload finds the student's job.

Debian's Chromium (headless) against `streamlit run` on 127.0.0.1, real MNIST. A design
named with markdown, HTML and Plotly markup must read as those characters on every page
that shows it (header, sidebar, Compare's legend, table and observations), and never
become a link or an image.
"""

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from mnist_dash import owners
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.browser.support import patience, start_server

EVIL = "[Log in](https://e.invalid) ![](https://e.invalid/t.png) <b>x</b> :red[y]"
EVIL_OWNER = "[me](https://e.invalid)"


@pytest.fixture(scope="module")
def server(mnist_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    data = load_mnist(mnist_path)
    for name, owner in ((EVIL, EVIL_OWNER), ("plain", EVIL_OWNER), ("ada's first", "Ada")):
        spec = ModelSpec(layers=(LayerSpec(16),), epochs=1, batch_size=256, name=name)
        job = TrainingJob(spec, data, store=RunStore(home), queue=JobQueue(1), owner=owners.named(owner))
        assert job.start().wait().run_id
    with start_server(home, mnist_path, tmp_path_factory.mktemp("log")) as server:
        yield server


def visible_text(page, locator: str = "body") -> str:
    """What a reader sees: the invisible word joiners `mnist_dash.text.md` puts after `:` and `@` removed."""
    return page.locator(locator).first.inner_text().replace("\u2060", "")


def assert_no_markup_from_names(page) -> None:
    assert page.locator("a[href*='e.invalid']").count() == 0, "a name became a link"
    assert page.locator("img[src*='e.invalid']").count() == 0, "a name became an image"


def test_names_with_markup_read_as_text_on_train_and_compare(page, server):
    query = {"layers": "16:relu:0:none", "epochs": "1", "name": EVIL, "me": EVIL_OWNER}
    page.goto(f"{server.url}/train?{urlencode(query)}")
    page.get_by_role("heading", name="Train").wait_for()
    page.get_by_text("784 → 16 relu → 10 · 1 epoch,").wait_for()
    assert f"{EVIL}: 784 → 16 relu → 10" in visible_text(page)  # the header, character for character
    expect(page.get_by_role("textbox", name="Your name")).to_have_value(EVIL_OWNER)
    assert_no_markup_from_names(page)
    page.get_by_role("link", name="Compare", exact=True).click()
    page.get_by_role("heading", name="Observations").wait_for(
        timeout=patience(60_000)
    )  # the owner's runs, pre-selected
    legend = page.locator(".st-key-compare_loss .legend").first.text_content()
    assert "<b>x</b>" in legend and "[Log in](https://e.invalid)" in legend
    assert f"{EVIL} (" in visible_text(page, "[data-testid='stMain']")  # the observations name it as text
    assert_no_markup_from_names(page)


@pytest.mark.parametrize("me", [{"me": "rosa"}, {}], ids=["named", "anonymous"])
def test_a_reload_finds_the_running_job_with_its_curves_and_stop(page, server, me):
    # Anonymous, the browser is the owner: the cookie Streamlit sets once per browser survives the reload.
    # 30 epochs (the most a server allows): ten could end, on a fast day, before the reload's Stop. Stopped anyway.
    query = {"layers": "64:relu:0:none", "epochs": "30", "batch_size": "32", "name": "reload me"} | me
    page.goto(f"{server.url}/train?{urlencode(query)}")
    page.locator(".st-key-train_start button").click()
    page.locator(".st-key-train_stop button:enabled").wait_for(timeout=patience(60_000))
    page.reload()  # the session is new; the owner (the name in the link) is the same
    page.get_by_role("heading", name="Train").wait_for()
    page.locator(".st-key-train_stop button:enabled").wait_for(timeout=patience(30_000))
    assert page.locator(".st-key-train_start button").is_disabled()
    page.get_by_text("reload me").first.wait_for()
    page.locator(".st-key-train_loss_chart .js-plotly-plot").first.wait_for(timeout=patience(60_000))
    page.locator(".st-key-train_stop button").click()
    page.get_by_test_id("stProgress").get_by_text(re.compile(r"^Stopped after")).wait_for(timeout=patience(60_000))


def test_a_classmate_typing_a_students_name_in_another_browser_cannot_act_for_them(new_page, server):
    ada, mallory = new_page(server), new_page(server)  # two browsers (contexts: their own cookies)
    query = {"layers": "64:relu:0:none", "epochs": "30", "batch_size": "32", "name": "ada's long job", "me": "Ada"}
    ada.goto(f"{server.url}/train?{urlencode(query)}")
    ada.locator(".st-key-train_start button").click()
    ada.locator(".st-key-train_stop button:enabled").wait_for(timeout=patience(60_000))
    assert "me" not in parse_qs(urlsplit(ada.url).query)  # the link Ada would share no longer names her
    mallory.goto(f"{server.url}/train?me=Ada")  # a link carrying her name, as the review opened it
    mallory.get_by_text("is in use on another device").first.wait_for()
    name_field = mallory.get_by_role("textbox", name="Your name")
    name_field.fill("ada")
    name_field.press("Enter")
    mallory.get_by_role("textbox", name="Claim code for ada").wait_for()
    assert name_field.input_value() == "ada" and mallory.get_by_text(re.compile("^You are anonymous")).is_visible()
    assert mallory.locator(".st-key-train_stop button").is_disabled()  # Ada's job is not Mallory's to stop
    mallory.get_by_role("link", name="Compare", exact=True).click()
    mallory.get_by_role("heading", name="Compare").wait_for()
    mallory.get_by_text("Choose runs to compare").wait_for()  # none of Ada's runs offered as Mallory's own
    assert "ada's first" not in visible_text(mallory, ".st-key-compare_runs")
    assert ada.locator(".st-key-train_stop button").is_enabled()  # Ada's job trains on
    ada.locator(".st-key-train_stop button").click()
    ada.get_by_test_id("stProgress").get_by_text(re.compile(r"^Stopped after")).wait_for(timeout=patience(60_000))


def test_the_terminal_that_started_the_app_stays_quiet(server):
    # The tests above had the app start its training worker; spawning it once ran the whole app
    # script in it, without a page, and printed dozens of these warnings.
    assert "missing ScriptRunContext" not in server.log_path.read_text(errors="replace")
