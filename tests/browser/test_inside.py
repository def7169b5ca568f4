"""Inside the network in a real browser: Design's Keras code copied, Weights following a job as it trains.

A server over an empty store and the real MNIST. The clipboard is Chromium's own (the
page is granted its permissions), read back after a click on the code block's copy button.
"""

import re

import pytest

from tests.browser.support import patience, start_server

DESIGN = "layers=48:tanh:0.2:before,16:relu:0:after&epochs=4&batch_size=64&optimizer=sgd&name=inside"
SLOW = "layers=256:relu:0:none&epochs=3&batch_size=16&name=slow"  # seconds an epoch: time to watch it


@pytest.fixture(scope="module")
def server(mnist_path, tmp_path_factory):
    with start_server(tmp_path_factory.mktemp("home"), mnist_path, tmp_path_factory.mktemp("log")) as server:
        yield server


@pytest.fixture
def page(new_page, server):
    page = new_page(server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    return page


def test_designs_keras_code_is_copied_whole(page, server):
    page.goto(f"{server.url}/design?{DESIGN}")
    page.get_by_text("This design as Keras code").click()
    block = page.locator("[data-testid='stCode']").first
    block.hover()  # the copy button shows on hover
    page.get_by_role("button", name="Copy to clipboard").first.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.strip() == block.locator("code").inner_text().strip()  # the whole script, as shown
    assert "model = keras.Sequential(" in copied and "model.fit(" in copied
    for part in ('name="hidden_1"', "keras.layers.Dense(48", "keras.optimizers.SGD(", "epochs=4", "batch_size=64"):
        assert part in copied, part


def statistics_epoch(page) -> int:
    heading = page.get_by_text(re.compile(r"^Statistics at epoch \d+")).first.inner_text()
    return int(re.search(r"\d+", heading).group())


def test_weights_follow_the_job_epoch_by_epoch_without_a_reload(page, server):
    page.goto(f"{server.url}/train?{SLOW}")
    page.locator(".st-key-train_start button").click()
    page.locator(".st-key-train_stop button:enabled").wait_for(timeout=patience(60_000))
    page.get_by_role("link", name="Weights").click()
    page.get_by_text("Your job is training").wait_for(timeout=patience(30_000))
    seen = {statistics_epoch(page)}
    # The page is never reloaded: each finished epoch's snapshot joins and the slider follows the newest.
    for _ in range(240):
        seen.add(statistics_epoch(page))
        if max(seen) >= 2 and len(seen) >= 2:
            break
        page.wait_for_timeout(500)
    assert max(seen) >= 2 and len(seen) >= 2, f"the epochs shown while training: {sorted(seen)}"
    # Once it is done the page shows the stored run, all three epochs.
    page.get_by_text("Statistics at epoch 3").wait_for(timeout=patience(120_000))
    page.get_by_text("Your job is training").wait_for(state="detached", timeout=patience(30_000))
