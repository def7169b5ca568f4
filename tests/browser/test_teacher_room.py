"""The teacher's room in a real browser: a teacher and two students, each in a browser context of their own.

The students give their names and train; one adds three drawn digits to the class set. The
teacher signs in, sets a challenge, fixes the epochs, sends a design to the class and cancels a
student's job; the students see each of these; the projector view shows both students on the
board and the scatter. On the real MNIST, against `streamlit run` on 127.0.0.1.
"""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from bench.streamlit_server import draw_a_seven
from tests.browser.support import patience, start_server

KEY = "a key for the class"
SMALL = "layers=16:relu:0:none&epochs=1&batch_size=256"


@pytest.fixture(scope="module")
def server(mnist_path, tmp_path_factory):
    home, log = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("log")
    with start_server(home, mnist_path, log, env={"MNIST_DASH_TEACHER_KEY": KEY}) as server:
        yield server


def idle(page) -> None:
    page.wait_for_selector("[data-test-script-state='notRunning']")


def train(page, url: str, student: str) -> None:
    """The student types their name under "Your name" in the sidebar, then trains a small design."""
    page.goto(f"{url}/train?{SMALL}&name={student.lower()}-net")
    name = page.get_by_role("textbox", name="Your name")
    name.fill(student)
    name.press("Enter")
    page.get_by_text("type this claim code to use your name there").wait_for()  # this browser holds the name now
    assert "me=" not in page.url.replace("name=", "")  # and the link never carries it
    page.locator(".st-key-train_start button").click()
    page.get_by_test_id("stProgress").get_by_text("Finished after").wait_for(timeout=patience(120_000))


def test_a_teacher_and_two_students(new_page, server):
    ada, bo, teacher = new_page(server), new_page(server), new_page(server)
    url = server.url
    train(ada, url, "Ada")
    train(bo, url, "Bo")

    ada.goto(f"{url}/draw?me=Ada")
    draw_a_seven(ada)
    for added in (1, 2, 3):
        ada.get_by_text("which digit did you mean?").first.wait_for(  # a rerun may show its old copy too
            timeout=patience(60_000)
        )
        ada.locator("[data-testid='stButtonGroup'] button").filter(has_text="7").first.click()
        ada.get_by_text(f"the class set has {added} digit").wait_for(timeout=patience(30_000))

    teacher.goto(f"{url}/teacher")
    teacher.get_by_label("Teacher key").fill(KEY)
    teacher.get_by_role("button", name="Sign in").click()
    teacher.get_by_role("button", name="Set the challenge").click()  # at most 100,000 parameters, the default
    teacher.get_by_text("Now: best test accuracy, with at most 100,000 parameters").wait_for()
    # The radio group's own option: during a rerun on a busy machine the old copy of the page is there too.
    teacher.get_by_role("radiogroup", name="Lock").get_by_text("these settings fixed, to my design's values").click()
    teacher.get_by_role("combobox", name="Settings to fix").click()
    teacher.get_by_role("option").filter(has_text="epochs = ").first.click()
    teacher.keyboard.press("Escape")
    teacher.get_by_role("button", name="Apply the lock").click()
    teacher.get_by_text("Now: these settings fixed").wait_for()
    teacher.get_by_role("button", name="Send my current design").click()
    teacher.get_by_text("Sent: each student's Design page offers it once.").wait_for()

    # Bo starts a long job; the teacher cancels it from the queue.
    bo.goto(f"{url}/train?me=Bo&layers=512:relu:0.2:none,512:relu:0.2:none&epochs=20&name=long")
    bo.locator(".st-key-train_start button").click()
    bo.get_by_role("button", name="Stop").wait_for()
    teacher.get_by_role("button", name="Cancel").first.click()  # the queue redraws itself: no reload
    # The callout (the live status line for screen readers says it too, once the job had trained a batch).
    bo.get_by_test_id("stAlertContentInfo").get_by_text("Your teacher cancelled it").wait_for(timeout=patience(60_000))

    ada.goto(f"{url}/design?me=Ada")
    ada.get_by_text("Your teacher sent a design").wait_for()
    ada.get_by_text("Inside the challenge").or_(ada.get_by_text("Beyond the challenge")).first.wait_for()
    epochs = ada.get_by_role("spinbutton", name="Epochs")
    expect(epochs).to_be_disabled()

    # On the class board, Ada clicks Bo's dot and tries his design.
    ada.goto(f"{url}/board?me=Ada")
    dots = ada.locator(".st-key-board_scatter .scatterlayer .trace .point")
    dots.first.wait_for(timeout=patience(30_000))
    for index in range(dots.count()):
        dots.nth(index).click(force=True)
        picked = ada.locator(".st-key-board_picked")
        try:
            picked.wait_for(timeout=patience(5_000))
        except PlaywrightTimeout:
            continue
        if "bo-net" in picked.inner_text():
            break
    expect(ada.locator(".st-key-board_picked")).to_contain_text("bo-net by Bo")
    ada.get_by_role("button", name="Try this one").click()
    ada.get_by_role("heading", name="Design a network").wait_for()
    expect(ada.locator("[data-testid='stSidebar']")).to_contain_text("bo-net")

    teacher.get_by_role("link", name="Projector").click()  # in the menu, for the teacher only
    board = teacher.locator(".projector-board")
    board.wait_for(timeout=patience(30_000))
    expect(board).to_contain_text("Ada")
    expect(board).to_contain_text("Bo")
    teacher.locator(".st-key-projector_scatter .js-plotly-plot").wait_for()
