"""Weights, live: the page follows this session's job while it trains, epoch by epoch."""

import threading

import keras
import pytest

from mnist_dash.jobs import JobStatus, TrainingJob
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.ui import resources, state
from tests.patience import patience
from tests.support import TEST_OWNER, labels, open_page, open_units_tab, texts, wait_until

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


def unit_labels(app) -> list[str]:
    return labels(app, "weights_units_chart_0") + labels(app, "weights_units_chart_1")


def test_the_weights_of_a_training_job_appear_as_each_epoch_ends_and_the_slider_follows():
    second_epoch, third_epoch = threading.Event(), threading.Event()

    class Pause(keras.callbacks.Callback):  # holds the job at the start of epochs 2 and 3 until the test lets go
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                second_epoch.wait(patience(60))
            if epoch == 2:
                third_epoch.wait(patience(60))

    spec = ModelSpec(layers=(LayerSpec(16),), epochs=3, batch_size=64, name="growing")
    job = TrainingJob(spec, resources._dataset(), store=RunStore(), owner=TEST_OWNER, runner=ThreadRunner([Pause()]))
    job.start()
    try:
        app = open_page("weights")
        app.session_state[state.JOB_KEY] = job
        # the first epoch's snapshot arrives (the job waits before the second)
        wait_until(lambda: job.weight_history() is not None and job.weight_history().epochs == 2, 60)
        app.run()
        assert "Your job is training" in texts(app.info)
        assert app.slider(key=f"weights_epoch_{job.job_id}").value == 1 and app.slider[0].max == 1
        # The units' images follow the job too: its 16 first-layer units after the epoch that ended.
        open_units_tab(app)
        assert "hidden_1: the 16 units that moved most, after epoch 1" in texts(app.markdown)
        assert len(unit_labels(app)) == 16 and "Weights after epoch 1." in texts(app.caption)
        second_epoch.set()
        wait_until(lambda: job.weight_history().epochs == 3, 60)
        app.session_state["weights_tab"] = "Distributions"
        app.run()
        assert app.slider(key=f"weights_epoch_{job.job_id}").max == 2
        assert app.slider(key=f"weights_epoch_{job.job_id}").value == 2  # it was on the newest: it follows
        assert "Statistics at epoch 2" in texts(app.subheader)
        open_units_tab(app)
        assert "hidden_1: the 16 units that moved most, after epoch 2" in texts(app.markdown)
        assert "Weights after epoch 2." in texts(app.caption)  # the deeper layer's inputs: the job's newest
        assert unit_labels(app)[0].split(" · ")[0] == str(job.weight_history().unit_ids[0])
    finally:
        second_epoch.set()
        third_epoch.set()
    assert job.wait(patience(60)).status == JobStatus.FINISHED
    app.run()
    assert "Your job is training" not in texts(app.info)
    assert app.selectbox(key="weights_run").value.run_id == job.snapshot().run_id
    assert not app.exception


def test_a_job_not_yet_training_turns_the_page_live_when_its_first_snapshot_arrives():
    go_on = threading.Event()

    class Hold(keras.callbacks.Callback):  # holds the job after its first snapshot, before its first epoch
        def on_epoch_begin(self, epoch, logs=None):
            go_on.wait(patience(60))

    spec = ModelSpec(layers=(LayerSpec(16),), epochs=1, batch_size=64, name="waiting")
    # Not started yet: as one waiting in the queue.
    job = TrainingJob(spec, resources._dataset(), owner=TEST_OWNER, runner=ThreadRunner([Hold()]))
    app = open_page("weights")
    app.session_state[state.JOB_KEY] = job
    app.run()
    assert "Your job has not begun training yet: its weights appear here when it does." in texts(app.info)
    assert not app.exception
    job.start()
    wait_until(lambda: job.weight_history() is not None, 60)
    try:
        app.run()
        assert "Your job is training" in texts(app.info)
    finally:
        go_on.set()
    assert job.wait(patience(60)).status == JobStatus.FINISHED
