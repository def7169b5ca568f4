"""The teacher's room: the key, the challenge seen by students, the queue's Cancel, deleting runs and digits."""

import threading
import time
from dataclasses import replace

import keras
import numpy as np
import pytest

from mnist_dash.classroom import rules as class_rules
from mnist_dash.classroom import teacher
from mnist_dash.classroom.challenge import Challenge, read_challenge, set_challenge
from mnist_dash.jobs import JobStatus, Limits, TrainingJob
from mnist_dash.jobs import queue as queue_module
from mnist_dash.jobs.limits import Lock
from mnist_dash.jobs.roll import Roll
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.owners import named
from mnist_dash.presets import PRESETS
from mnist_dash.runs import RunStore
from mnist_dash.runs.digits import APPROVAL
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.ui import resources, state
from tests.patience import patience
from tests.support import TEST_OWNER, TINY_QUERY, hold_the_slot, open_page, save_fake, texts

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


KEY = "correct horse battery staple"


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, KEY)
    monkeypatch.delenv(teacher.TEACHERS_ENV, raising=False)
    monkeypatch.setattr(teacher, "GUARD", teacher.KeyGuard(sleep=lambda s: None))  # no other test's wrong keys


def test_the_app_will_not_start_with_a_short_teacher_key(monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "letmein")
    app = open_page("home")
    said = texts(app.error)
    assert "will not start with its teacher key" in said and "7 characters long" in said and "at least 16" in said
    assert "secrets.token_urlsafe" in said  # how to make a good one
    assert "Train" not in texts(app.markdown)  # and nothing else of the app runs


def test_wrong_keys_are_slowed_logged_and_locked_out_per_browser_and_address(caplog):
    clock, slept = [1000.0], []
    guard = teacher.KeyGuard(clock=lambda: clock[0], sleep=slept.append)
    import os

    os.environ[teacher.KEY_ENV] = KEY
    try:
        for _ in range(teacher.MAX_WRONG_KEYS):
            assert not guard.check("guess", "browser:a", "10.0.0.1")
        assert slept == [teacher.WRONG_KEY_DELAY_S] * teacher.MAX_WRONG_KEYS  # a pause after every wrong key
        assert "a wrong teacher key from browser" in caplog.text and "10.0.0.1" in caplog.text
        assert not guard.check(KEY, "browser:a", "10.0.0.1")  # locked: even the right key is not tried
        assert not guard.check(KEY, "browser:b", "10.0.0.1")  # another browser on the same address too
        assert guard.check(KEY, "browser:c", "10.0.0.2")  # others are not
        assert guard.locked_for("browser:a", None) == pytest.approx(teacher.LOCKOUT_S)
        clock[0] += teacher.LOCKOUT_S + 1  # ten minutes later
        assert guard.check(KEY, "browser:a", "10.0.0.1")
    finally:
        del os.environ[teacher.KEY_ENV]


def test_the_sign_in_says_when_this_browser_is_locked_out(keyed):
    app = open_page("teacher")
    for _ in range(teacher.MAX_WRONG_KEYS):
        app.text_input(key="teacher_key").input("guess").run()
        app.button[0].click().run()
    assert "Too many wrong keys from this browser" in texts(app.error)
    app.text_input(key="teacher_key").input(KEY).run()
    app.button[0].click().run()
    assert "The challenge" not in texts(app.subheader) and "locked for 10 more minutes" in texts(app.error)


def test_a_teacher_tightens_the_hosts_limits_but_never_loosens_them(monkeypatch):
    host = Limits(max_epochs=20, max_params=1_000_000, min_batch_size=16, owner_jobs=2, owner_runs=30)
    mine = class_rules.ClassRules(limits={"max_epochs": 50, "max_params": 50_000, "min_batch_size": 8})
    monkeypatch.delenv(class_rules.RAISE_ENV, raising=False)
    held = mine.apply(host)
    assert (held.max_epochs, held.max_params, held.min_batch_size) == (20, 50_000, 16)
    monkeypatch.setenv(class_rules.RAISE_ENV, "1")  # the host allows more
    assert (mine.apply(host).max_epochs, mine.apply(host).min_batch_size) == (50, 8)


def signed_in_teacher():
    app = open_page("teacher")
    app.text_input(key="teacher_key").input(KEY)
    app.button[0].click().run()  # the form's Sign in
    assert not app.exception and "The challenge" in texts(app.subheader)
    return app


def test_the_key_or_an_email_on_the_list_makes_a_teacher(monkeypatch):
    monkeypatch.delenv(teacher.KEY_ENV, raising=False)
    monkeypatch.delenv(teacher.TEACHERS_ENV, raising=False)
    assert not teacher.teachers_configured() and not teacher.is_teacher(key="", email="")
    monkeypatch.setenv(teacher.KEY_ENV, KEY)
    assert teacher.is_teacher(key=KEY) and teacher.is_teacher(key=f" {KEY} ")
    assert not teacher.is_teacher(key="correct horse") and not teacher.is_teacher(key=None)
    monkeypatch.setenv(teacher.TEACHERS_ENV, "Ms.Lee@School.org, mr.k@school.org")
    assert teacher.is_teacher(email="ms.lee@school.org") and not teacher.is_teacher(email="student@school.org")


def test_without_a_key_on_the_server_nothing_of_the_teacher_is_shown(monkeypatch):
    monkeypatch.delenv(teacher.KEY_ENV, raising=False)
    app = open_page("teacher")
    assert "This server has no teacher key" in texts(app.info)
    assert "teacher_key" not in [field.key for field in app.text_input]
    assert "The challenge" not in texts(app.subheader)


def test_a_wrong_key_shows_nothing_but_the_key_field(keyed):
    app = open_page("teacher")
    app.text_input(key="teacher_key").input("guess").run()
    app.button[0].click().run()
    assert "not this server's teacher key" in texts(app.error)
    assert "The challenge" not in texts(app.subheader)


def test_a_challenge_set_by_the_teacher_is_on_the_students_design_page_and_board(keyed):
    store = RunStore()
    small = ModelSpec(layers=(LayerSpec(8),), epochs=2, name="small")
    big = ModelSpec(layers=(LayerSpec(64),), epochs=2, name="big")
    save_fake(store, small, owner=named("Ada"), test_accuracy=0.90)
    save_fake(store, big, owner=named("Bo"), test_accuracy=0.97)
    app = signed_in_teacher()
    app.number_input[0].set_value(10_000)  # most parameters
    app.button[0].click().run()  # the form's Set the challenge
    assert read_challenge(store) == Challenge(max_params=10_000)
    student = open_page("design", {"layers": "64:relu:0:none", "me": "bo"})
    assert "Beyond the challenge" in texts(student.warning) and "50,890 parameters" in texts(student.warning)
    fits = open_page("design", {"layers": "8:relu:0:none", "me": "ada"})
    assert "Inside the challenge" in texts(fits.success)
    board = open_page("board")
    assert "with at most 10,000 parameters" in texts(board.info)
    assert list(board.dataframe[0].value["owner"]) == ["Ada"]  # Bo's 97% is over the budget: not ranked


def test_the_teacher_cancels_a_students_queued_job(keyed, monkeypatch):
    monkeypatch.setattr(queue_module, "_default_queue", None)
    held, release = threading.Event(), threading.Event()

    class Hold(keras.callbacks.Callback):  # the running job keeps the slot until the test lets go
        def on_epoch_begin(self, epoch, logs=None):
            held.set()
            release.wait(patience(60))

    spec = ModelSpec(layers=(LayerSpec(8),), epochs=1, batch_size=64, name="running")
    running = TrainingJob(spec, resources._dataset(), owner=named("Ada"), runner=ThreadRunner([Hold()]))
    running.start()
    queued = TrainingJob(spec.replace(name="waiting"), resources._dataset(), owner=named("Bo")).start()
    try:
        assert held.wait(patience(60))  # training, past "preparing the model", as the page is drawn
        app = signed_in_teacher()
        shown = texts(app.markdown)
        assert "Ada" in shown and "Bo" in shown and "waiting" in shown
        assert "running epoch 1 of 1" in shown and "queued #1, about " in shown and " to wait" in shown
        app.button(key=f"teacher_cancel_{queued.job_id}").click().run()
        snap = queued.wait(patience(30))
        assert snap.status == JobStatus.STOPPED and "your teacher cancelled it" in snap.reason
    finally:
        release.set()
        running.wait(patience(60))


def test_the_teacher_deletes_any_run_and_a_class_digit(keyed):
    store = RunStore()
    theirs = save_fake(store, ModelSpec(layers=(LayerSpec(8),), epochs=2, name="theirs"), owner=named("Ada"))
    store.digits.add(np.zeros((28, 28), np.uint8), 3, named("Bo"))
    kept = store.digits.add(np.full((28, 28), 9, np.uint8), 4, named("Bo"))
    app = signed_in_teacher()
    app.multiselect(key="teacher_runs").set_value([theirs]).run()
    app.button(key="teacher_delete_runs").click().run()
    assert store.count() == 1 and "It cannot be undone" in texts(app.warning)  # asked first, with what goes
    app.button(key="teacher_delete_confirmed").click().run()
    assert store.count() == 0 and "Deleted 1 run." in texts(app.success)
    first = int(store.digits.all().ids[0])
    app.checkbox(key=f"teacher_digits_{first}").check().run()
    app.button(key="teacher_delete_digits").click().run()
    assert list(store.digits.all().ids) == [kept]
    assert not app.exception
    app.button(key="teacher_sign_out").click().run()
    assert "The challenge" not in texts(app.subheader)


def test_the_teacher_releases_a_name_and_another_device_may_then_use_it(keyed):
    open_page("train", {"me": "Ada"}, device="ada-phone")
    assert "in use on another device" in texts(open_page("train", {"me": "ada"}, device="ada-laptop").warning)
    app = signed_in_teacher()
    [names] = [table.value for table in app.dataframe if "devices" in table.value.columns]
    assert "Ada" in names["name"].tolist()
    app.multiselect(key="teacher_release").set_value([named("Ada").key]).run()
    app.button(key="teacher_release_names").click().run()
    assert "Released Ada." in texts(app.success) and RunStore().claims.everyone() == []
    laptop = open_page("train", {"me": "ada"}, device="ada-laptop")  # her new device holds it now
    assert laptop.text_input(key="owner_name").value == "ada" and not laptop.warning


def test_the_teacher_approves_new_digits_and_deletes_every_digit_of_one_student(keyed):
    store = RunStore()
    store.digits.add(np.zeros((28, 28), np.uint8), 1, named("Ada"))
    app = signed_in_teacher()
    app.toggle(key="teacher_digits_approval").set_value(True).run()
    assert store.setting(APPROVAL) == "1"
    waiting = store.digits.add(np.ones((28, 28), np.uint8), 2, named("Bo"))
    store.digits.add(np.ones((28, 28), np.uint8), 3, named("Bo"))
    app.run()
    assert "Waiting for your approval:** 2 digits" in texts(app.markdown)
    app.checkbox(key=f"teacher_pending_{waiting}").check().run()
    app.button(key="teacher_approve_digits").click().run()
    assert "Approved 1 digit." in texts(app.success) and list(store.digits.all().y) == [1, 2]
    app.selectbox(key="teacher_digits_owner").set_value(named("Bo").key).run()
    assert "1 digit. Tick" in texts(app.caption)  # Bo's counted digit alone
    app.button(key="teacher_delete_owner_digits").click().run()
    assert "Delete all 1 digit of Bo? It cannot be undone." in texts(app.warning) and len(store.digits.all()) == 2
    app.button(key="teacher_delete_owner_digits_yes").click().run()
    assert "Deleted 2 digits of Bo." in texts(app.success)  # the waiting one too
    assert list(store.digits.all().y) == [1] and len(store.digits.pending()) == 0 and not app.exception


def test_a_fixed_setting_and_the_presets_lock_are_the_one_rule_everywhere():
    fixed = Limits(lock="fixed", fixed=(("epochs", 3),))
    assert [p.message for p in fixed.problems(ModelSpec(layers=(LayerSpec(8),), epochs=5))] == [
        "set by your teacher to 3"
    ]
    assert fixed.problems(ModelSpec(layers=(LayerSpec(8),), epochs=3)) == []
    presets = Limits(lock="presets")
    assert presets.problems(PRESETS["notebook-2-hidden"].replace(epochs=2, seed=7, name="mine")) == []
    assert "locked the class to the presets" in presets.problems(ModelSpec(layers=(LayerSpec(8),)))[0].message


def test_class_rules_refuse_what_cannot_be_used():
    with pytest.raises(class_rules.RulesError, match="max_epochs"):
        class_rules.ClassRules(limits={"max_epochs": 0})
    with pytest.raises(class_rules.RulesError, match="the lock is one of"):
        class_rules.ClassRules(lock="everything")
    with pytest.raises(class_rules.RulesError, match="can be fixed"):
        class_rules.ClassRules(fixed={"layers": []})
    assert class_rules.rules_from("{broken") == class_rules.ClassRules()  # unreadable: the host's limits alone


def test_the_teachers_caps_and_lock_reach_a_students_design_page(keyed):
    app = signed_in_teacher()
    app.number_input(key="teacher_max_epochs").set_value(4)
    app.button(key="FormSubmitter:teacher_limits-Apply these limits").click().run()
    app.radio[1].set_value("fixed")  # the lock (the first radio is the challenge's)
    app.multiselect[0].set_value(["batch_size"])  # fixed at the teacher's design's batch size
    app.button(key="FormSubmitter:teacher_lock-Apply the lock").click().run()
    assert not app.exception
    rules = class_rules.read_rules(RunStore())
    assert rules.limits["max_epochs"] == 4 and rules.lock == "fixed" and "batch_size" in rules.fixed
    student = open_page("design", {"epochs": "10", "batch_size": "64", "me": "bo"})
    assert "at most 4 epochs" in texts(student.error)
    batch = next(field for field in student.number_input if field.label == "Batch size")
    assert batch.disabled and batch.help == "Set by your teacher." and batch.value == rules.fixed["batch_size"]


def test_a_design_sent_by_the_teacher_is_offered_once_on_design(keyed):
    app = signed_in_teacher()
    app.switch_page("app_pages/design.py").run()
    app.selectbox(key="design_preset").set_value("notebook-3-hidden-bn").run()
    app.switch_page("app_pages/teacher.py").run()
    app.button(key="teacher_push").click().run()
    assert "Sent" in texts(app.success)
    student = open_page("design", {"me": "bo"})
    assert "Your teacher sent a design:** notebook-3-hidden-bn" in texts(student.markdown)
    student.button(key="design_use_pushed").click().run()
    assert student.session_state["design"]["name"] == "notebook-3-hidden-bn"
    assert "Your teacher sent a design" not in texts(student.markdown)
    another_tab = open_page("design", {"me": "bo"})  # a new tab (or a reload) does not offer it again
    assert "Your teacher sent a design" not in texts(another_tab.markdown)
    assert "Your teacher sent a design" in texts(open_page("design", {"me": "cy"}).markdown)  # a classmate: yes
    class_rules.set_rules(RunStore(), replace(class_rules.read_rules(RunStore()), lock=Lock.FIXED, fixed={"epochs": 2}))
    resources.class_setting.clear()  # the teacher's later lock refuses the design sent: it is no longer offered
    assert "Your teacher sent a design" not in texts(open_page("design", {"me": "di"}).markdown)


def test_the_projector_is_the_teachers_and_shows_the_board_in_large_type(keyed):
    store = RunStore()
    save_fake(
        store, ModelSpec(layers=(LayerSpec(8),), epochs=2, name="a"), owner=named("<b>Ada</b>"), test_accuracy=0.9
    )
    student = open_page("projector")
    assert "sign in on the Teacher page" in texts(student.info) and not student.get("html")
    app = signed_in_teacher()
    app.switch_page("app_pages/projector.py").run()
    table = app.get("html")[0].proto.body
    assert "&lt;b&gt;Ada&lt;/b&gt;" in table and "<b>Ada" not in table and "90.00%" in table
    assert "Nothing is training right now" in texts(app.markdown)
    assert not app.exception


def test_entering_a_run_in_a_three_seed_challenge_trains_its_other_seeds_and_the_board_ranks_the_mean():
    set_challenge(RunStore(), Challenge(seeds=3))
    app = open_page("train", TINY_QUERY | {"seed": "4"})
    app.button(key="train_start").click().run()
    first = app.session_state[state.JOB_KEY].wait(timeout=patience(120))
    assert first.status == JobStatus.FINISHED, first.error
    app.run()
    holder = hold_the_slot()  # the entry's seeds wait in line while we look
    app.button(key="train_enter_challenge").click().run()
    assert "Seeds 5, 6 are queued as your jobs" in texts(app.success)
    assert "Entering the challenge:** seed 5: queued" in texts(app.info) and "seed 6: queued" in texts(app.info)
    app.run()  # the page now shows the entry's seed in line (its own job), never the offer again
    assert "Queued: **#" in texts(app.info) and app.session_state[state.JOB_KEY].spec.seed in (5, 6)
    assert all(button.key != "train_enter_challenge" for button in app.button)
    holder.finish()
    siblings = [job for job in queue_module.default_queue().jobs_of(TEST_OWNER.key) if job.spec.seed in (5, 6)]
    assert sorted(job.spec.seed for job in siblings) == [5, 6]
    snaps = [job.wait(timeout=patience(120)) for job in siblings]
    assert all(snap.status == JobStatus.FINISHED for snap in snaps), [snap.error for snap in snaps]
    app.run()
    assert "seeds 4, 5, 6 are stored" in texts(app.success)
    reloaded = open_page("train", TINY_QUERY | {"seed": "6"})  # the owner's newest job: the entry's seed 6
    assert reloaded.session_state[state.JOB_KEY].spec.seed == 6
    assert "seeds 4, 5, 6 are stored" in texts(reloaded.success)  # never "trains seeds 7, 8"
    mean = (first.test_accuracy + sum(snap.test_accuracy for snap in snaps)) / 3
    board = open_page("board")
    assert list(board.dataframe[0].value["test_accuracy"].round(4)) == [round(mean * 100, 4)]


def test_compares_experiment_under_a_teachers_fixed_settings_is_clamped_and_refused_at_the_press():
    """Under a lock fixing the epochs, the experiment took any epochs and then waited for ever for models the
    lock would never start. Its epochs are the teacher's, and a fixed setting the presets break is said."""
    store = RunStore()
    class_rules.set_rules(store, class_rules.ClassRules(lock=Lock.FIXED, fixed={"epochs": 3}))
    resources.class_setting.clear()
    app = open_page("compare")
    fixed = app.number_input(key="compare_epochs_fixed")
    assert fixed.value == 3 and fixed.disabled and not app.button(key="compare_start").disabled
    class_rules.set_rules(store, class_rules.ClassRules(lock=Lock.FIXED, fixed={"epochs": 3, "batch_size": 64}))
    resources.class_setting.clear()
    app = open_page("compare")
    assert app.button(key="compare_start").disabled
    assert "set by your teacher to 64" in texts(app.warning) + texts(app.error) + texts(app.info)


def test_deleting_runs_goes_by_student_shows_what_goes_and_survives_a_run_deleted_meanwhile(keyed):
    """Filtering by a student's two-letter name offered other students' runs (it matched design names); a run
    deleted elsewhere while chosen made the page raise; one click deleted for good."""
    store = RunStore()
    spec = ModelSpec(layers=(LayerSpec(8),), epochs=2)
    ada = [save_fake(store, spec.replace(name=f"jo's idea {n}"), owner=named("Ada")) for n in range(2)]
    jo = save_fake(store, spec.replace(name="mine"), owner=named("Jo"))
    app = signed_in_teacher()
    app.selectbox(key="teacher_runs_owner").set_value("Jo").run()
    offered = app.multiselect(key="teacher_runs").options
    assert len(offered) == 1 and offered[0].startswith("Jo: mine")  # not Ada's "jo's idea" runs
    app.multiselect(key="teacher_runs").set_value([jo]).run()
    app.button(key="teacher_delete_runs").click().run()
    app.button(key="teacher_delete_cancelled").click().run()  # kept
    assert store.count() == 3
    app.selectbox(key="teacher_runs_owner").set_value("Ada").run()
    app.multiselect(key="teacher_runs").set_value(ada).run()
    store.delete(ada[0])  # another tab deleted one meanwhile
    app.run()
    assert not app.exception and app.multiselect(key="teacher_runs").value == [ada[1]]
    app.button(key="teacher_delete_runs").click().run()
    app.button(key="teacher_delete_confirmed").click().run()
    assert [run.run_id for run in store.list().runs] == [jo] and not app.exception


def test_setting_and_clearing_the_challenge_say_what_they_did_and_clearing_asks_first(keyed):
    app = signed_in_teacher()
    set_challenge(RunStore(), Challenge(max_params=50_000))
    resources.class_setting.clear()
    app.run()
    app.button(key="teacher_clear_challenge").click().run()
    assert "Clear the challenge?" in texts(app.warning) and read_challenge(RunStore()) is not None
    app.button(key="teacher_clear_confirmed").click().run()
    assert read_challenge(RunStore()) is None
    assert "Cleared the challenge (best test accuracy, with at most 50,000 parameters)." in texts(app.success)


def test_the_teacher_stays_signed_in_in_this_browser_until_sign_out_and_a_new_key_signs_out(keyed, monkeypatch):
    """Every reload or new tab signed the teacher out: at a projector, the key typed in front of the class."""
    signed_in_teacher()
    reload = open_page("teacher")  # a reload or a new tab of the same browser (AppTest's one browser)
    assert "The challenge" in texts(reload.subheader) and "teacher_key" not in [f.key for f in reload.text_input]
    reload.button(key="teacher_sign_out").click().run()
    again = open_page("teacher")
    assert "The challenge" not in texts(again.subheader) and "teacher_key" in [f.key for f in again.text_input]
    signed_in_teacher()
    monkeypatch.setenv(teacher.KEY_ENV, "another key for the next term")  # the host changed the key
    assert "The challenge" not in texts(open_page("teacher").subheader)


def test_the_teacher_sees_what_the_class_tried_and_who_is_stuck_and_the_projector_shows_it_without_names(
    keyed, monkeypatch
):
    monkeypatch.setattr(queue_module, "_default_queue", None)
    store = RunStore()
    for name, dropout, accuracy in (("Ann", 0.5, 0.95), ("Ann", 0.5, 0.951), ("Bo", 0.6, 0.952), ("Cy", 0, 0.97)):
        spec = ModelSpec(layers=(LayerSpec(8, dropout=dropout),), epochs=2, name=f"{name}'s")
        save_fake(store, spec, owner=named(name), test_accuracy=accuracy)
    save_fake(store, ModelSpec(layers=(LayerSpec(16),), epochs=2), owner=named("Cy"), test_accuracy=0.975)
    queue = resources.queue()
    queue.roll = Roll(clock=lambda: time.time() - 1200)  # Di opened the app 20 minutes ago and trained nothing
    queue.seen("name:di", "Di")
    queue.roll._clock = time.time
    queue.roll.refused("name:bo", "Bo", "You have 2 jobs in line.")
    app = signed_in_teacher()
    # "today" (the default) began at midnight: a run at 00:05 would not see Di's arrival 20 minutes before
    app.selectbox(key="teacher_lesson_window").set_value("the last hour").run()
    shown = texts(app.markdown)
    assert (
        "The most common choice that did not help: dropout ≥ 0.5 (3 runs). Median test accuracy 95.1% with it, "
        "97.2% with the other dropout choices (2 finished runs)." in shown
    )
    assert "Tried by Ann, Bo." in shown
    assert "4 students this lesson; 1 trained nothing for 10 minutes or more: Di." in shown
    tried, stuck = (table.value for table in app.dataframe[:2])
    heavy = tried[tried["Choice"] == "dropout ≥ 0.5"].iloc[0]
    assert (heavy["Runs"], heavy["Finished"], heavy["Who"]) == (3, 3, "Ann, Bo")
    assert list(stuck["Student"]) == ["Di", "Ann", "Bo", "Cy"]
    assert stuck.iloc[0]["Stuck"] == "nothing trained for 20 min" and stuck.iloc[0]["Last seen"] == "20 min ago"
    bo = stuck[stuck["Student"] == "Bo"].iloc[0]
    assert bo["Runs finished"] == 1 and bo["Last refusal or failure"] == "refused: You have 2 jobs in line. (just now)"
    app.switch_page("app_pages/projector.py").run()
    app.segmented_control(key="projector_show").set_value("What the class tried").run()
    app.selectbox(key="projector_window").set_value("the last hour").run()  # as above: not from midnight
    wall = texts(app.markdown)
    assert "The most common choice that did not help: dropout ≥ 0.5 (3 runs)." in wall
    assert "Ann" not in wall and "Who" not in app.dataframe[0].value.columns
    assert not app.exception


def test_the_digits_wall_reads_every_class_digit_with_each_students_best_model(keyed):
    from mnist_dash.predict import Network

    store = RunStore()
    spec = ModelSpec(layers=(LayerSpec(8),), epochs=2)
    runs = {
        name: save_fake(store, spec.replace(name=f"{name}'s", seed=seed), seed=seed, owner=named(name))
        for seed, name in enumerate(("Ann", "Bo"))
    }
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    for number, image in enumerate(images):
        store.digits.add(image, number, named("Cy"))
    read = {name: Network(spec, store.final_weights(run)).probabilities(images).argmax(1) for name, run in runs.items()}
    wrong = sum((answers != np.arange(5)).astype(int) for answers in read.values())
    student = open_page("wall")
    assert "sign in on the Teacher page" in texts(student.info)
    app = signed_in_teacher()
    app.switch_page("app_pages/wall.py").run()
    assert not app.exception
    assert "5 class digits against 2 students' best models." in texts(app.markdown)
    hardest = int(np.argmax(wrong))  # the first of the most fooled: chosen to begin with
    assert app.selectbox(key="wall_pick").value == hardest
    answered = app.dataframe[-1].value  # the chosen digit: what each model answered
    assert sorted(answered["answer"].tolist()) == sorted(int(read[name][hardest]) for name in read)
    assert answered["right"].tolist() == sorted(int(read[n][hardest]) == hardest for n in read)
    app.segmented_control(key="wall_order").set_value("As drawn").run()
    app.selectbox(key="wall_pick").set_value(4).run()
    assert "handwritten digit 4" in str(app.get("image")[0].proto) and not app.exception
