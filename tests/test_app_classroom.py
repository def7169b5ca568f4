"""AppTest tests of what a shared classroom server needs: the result cache, caps, fair queues."""

import threading

from mnist_dash.jobs import JobStatus
from mnist_dash.jobs import queue as limiter_module
from mnist_dash.jobs.reuse import ReusedRun
from mnist_dash.ui import state

from .test_app import TINY_QUERY, open_page, texts, tiny_mnist  # noqa: F401  (the autouse dataset fixture)


def train_on_the_train_page(query=TINY_QUERY):
    app = open_page("train", query)
    app.button(key="train_start").click().run()
    snap = app.session_state[state.JOB_KEY].wait(timeout=120)
    assert snap.status == JobStatus.FINISHED, snap.error
    return snap


def test_the_same_design_seed_and_data_offers_the_finished_run():
    first = train_on_the_train_page()
    student = open_page("train", TINY_QUERY | {"name": "another name"})  # the name does not matter
    assert "This exact design was trained before" in texts(student.info)
    assert not student.button(key="train_start").disabled  # training again stays possible
    student.button(key="train_reuse").click().run()
    reused = student.session_state[state.JOB_KEY]
    assert isinstance(reused, ReusedRun) and reused.snapshot().run_id == first.run_id
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


def test_a_bad_cap_setting_is_reported_and_the_defaults_apply(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_EPOCHS", "lots")
    app = open_page("design", TINY_QUERY)
    assert "MNIST_DASH_MAX_EPOCHS must be a whole number" in texts(app.error)
    assert not app.button(key="design_train").disabled


def test_a_session_cannot_queue_more_than_its_share(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_SESSION_JOBS", "3")
    limiter = limiter_module.default_limiter()
    holder = threading.Event()
    assert limiter.acquire("another-session", holder, remaining=lambda: 90.0)
    try:
        app = open_page("train", TINY_QUERY)
        app.button(key="train_start").click().run()
        assert "Queued: **#1** in line, about 1 min 30 s to wait" in texts(app.info)
        app.switch_page("app_pages/compare.py").run()
        warning = texts(app.warning)
        assert "has 1 job(s) queued or running" in warning and "allows 3 per session" in warning
        assert app.button(key="compare_start").disabled
        app.session_state[state.JOB_KEY].stop()  # cancelling leaves the line
        assert app.session_state[state.JOB_KEY].wait(timeout=10).status == JobStatus.STOPPED
        app.run()
        assert not app.button(key="compare_start").disabled
    finally:
        limiter.release("another-session")


def test_a_run_interrupted_by_a_restart_is_reported_and_can_be_dismissed():
    from mnist_dash.runs import RunStore
    from mnist_dash.spec import LayerSpec, ModelSpec

    from .test_store_faults import orphan

    store = RunStore()
    marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),), name="cut short"))
    orphan(store, marker)  # its server was killed
    app = open_page("weights")
    assert "**Interrupted:** cut short" in texts(app.warning) and "not saved" in texts(app.warning)
    app.button(key=f"dismiss_{marker}").click().run()
    assert "Interrupted" not in texts(app.warning) and store.list().interrupted == []
    assert not app.exception
