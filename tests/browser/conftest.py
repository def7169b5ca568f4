"""Browser fixtures: `streamlit run` on 127.0.0.1 and Debian's Chromium driven by Playwright.

A failing test leaves, under test-artifacts/ (the folder is printed), a screenshot, the
page's HTML, its visible text and the server's log; the text and the log's tail are
also printed, so CI's output alone says what the page showed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from bench.streamlit_server import launch_chromium
from tests.browser.support import Server, patience, trained_home

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
expect.set_options(timeout=patience(10_000))  # Playwright's own 5 s, for a quiet machine only


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def _save_failure(page, server: Server | None, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    (ARTIFACTS / f"{name}.html").write_text(page.content())
    text = page.locator("body").inner_text(timeout=patience(5_000))
    (ARTIFACTS / f"{name}.txt").write_text(text)
    print(f"browser artifacts for {name} in {ARTIFACTS}: .png, .html, .txt (page at {page.url})")
    print("---- what the page showed ----\n" + text[:3000])
    if server is not None:
        (ARTIFACTS / f"{name}.server.log").write_text(server.log_path.read_text(errors="replace"))
        print("---- the server's log (tail) ----\n" + server.log_tail())


@pytest.fixture(scope="module")
def trained_server(mnist_path, tmp_path_factory):
    """A server over a store holding notebook-2-hidden trained for one epoch on the real MNIST."""
    from tests.browser.support import start_server

    home = trained_home(mnist_path, tmp_path_factory)
    with start_server(home, mnist_path, tmp_path_factory.mktemp("log")) as server:
        yield server


@pytest.fixture
def page(new_page, server):
    """A fresh page (its own browser context) for the test module's `server` fixture."""
    return new_page(server)


@pytest.fixture
def new_page(chromium, request):
    """A function making fresh pages (own browser context each) for `server`; failures leave artifacts."""
    opened = []

    def make(server: Server):
        context = chromium.new_context(viewport={"width": 1366, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(patience(30_000))
        opened.append((context, page, server))
        return page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, (context, page, server) in enumerate(opened):
        if failed:
            _save_failure(page, server, request.node.name + (f"-{index}" if index else ""))
        context.close()
