"""AppTest tests of what a shared classroom server needs: owners, their limits, the result cache, names as text."""

import functools
import re
import threading
import time

import pytest

from mnist_dash import owners
from mnist_dash.jobs import JobStatus
from mnist_dash.jobs import queue as queue_module
from mnist_dash.jobs.cache import CachedRun
from mnist_dash.runs import RunStore
from mnist_dash.ui import resources, state
from tests.patience import patience
from tests.support import (
    TEST_OWNER,
    TINY_QUERY,
    Clock,
    Stand,
    hold_the_slot,
    open_page,
    orphan,
    read,
    rerun_fragment,
    store_a_run,
    texts,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


def train_on_the_train_page(query=TINY_QUERY):
    app = open_page("train", query)
    app.button(key="train_start").click().run()
    snap = app.session_state[state.JOB_KEY].wait(timeout=patience(120))
    assert snap.status == JobStatus.FINISHED, snap.error
    return snap


def test_a_finished_jobs_results_say_which_design_they_are_and_a_deleted_run_is_no_longer_saved():
    app = open_page("train", TINY_QUERY)
    app.button(key="train_start").click().run()
    snap = app.session_state[state.JOB_KEY].wait(timeout=patience(120))
    app.session_state[state.DESIGN_KEY] = app.session_state[state.DESIGN_KEY] | {"name": "next idea", "epochs": 3}
    app.run()  # the student edited the design meanwhile: the header is what Start trains, the results the job's
    assert "**next idea**:" in app.markdown[0].value or any("**next idea**:" in m.value for m in app.markdown)
    assert "**Your last job**, tiny:" in texts(app.markdown) and "Start trains the design above." in texts(app.markdown)
    assert f"Saved as run `{snap.run_id}`." in texts(app.caption)
    RunStore().delete(snap.run_id)  # the teacher deleted it
    app.run()
    assert "This run has since been deleted from the store." in texts(app.caption)
    assert f"Saved as run `{snap.run_id}`." not in texts(app.caption) and not app.get("download_button")


def test_the_same_design_seed_and_data_offers_the_finished_run():
    first = train_on_the_train_page()
    student = open_page("train", TINY_QUERY | {"name": "another name", "me": "bea"})  # the name does not matter
    assert "This exact design was trained before" in texts(student.info)
    assert not student.button(key="train_start").disabled  # training again stays possible
    student.button(key="train_reuse").click().run()
    reused = student.session_state[state.JOB_KEY]
    assert isinstance(reused, CachedRun) and reused.snapshot().run_id == first.run_id
    assert "Test accuracy" in " ".join(str(code.value) for code in student.code)
    assert "This exact design was trained before" not in texts(student.info)
    assert not student.exception
    # The Weights page takes it as the session's current run.
    student.switch_page("app_pages/weights.py").run()
    assert student.selectbox(key="weights_run").value.run_id == first.run_id


def test_another_seed_is_another_design():
    train_on_the_train_page()
    student = open_page("train", TINY_QUERY | {"seed": "7"})
    assert "trained before" not in texts(student.info)


def test_design_beyond_the_servers_caps_is_explained_and_cannot_train(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_EPOCHS", "5")
    app = open_page("design", TINY_QUERY | {"epochs": "10"})
    errors = texts(app.error)
    assert "at most 5 epochs" in errors and "MNIST_DASH_MAX_EPOCHS" in errors
    assert app.button(key="design_train").disabled
    app.switch_page("app_pages/train.py").run()
    assert "at most 5 epochs" in texts(app.warning) and app.button(key="train_start").disabled


def test_a_bad_limit_setting_is_reported_and_the_defaults_apply(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_EPOCHS", "lots")
    app = open_page("design", TINY_QUERY)
    assert "MNIST_DASH_MAX_EPOCHS must be a whole number" in texts(app.error)
    assert not app.button(key="design_train").disabled


def test_a_name_from_the_link_or_the_field_is_claimed_by_the_device_and_never_kept_in_the_link():
    app = open_page("train", {"me": "  Ada  Lovelace "}, device="ada")
    assert app.text_input(key="owner_name").value == "Ada Lovelace"
    assert "me" not in app.query_params  # a link the student shares never carries their name
    assert re.search(r"claim code to use your name there: `[a-z]+-[a-z]+-[a-z]+`", texts(app.caption))
    reloaded = open_page("train", device="ada")  # the same browser, no name in its link: still Ada
    assert reloaded.text_input(key="owner_name").value == "Ada Lovelace"
    anonymous = open_page("train", device="bea")
    assert "You are anonymous" in texts(anonymous.caption).replace("**", "")
    anonymous.text_input(key="owner_name").input("Bea").run()
    assert "me" not in anonymous.query_params and anonymous.text_input(key="owner_name").value == "Bea"
    assert open_page("design", device="bea").text_input(key="owner_name").value == "Bea"
    too_long = open_page("train", {"me": "x" * 30})  # the field allows 24 characters; a link can say more
    assert "The name in the link is not usable" in texts(too_long.warning) and "use at most 24" in texts(
        too_long.warning
    )


def test_a_signed_in_user_needs_no_claim_and_claims_nothing():
    open_page("train", {"me": "ada"}, device="ada-phone")  # a student named ada holds the name
    user = {"email": "ada@school.example", "is_logged_in": True}
    app = open_page("train", {"me": "ada"}, user=user, device="staff-laptop")
    assert "ada@school.example" in texts(app.markdown) and "(signed in)" in texts(app.markdown)
    assert not app.warning and [claim.owner.name for claim in RunStore().claims.everyone()] == ["ada"]


def test_a_link_naming_someone_else_never_replaces_the_name_a_device_holds():
    open_page("train", {"me": "Ada"}, device="ada")
    shared = open_page("design", {"me": "Bo", "layers": "16:relu:0:none"}, device="ada")  # Bo's old link
    assert shared.text_input(key="owner_name").value == "Ada"
    assert "this device holds the name Ada, so you stay Ada" in texts(shared.warning)
    assert [claim.owner.name for claim in RunStore().claims.everyone()] == ["Ada"]


def test_a_classmate_typing_a_held_name_is_refused_and_cannot_act_for_its_holder_until_the_code():
    holder = hold_the_slot()
    try:
        ada = open_page("design", TINY_QUERY | {"epochs": "30", "batch_size": "32", "me": "ada"}, device="ada")
        ada.switch_page("app_pages/train.py").run()
        ada.button(key="train_start").click().run()
        job = ada.session_state[state.JOB_KEY]
        code = re.search(r"`([a-z]+-[a-z]+-[a-z]+)`", texts(ada.caption)).group(1)
        mallory = open_page("train", {"me": "Ada"}, device="mallory")  # a link with her name, on another device
        assert "the name ada is in use on another device" in texts(mallory.warning)
        assert state.JOB_KEY not in mallory.session_state and mallory.button(key="train_stop").disabled
        mallory.text_input(key="owner_name").input("АDA").run()  # typed, with a Cyrillic А: the same name
        assert "in use on another device" in texts(mallory.warning)
        assert mallory.text_input(key="owner_claim_code") is not None
        mallory.text_input(key="owner_claim_code").input("maple-otter-prism").run()
        assert "not АDA's claim code" in texts(mallory.warning) or "not ADA's claim code" in texts(mallory.warning)
        assert state.JOB_KEY not in mallory.session_state and job.snapshot().status is not JobStatus.STOPPED
        laptop = open_page("train", {"me": "Ada"}, device="ada-laptop")  # Ada's own second device, with the code
        laptop.text_input(key="owner_claim_code").input(code.upper()).run()
        assert laptop.text_input(key="owner_name").value == "ada"
        laptop = open_page("train", device="ada-laptop")
        assert laptop.session_state[state.JOB_KEY] is job
    finally:
        holder.finish()
    laptop.button(key="train_stop").click().run()
    assert job.wait(timeout=patience(60)).status == JobStatus.STOPPED


def test_changing_the_name_shows_that_names_jobs_and_the_device_keeps_both():
    holder = hold_the_slot()
    try:
        app = open_page("design", TINY_QUERY | {"epochs": "30", "me": "ada"}, device="shared-laptop")
        app.switch_page("app_pages/train.py").run()
        app.button(key="train_start").click().run()
        job = app.session_state[state.JOB_KEY]
        app.text_input(key="owner_name").input("Bo").run()  # a sibling on the same laptop
        assert state.JOB_KEY not in app.session_state or app.session_state[state.JOB_KEY] is not job
        assert not app.button(key="train_start").disabled and app.button(key="train_stop").disabled
        app.text_input(key="owner_name").input("Ada").run()
        assert app.session_state[state.JOB_KEY] is job and not app.button(key="train_stop").disabled
        assert [claim.owner.name for claim in RunStore().claims.everyone()] == ["ada", "Bo"]
    finally:
        holder.finish()
    job.stop()


def test_a_reload_finds_the_running_job_its_curves_its_stop_and_the_design(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_EPOCHS", "500")  # 30 tiny epochs could end, on a fast day, before the Stop
    holder = hold_the_slot()
    try:
        long = TINY_QUERY | {"epochs": "500", "batch_size": "32", "me": "ada"}  # still training when we look
        first_tab = open_page("design", long)
        first_tab.switch_page("app_pages/train.py").run()
        first_tab.button(key="train_start").click().run()
        job = first_tab.session_state[state.JOB_KEY]
        reloaded = open_page("train", {"me": "ada"})  # a new session: nothing in its own state
        assert reloaded.session_state[state.JOB_KEY] is job
        assert "Queued: **#1** in line" in texts(reloaded.info)
        assert not reloaded.button(key="train_stop").disabled and reloaded.button(key="train_start").disabled
        assert reloaded.session_state[state.DESIGN_KEY]["name"] == "tiny"  # the design came back too
    finally:
        holder.finish()
    wait_until(lambda: job.snapshot().history)
    reloaded = open_page("train", {"me": "ada"})
    assert reloaded.get("plotly_chart") and "Epoch" in reloaded.get("progress")[0].proto.text
    reloaded.button(key="train_stop").click().run()
    assert job.wait(timeout=patience(60)).status == JobStatus.STOPPED


def test_an_owners_job_limit_holds_across_tabs_and_every_start_path(monkeypatch):
    from mnist_dash.jobs import JobRefused, Limits, TrainingJob
    from mnist_dash.presets import PRESETS

    monkeypatch.setenv("MNIST_DASH_OWNER_JOBS", "2")
    mallory = owners.named("mallory")
    holder = hold_the_slot()
    try:
        tab1 = open_page("compare", {"me": "mallory"})
        tab1.number_input(key="compare_epochs").set_value(1).run()
        tab1.button(key="compare_start").click().run()  # three presets: two in line, the third held back
        assert len(queue_module.default_queue().active_of(mallory.key)) == 2
        tab2 = open_page("compare", {"me": "Mallory"})  # another tab: the same owner
        assert tab2.button(key="compare_start").disabled
        warning = texts(tab2.warning)
        assert "You have 2 job(s) queued or running" in warning and "MNIST_DASH_OWNER_JOBS" in warning
        for page in ("train", "design", "draw"):  # the owner's job is found: every Train button waits for it
            tab2.switch_page(f"app_pages/{page}.py").run()
            button = {"train": "train_start", "design": "design_train", "draw": "draw_quick"}[page]
            assert tab2.button(key=button).disabled, page
        with pytest.raises(JobRefused, match="You have 2 job"):  # and the engine refuses, whatever the buttons say
            TrainingJob(PRESETS["notebook-2-hidden"], resources._dataset(), owner=mallory, limits=Limits()).start()
        classmate = open_page("draw", {"me": "bea"})  # limits are per owner: a classmate is not held back
        assert not classmate.button(key="draw_quick").disabled
    finally:
        for job in queue_module.default_queue().active_of(mallory.key):
            job.stop()
        holder.finish()


def test_the_class_queue_is_bounded(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_QUEUE", "1")
    holder = hold_the_slot()
    try:
        app = open_page("train", TINY_QUERY | {"me": "cy"})
        assert "The class queue is full" in texts(app.warning) and app.button(key="train_start").disabled
    finally:
        holder.finish()


def test_stopping_a_queued_job_says_you_left_the_queue():
    holder = hold_the_slot()
    try:
        app = open_page("train", TINY_QUERY)
        app.button(key="train_start").click().run()
        app.button(key="train_stop").click().run()
        assert app.session_state[state.JOB_KEY].wait(timeout=patience(10)).status == JobStatus.STOPPED
        app.run()
        assert "You left the queue" in texts(app.info) and not app.get("plotly_chart")
    finally:
        holder.finish()


def test_past_the_run_quota_train_says_so_and_old_runs_can_be_deleted(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_OWNER_RUNS", "2")
    mine = [store_a_run("mine one"), store_a_run("mine two")]
    theirs = store_a_run("theirs", owner=owners.named("bea"))
    app = open_page("train", TINY_QUERY)
    assert "You have 2 stored runs" in texts(app.warning) and "MNIST_DASH_OWNER_RUNS" in texts(app.warning)
    assert app.button(key="train_start").disabled
    choice = app.multiselect(key="runs_delete_choice")
    assert len(choice.options) == 2 and not any(label.startswith("theirs") for label in choice.options)
    choice.select(next(run for run in RunStore().owned(TEST_OWNER.key) if run.run_id == mine[0])).run()
    app.button(key="runs_delete").click().run()
    assert {run.run_id for run in RunStore().list().runs} == {mine[1], theirs}
    assert not app.button(key="train_start").disabled


EVIL = "[Log in](https://e.invalid) ![](https://e.invalid/t.png) <b>x</b> :red[y]"


@pytest.mark.parametrize("page", ["train", "compare", "weights", "draw"])
def test_a_design_name_with_markup_is_shown_as_text(page):
    store_a_run(EVIL)
    app = open_page(page, TINY_QUERY | {"name": EVIL})
    shown = [str(e.value) for kind in ("markdown", "caption", "warning", "info", "error") for e in app.get(kind)]
    for raw in shown:  # what Streamlit renders as markdown: no link, image, HTML or colour can form
        assert "](https://e.invalid" not in raw and "<b>" not in raw and ":red[" not in raw
    assert any(EVIL in read(raw) for raw in shown) or page in ("weights",)
    figures = " ".join(chart.proto.spec for chart in app.get("plotly_chart"))
    assert "<b>x</b>" not in figures
    assert not app.exception


def test_a_run_interrupted_by_a_restart_is_reported_and_can_be_dismissed():
    from mnist_dash.spec import LayerSpec, ModelSpec

    store = RunStore()
    spec = ModelSpec(layers=(LayerSpec(8),), name="cut short [see](https://example.invalid)")
    marker = store.begin_training(spec, owners.named("ada"))
    orphan(store, marker)  # its server was killed
    classmate = open_page("weights", {"me": "bo"})  # the notice and its Dismiss are ada's (and the teacher's)
    assert "Interrupted" not in texts(classmate.warning)
    app = open_page("weights", {"me": "ada"})
    assert "Interrupted: cut short [see](https://example.invalid)" in texts(app.warning).replace("**", "")
    assert "](https" not in " ".join(str(w.value) for w in app.warning)
    app.button(key=f"dismiss_{marker}").click().run()
    assert "Interrupted" not in texts(app.warning) and store.list().interrupted == []
    assert not app.exception


def test_a_queued_job_left_by_its_owner_leaves_the_line_and_says_so_when_they_come_back(monkeypatch):
    from mnist_dash.jobs import JobQueue

    clock = Clock()
    queue = JobQueue(1, clock=clock)
    monkeypatch.setattr(queue_module, "_default_queue", queue)
    holder = Stand(queue, "another-students-job")
    assert holder.started.wait(5)
    try:
        app = open_page("train", TINY_QUERY | {"me": "ada"})
        app.button(key="train_start").click().run()
        job = app.session_state[state.JOB_KEY]
        clock.now += 121  # ada closed her tab two minutes ago
        queue.wake()
        assert job.wait(timeout=patience(10)).status == JobStatus.STOPPED
        back = open_page("train", {"me": "ada"})
        message = texts(back.info).replace("**", "")
        assert "Your job left the queue" in message and "none of your pages was open for 120 s" in message
        assert not back.button(key="train_start").disabled
    finally:
        holder.finish()


@pytest.mark.parametrize(("page", "fragment"), [("train", "train_live"), ("home", "sidebar_status")])
def test_a_queued_job_stays_in_line_while_a_page_of_its_owner_stays_open(page, fragment, monkeypatch):
    """Waiting longer than the orphan time is the normal case with one slot and a class: a page that
    stays open (only its fragments ticking, no full page run) keeps its owner's jobs in line."""
    from mnist_dash.jobs import JobQueue

    clock = Clock()
    queue = JobQueue(1, clock=clock)
    monkeypatch.setattr(queue_module, "_default_queue", queue)
    holder = Stand(queue, "another-students-job")
    assert holder.started.wait(5)
    try:
        app = open_page("train", TINY_QUERY | {"me": "ada"})
        app.button(key="train_start").click().run()
        job = app.session_state[state.JOB_KEY]
        if page != "train":
            app.switch_page(f"app_pages/{page}.py").run()
        for _ in range(5):  # five minutes, more than twice the orphan time of 120 s
            clock.now += 60
            rerun_fragment(app, monkeypatch, fragment)
            queue.wake()
            time.sleep(0.6)  # the job's thread looks again (it does every 0.5 s)
        assert job.snapshot().status == JobStatus.QUEUED and queue.position(job.job_id) == 1
        clock.now += 121  # then the page is closed: no more ticks
        queue.wake()
        assert job.wait(timeout=patience(10)).status == JobStatus.STOPPED
    finally:
        holder.finish()


def test_a_reload_finds_a_job_waiting_for_its_next_turn_and_says_so(monkeypatch):
    import keras

    from mnist_dash.jobs import JobQueue, TrainingJob
    from mnist_dash.jobs.runners.thread import ThreadRunner
    from mnist_dash.spec import LayerSpec, ModelSpec

    release, bea_in_line = threading.Event(), threading.Event()

    class Hold(keras.callbacks.Callback):  # ada's first epoch ends once bea is in line; bea's, once the test lets go
        def on_epoch_end(self, epoch, logs=None):
            if self.model.layers[2].units == 40:
                release.wait(patience(60))
            elif epoch == 0:  # else, on a fast day, ada's second epoch could begin before bea arrives
                bea_in_line.wait(patience(60))

    queue = JobQueue(1)
    monkeypatch.setattr(queue_module, "_default_queue", queue)
    runner = ThreadRunner([Hold()])
    spec = ModelSpec(layers=(LayerSpec(16),), epochs=3, batch_size=64, name="ada's")
    ada = TrainingJob(spec, resources._dataset(), queue=queue, runner=runner, owner=owners.named("ada")).start()
    wait_until(lambda: ada.epochs_done >= 1, 60)
    bea = TrainingJob(
        spec.replace(layers=(LayerSpec(40),), name="bea's"),
        resources._dataset(),
        queue=queue,
        runner=runner,
        owner=owners.named("bea"),
    ).start()
    bea_in_line.set()
    try:
        wait_until(lambda: ada.snapshot().status == JobStatus.WAITING, 60)  # bea's first epoch goes first
        app = open_page("train", {"me": "ada"})  # a reload, or a new tab
        assert app.session_state[state.JOB_KEY] is ada
        message = texts(app.info).replace("**", "")
        assert "Waiting for its next turn, about" in message and "model after epoch 1" in message
        assert app.button(key="train_stop").disabled is False and len(app.get("plotly_chart")) == 2
        assert "waiting for its next turn (epoch 2 of 3)" in texts(app.sidebar.markdown)
    finally:
        release.set()
    assert ada.wait(patience(60)).status == bea.wait(patience(60)).status == JobStatus.FINISHED


@pytest.mark.parametrize("page", ["weights", "evaluate", "draw"])
def test_pages_open_on_the_owners_newest_finished_run_not_the_classs(page):
    mine = store_a_run("mine")
    store_a_run("a classmate's, newer", owner=owners.named("bea"))
    app = open_page(page)
    key = {"weights": "weights_run", "evaluate": "evaluate_run", "draw": "draw_run"}[page]
    assert app.selectbox(key=key).value.run_id == mine


def test_the_browsers_token_is_the_same_under_every_mask():
    from mnist_dash.ui.owner import _browser_secret

    token = bytes.fromhex("00112233445566778899aabbccddeeff")

    def cookie(mask: bytes) -> str:
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
        return f"2|{mask.hex()}|{masked.hex()}|1795750000"

    assert _browser_secret(cookie(b"\x01\x02\x03\x04")) == _browser_secret(cookie(b"\xa0\xb0\xc0\xd0")) == token.hex()
    assert _browser_secret("not-tornado") == "not-tornado"


def test_in_replay_mode_train_replays_a_stored_run_of_the_design_marked_as_a_replay(monkeypatch):
    from mnist_dash.jobs.replay import Replay
    from mnist_dash.presets import PRESETS
    from mnist_dash.share import read_link
    from tests.support import save_fake

    spec, _ = read_link(TINY_QUERY, base=next(iter(PRESETS.values())))
    run_id = save_fake(RunStore(), spec.replace(seed=3, name="Ann's"), owner=owners.named("Ann"))
    monkeypatch.setenv("MNIST_DASH_REPLAY", "1")
    # The replay's own clock: its 2 recorded epochs of 0.5 s last 0.1 s at 10 times, less than a page's run on a
    # busy machine; the test moves the clock instead.
    now = [0.0]
    monkeypatch.setattr(state, "Replay", functools.partial(Replay, clock=lambda: now[0]))
    app = open_page("train", TINY_QUERY)
    assert app.button(key="train_start").disabled
    assert "does not train: it replays stored runs (MNIST_DASH_REPLAY=1)" in texts(app.warning)
    assert app.selectbox(key="train_replay_run").value.run_id == run_id
    app.segmented_control(key="train_replay_speed").set_value(10).run()
    app.button(key="train_replay_start").click().run()
    replay = app.session_state[state.JOB_KEY]
    assert isinstance(replay, Replay) and not app.button(key="train_stop").disabled
    shown = texts(app.info)
    assert "**Replay**: a replay of Ann's run of" in shown and "10 times faster than recorded" in shown
    assert "Nothing is training" in shown and resources.queue().everyone() == []  # nothing went into the line
    assert any(m.value.startswith("**Replay:**") for m in app.sidebar.markdown)
    assert not replay.done
    now[0] += 0.5  # past the recorded second at 10 times: over
    assert replay.done
    app.run()
    assert "**Replay**: a replay of Ann's run" in texts(app.info) and f"run `{run_id}`" in texts(app.caption)
    assert "Saved as run" not in texts(app.caption) and not app.exception
