"""The teacher sees the class think, in a real browser: what the class tried, the digits wall, and a replay.

A store made beforehand (three students' runs, six class digits from the real MNIST's test set, and
a run of a small design with slow recorded epochs), served with a teacher key and in replay mode
(MNIST_DASH_REPLAY=1). The teacher reads the findings with who; clicks a digit on the wall and reads
what each student's best model answered; a student on Train replays the stored run, labelled as a replay.
"""

import re
import zipfile

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.support import patience, settle, start_server

KEY = "a key for the class"
WALL = ".st-key-wall_board .js-plotly-plot"
REPLAYED = {"layers": "8:relu:0:none", "epochs": "3"}


@pytest.fixture(scope="module")
def server(mnist_path, tmp_path_factory):
    from mnist_dash.data import load_mnist
    from mnist_dash.owners import named
    from mnist_dash.presets import DEFAULT_PRESET, PRESETS
    from mnist_dash.runs import RunStore
    from mnist_dash.share import read_link
    from mnist_dash.spec import LayerSpec, ModelSpec
    from tests.support import fake_run, save_fake

    home, log = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("log")
    store = RunStore(home)
    for name, dropout, accuracy in (("Ann", 0.5, 0.95), ("Ann", 0.5, 0.951), ("Bo", 0.6, 0.952), ("Cy", 0, 0.97)):
        spec = ModelSpec(layers=(LayerSpec(8, dropout=dropout),), epochs=2, name=f"{name.lower()}-net")
        save_fake(store, spec, owner=named(name), test_accuracy=accuracy, seed=len(name) + int(accuracy * 1000))
    save_fake(store, ModelSpec(layers=(LayerSpec(8, "tanh"),), epochs=2), owner=named("Cy"), test_accuracy=0.975)
    spec, _ = read_link(REPLAYED, base=PRESETS[DEFAULT_PRESET])
    made = fake_run(spec.replace(name="Di's slow one"))
    for epoch in made["history"]:
        epoch["seconds"] = 4.0  # 12 s recorded: long enough to watch it stream
    store.save(
        spec=spec.replace(name="Di's slow one"),
        status="finished",
        owner=named("Di"),
        test_loss=0.3,
        test_accuracy=0.93,
        **made,
    )
    test = load_mnist(mnist_path).x_test
    for index in range(6):
        store.digits.add(np.asarray(test[index]), int(index % 10), named("Cy"))
    env = {"MNIST_DASH_TEACHER_KEY": KEY, "MNIST_DASH_REPLAY": "1"}
    with start_server(home, mnist_path, log, env=env) as server:
        yield server


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/teacher")
    page.get_by_label("Teacher key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="What the class tried").wait_for(timeout=patience(60_000))


def choose_window(page, window: str) -> None:
    """Choose the lesson's window in "This lesson is", once the page has settled (again, if a run closed the list:
    a run that starts once the widgets have mounted redraws the picker)."""
    picker = page.get_by_role("combobox", name=re.compile("^This lesson is"))
    for _ in range(3):
        settle(page)
        picker.click()
        try:
            page.get_by_role("option", name=window, exact=True).click(timeout=patience(10_000))
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    expect(picker).to_have_value(window, timeout=patience(30_000))


def test_the_teacher_reads_what_the_class_tried_with_who(page, server):
    sign_in(page, server.url)
    # The store was filled as the module began: "the last hour", not "today" (from midnight), holds it at 00:00 too.
    choose_window(page, "the last hour")
    finding = page.get_by_text("The most common choice that did not help: dropout ≥ 0.5 (3 runs).")
    finding.wait_for(timeout=patience(30_000))
    assert "Tried by Ann, Bo." in finding.inner_text()
    page.get_by_text("Who is stuck").wait_for()
    page.get_by_text("4 students this lesson").wait_for()


def test_a_click_on_the_wall_shows_what_each_students_model_answered(page, server):
    sign_in(page, server.url)
    page.goto(f"{server.url}/wall")
    page.get_by_text("6 class digits against 4 students' best models.").first.wait_for(timeout=patience(60_000))
    page.locator(WALL).wait_for()
    picker = page.get_by_role("combobox", name=re.compile("^The digit to look at"))
    first = picker.input_value()
    x, y, said = page.evaluate(
        """(selector) => {
            const plot = document.querySelector(selector), box = plot.getBoundingClientRect();
            const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis, tiles = plot.data[2];
            return [box.left + xa._offset + xa.l2p(tiles.x[3]), box.top + ya._offset + ya.l2p(tiles.y[3]),
                    tiles.hovertext[3]];
        }""",
        WALL,
    )
    page.mouse.click(x, y)  # the fourth tile
    label, wrong = said.removeprefix("a ").split(": read wrongly by ")
    expected = f"a {label}, wrong for {wrong.split(' of ')[0]}"
    expect(picker).to_have_value(re.compile(re.escape(expected)), timeout=patience(30_000))  # the click chose it
    assert expected not in first
    page.get_by_text(f"handwritten digit {label}").first.wait_for(timeout=patience(30_000))


def test_in_replay_mode_a_student_replays_a_stored_run_labelled_as_a_replay(page, server):
    query = "&".join(f"{key}={value}" for key, value in REPLAYED.items())
    page.goto(f"{server.url}/train?{query}")
    refusal = page.get_by_test_id("stAlertContentWarning").get_by_text("it replays stored runs (MNIST_DASH_REPLAY=1)")
    refusal.wait_for(timeout=patience(60_000))  # the warning itself: the live region says it too
    assert page.locator(".st-key-train_start button").is_disabled()
    page.get_by_role("button", name="Replay", exact=True).click()
    page.get_by_text("a replay of Di's run of").first.wait_for(timeout=patience(30_000))
    progress = page.get_by_test_id("stProgress")
    progress.get_by_text("Replaying epoch").wait_for(timeout=patience(30_000))
    progress.get_by_text("Finished after 3 of 3 epochs").wait_for(timeout=patience(60_000))
    assert page.get_by_text("Nothing is training").count() >= 1
    assert page.get_by_text("Saved as run").count() == 0


def upload(page, uploader, path) -> None:
    """Put `path` in the uploader and wait until the page has it (its name shown, the rerun it causes over): on a
    busy machine a press of Import before that went to the file before it."""
    uploader.set_input_files(str(path))
    shown = path.name[-9:]  # the uploader shortens a long name in its middle: "mnist_d...-12-04.zip"
    page.locator(".st-key-teacher_lesson_upload").get_by_text(shown).wait_for(timeout=patience(60_000))
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=patience(60_000), polling=200
    )


def test_the_teacher_downloads_the_lesson_and_imports_it_back_and_a_foreign_file_is_refused(page, server, tmp_path):
    sign_in(page, server.url)
    page.get_by_role("heading", name="The lesson as a file").scroll_into_view_if_needed()
    with page.expect_download(timeout=patience(60_000)) as downloading:
        page.get_by_role("button", name="Download the lesson file").click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    assert saved.name.startswith("mnist_dash-lesson-") and saved.suffix == ".zip"
    uploader = page.locator(".st-key-teacher_lesson_upload input[type=file]")
    upload(page, uploader, saved)
    page.get_by_role("button", name="Import it").click()
    # Today's runs (all six, unless the test meets midnight) are all here already: nothing is added twice.
    said = page.get_by_text(re.compile(r"0 runs added(; [1-6] already here)?; 0 class digits added; no challenge"))
    said.first.wait_for(timeout=patience(60_000))
    foreign = tmp_path / "holiday.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("photo.txt", "not a lesson")
    upload(page, uploader, foreign)
    page.get_by_role("button", name="Import it").click()
    page.get_by_text("was not imported").first.wait_for(timeout=patience(60_000))
    assert page.get_by_text("it has no lesson.json: it is not a whole lesson file").count() >= 1
