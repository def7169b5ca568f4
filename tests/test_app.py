"""AppTest tests of the app's pages, on small synthetic digits.

Fragments that refresh themselves (`run_every`) do not fire under AppTest, so the
training tests wait on the job directly and then rerun the page, as the fragment would.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from mnist_dash.jobs import JobQueue, JobStatus
from mnist_dash.jobs import queue as queue_module
from mnist_dash.jobs.cache import CachedRun
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.presets import PRESETS
from mnist_dash.share import to_query
from mnist_dash.ui import resources, state
from tests.patience import patience
from tests.support import (
    TEST_OWNER,
    Stand,
    hold_the_slot,
    open_page,
    rerun_fragment,
    set_column,
    store_a_run,
    texts,
)

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TINY_QUERY = {"layers": "16:relu:0.1:after", "epochs": "2", "batch_size": "64", "name": "tiny"}


@pytest.mark.parametrize("page", ["home", "design", "train"])
def test_every_page_renders(page):
    app = open_page(page)
    assert app.title


@pytest.mark.parametrize("page", ["home", "train", "weights", "draw"])
def test_missing_mnist_says_what_is_wrong_and_the_command_to_fix_it(page, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DASH_DATA", str(tmp_path / "absent.npz"))
    resources._dataset.clear()
    app = open_page(page)
    assert len(app.error) == 1 and "MNIST could not be loaded" in texts(app.error)
    assert "does not exist" in texts(app.error) and "Errno" not in texts(app.error)  # no raw exception text
    assert "MNIST_DASH_DATA=/path/to/mnist.npz streamlit run streamlit_app.py" in texts(app.code)
    assert "mnist.npz" in texts(app.markdown) and "reload is not enough" in texts(app.markdown)
    assert not app.title  # the page itself is not drawn without its data


def test_design_works_without_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DASH_DATA", str(tmp_path / "absent.npz"))
    resources._dataset.clear()
    app = open_page("design")
    assert app.metric[0].value == "468,874" and not app.error
    assert app.button(key="design_train").disabled and "MNIST is missing" in texts(app.warning)


def test_choosing_a_preset_fills_the_table_and_the_total():
    app = open_page("design")
    app.selectbox(key="design_preset").select("notebook-3-hidden-bn").run()
    assert not app.exception
    assert [row["units"] for row in app.session_state["design"]["layers"]] == [500, 300, 100]
    assert app.metric[0].value == "575,510"
    assert "574,710 trainable · 800 non-trainable" in texts(app.caption)


def test_the_preset_picker_shows_the_preset_the_design_is():
    app = open_page("design")
    assert app.selectbox(key="design_preset").value == "notebook-2-hidden"  # the default design is that preset
    epochs_key = f"design_epochs_{app.session_state['design_version']}"
    app.number_input(key=epochs_key).set_value(3).run()
    assert app.selectbox(key="design_preset").value is None  # edited: no longer the preset
    app.selectbox(key="design_preset").select("notebook-5-hidden-bn").run()
    assert app.selectbox(key="design_preset").value == "notebook-5-hidden-bn"


def test_an_invalid_design_shows_its_errors_and_disables_train():
    app = open_page("design")
    design = app.session_state["design"]
    design["layers"][0] |= {"units": 0, "dropout": 1.5}
    app.session_state["design"] = design
    app.run()
    errors = texts(app.error)
    assert "Layer 1 units: must be between 1 and 2,048, got 0" in errors
    assert "Layer 1 dropout: must be in [0, 0.9], got 1.5" in errors
    assert app.button(key="design_train").disabled
    assert not app.metric  # no summary for a design that cannot be built
    app.switch_page("app_pages/train.py").run()
    assert app.button(key="train_start").disabled


def test_a_setting_error_appears_and_train_comes_back_when_fixed():
    app = open_page("design")
    epochs_key = f"design_epochs_{app.session_state['design_version']}"
    app.number_input(key=epochs_key).set_value(0).run()
    assert "Epochs: must be between 1 and 200, got 0" in texts(app.error)
    assert app.button(key="design_train").disabled
    app.number_input(key=epochs_key).set_value(5).run()
    assert not app.error and not app.button(key="design_train").disabled
    assert app.query_params["epochs"] == "5"
    assert app.session_state["design"]["name"] == "notebook-2-hidden (edited)"


def test_a_design_round_trips_through_query_parameters():
    spec = PRESETS["notebook-5-hidden-bn"].replace(learning_rate=0.0005, seed=7, validation="holdout")
    app = open_page("design", to_query(spec))
    assert app.session_state["design"]["layers"][3] == {
        "units": 200,
        "activation": "relu",
        "dropout": 0.3,
        "batch_norm": "after",
    }
    assert app.metric[0].value == "784,960"
    assert dict(app.query_params) == to_query(spec)


def test_a_link_keeps_every_good_field_and_lists_every_problem():
    app = open_page("home", {"layers": "abc", "epochs": "-5", "batch_size": "64", "learning_rate": "0.01"})
    notice = texts(app.warning)
    assert "Parts of the link's design could not be used" in notice
    assert "Layer 1 units" in notice and "abc" in notice and "Epochs" in notice  # both problems, not the first
    design = app.session_state["design"]
    assert (design["batch_size"], design["learning_rate"], design["epochs"]) == (64, 0.01, 20)  # good fields kept
    assert design["name"] == "notebook-2-hidden (edited)"  # not taken for the preset


def test_a_links_notice_shows_on_whichever_page_it_opens():
    app = open_page("home", {"layers": "abc"})
    assert "Parts of the link's design could not be used" in texts(app.warning)
    app.switch_page("app_pages/train.py").run()
    assert "could not be used" not in texts(app.warning)  # said once, not on every page after


def test_a_link_beyond_the_servers_cap_says_so_with_the_one_limit(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_EPOCHS", "30")
    app = open_page("home", {"layers": "64", "epochs": "100"})
    assert "at most 30 epochs" in texts(app.warning) and "MNIST_DASH_MAX_EPOCHS" in texts(app.warning)
    assert app.session_state["design"]["epochs"] == 20 and app.session_state["design"]["layers"][0]["units"] == 64


def test_training_runs_to_finished_and_shows_test_metrics():
    app = open_page("design", TINY_QUERY)
    app.switch_page("app_pages/train.py").run()
    holder = hold_the_slot()  # the job waits its turn while the test looks: a warm worker trains it in 0.3 s
    try:
        app.button(key="train_start").click().run()
        job = app.session_state[state.JOB_KEY]
        assert app.button(key="train_stop").disabled is False
        app.switch_page("app_pages/design.py").run()  # leave while it waits and trains, then come back
        assert not app.exception
        app.switch_page("app_pages/train.py").run()
        assert app.session_state[state.JOB_KEY] is job
    finally:
        holder.finish()
    snap = job.wait(timeout=patience(120))
    assert snap.status == JobStatus.FINISHED, snap.error
    app.run()
    assert not app.exception
    assert "Test score:" in texts(app.code) and "Test accuracy:" in texts(app.code)  # as the notebook prints them
    shown = {metric.label: metric.value for metric in app.metric}  # and as a student reads them
    assert shown["Test accuracy"] == f"{snap.test_accuracy:.2%}" and shown["Test accuracy"].endswith("%")
    assert not app.button(key="train_start").disabled and app.button(key="train_stop").disabled
    assert snap.run_id in texts(app.caption)
    # Its curves in words (the charts' accessible names) and as sound.
    loss, accuracy = (chart.proto.alt for chart in app.get("plotly_chart"))
    assert loss.startswith(f"Validation loss {snap.history[-1]['val_loss']:.4f} at epoch {len(snap.history)}")
    assert accuracy.startswith(f"Validation accuracy {snap.history[-1]['val_accuracy']:.2%}")
    [audio] = app.get("audio")  # two epochs: a curve to hear
    assert "The loss curve of tiny as sound: 2 epochs" in audio.proto.alt


def test_a_queued_job_shows_its_position():
    holder = Stand(queue_module.default_queue(), "another-students-job")
    assert holder.started.wait(5)
    try:
        app = open_page("design", TINY_QUERY)
        app.switch_page("app_pages/train.py").run()
        app.button(key="train_start").click().run()
        assert "Queued: #1 in line" in texts(app.info).replace("**", "")
    finally:
        holder.finish()
    snap = app.session_state[state.JOB_KEY].wait(timeout=patience(120))
    assert snap.status == JobStatus.FINISHED


def test_a_failed_job_shows_its_error_and_the_app_stays_usable(monkeypatch):
    from mnist_dash.jobs.runners.process import ProcessRunner

    def broken_train(*args, **kwargs):
        raise RuntimeError("the kernel ran out of patience")

    monkeypatch.setattr(ProcessRunner, "train", broken_train)  # the app trains in a worker process
    app = open_page("design", TINY_QUERY)
    app.switch_page("app_pages/train.py").run()
    app.button(key="train_start").click().run()
    assert app.session_state[state.JOB_KEY].wait(timeout=patience(30)).status == JobStatus.FAILED
    app.run()
    assert "Training failed: RuntimeError: the kernel ran out of patience" in texts(app.error)
    assert not app.button(key="train_start").disabled
    app.switch_page("app_pages/design.py").run()
    assert not app.exception


def damage_a_run():
    from mnist_dash.runs import RunStore
    from mnist_dash.runs.database import runs

    run_id = store_a_run(name="damaged")
    set_column(RunStore(), runs.c.record, run_id, "{broken")  # its record, as a bad disk or a hand edit leaves it
    return run_id


@pytest.mark.parametrize("page", ["weights", "evaluate"])
def test_insight_pages_without_runs_say_how_to_get_one(page):
    app = open_page(page)
    assert "No stored runs yet" in texts(app.info)


def weights_figure(app) -> dict:
    """The Weights page's violin chart, as the browser gets it."""
    import json

    return json.loads(app.get("plotly_chart")[0].proto.spec)


def test_weights_page_shows_one_kind_of_weight_per_chart_on_its_own_scale():
    run_id = store_a_run()
    app = open_page("weights")
    assert app.selectbox(key="weights_run").value.run_id == run_id
    assert app.slider(key=f"weights_epoch_{run_id}").value == 2
    kernels = weights_figure(app)
    assert [trace["name"] for trace in kernels["data"]] == ["hidden_1 kernel", "output kernel"]
    low, high = kernels["layout"]["yaxis"]["range"]
    assert -1 < low < 0 < high < 1  # Glorot kernels of these sizes stay within ±0.5: gammas (near 1) are off this axis
    app.button_group(key="weights_kind").set_value("gamma").run()
    gammas = weights_figure(app)
    assert [trace["name"] for trace in gammas["data"]] == ["bn_1 gamma"]
    low, high = gammas["layout"]["yaxis"]["range"]
    assert 0.5 < low < 1 < high < 1.5  # gamma starts at 1 and moves a little: its own, narrow scale
    app.slider(key=f"weights_epoch_{run_id}").set_value(0).run()
    assert "Statistics at epoch 0" in texts(app.subheader)
    assert weights_figure(app)["layout"]["title"]["text"] == "Initial BN scale γ (epoch 0)"
    assert not app.exception


def test_weights_statistics_table_is_as_tall_as_its_rows(monkeypatch):
    import streamlit

    heights, shown = [], []
    show = streamlit.dataframe

    def dataframe(data, *args, **kwargs):
        if not str(kwargs.get("key", "")).endswith("_table"):  # not a chart's "Read as a table"
            heights.append((len(data), kwargs.get("height")))
            shown.extend(data)
        return show(data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "dataframe", dataframe)
    store_a_run()
    open_page("weights")
    # hidden_1's kernel and bias, bn_1's gamma and beta, the output's kernel and bias; all shown, no scrolling.
    assert heights == [(6, "content")]
    # Shares with one decimal, and "–" for a bias's change (it starts at zero): the table wrote "None" there.
    changes = {row["weight"]: row["change"] for row in shown}
    assert changes["hidden_1 bias"] == "–" and re.fullmatch(r"\d+\.\d%", changes["hidden_1 kernel"])
    assert all(re.fullmatch(r"\d+\.\d%", row["near_zero"]) for row in shown)


def test_weights_play_moves_the_slider_the_chart_and_the_table_together():
    run_id = store_a_run()  # two epochs: snapshots 0, 1 and 2
    app = open_page("weights")
    slider = f"weights_epoch_{run_id}"
    figure = weights_figure(app)
    assert "frames" not in figure and "updatemenus" not in figure["layout"]  # Plotly's own play moved the chart alone
    app.button(key="weights_play").click().run()
    for epoch in (0, 1, 2):  # each run is one tick of the fragment (run_every does not fire under AppTest)
        assert app.slider(key=slider).value == epoch and app.slider(key=slider).disabled
        assert f"epoch {epoch}" in weights_figure(app)["layout"]["title"]["text"]
        assert f"Statistics at epoch {epoch}," in texts(app.subheader)
        assert app.button(key="weights_play").label == "Pause"
        app.run()
    # Played to the end: the last epoch stays, and the slider and Play are the student's again.
    assert app.slider(key=slider).value == 2 and not app.slider(key=slider).disabled
    assert app.button(key="weights_play").label == "Play epochs"
    assert "Statistics at epoch 2," in texts(app.subheader)
    app.button(key="weights_play").click().run()  # from the last epoch, play starts again at 0
    app.run()
    app.button(key="weights_play").click().run()  # pause at epoch 1
    app.run()
    assert app.slider(key=slider).value == 1 and not app.slider(key=slider).disabled
    assert "after epoch 1" in weights_figure(app)["layout"]["title"]["text"]
    assert not app.exception


def test_weights_and_evaluate_run_pickers_mark_stopped_runs_and_count_epochs():
    import keras

    from mnist_dash.jobs import TrainingJob
    from mnist_dash.runs import RunStore
    from mnist_dash.spec import LayerSpec, ModelSpec

    class StopInSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                stopped.stop()

    single = ModelSpec(layers=(LayerSpec(16),), epochs=1, batch_size=64, name="single")
    done = TrainingJob(single, resources._dataset(), store=RunStore(), queue=JobQueue(1), owner=TEST_OWNER)
    assert done.start().wait().status == JobStatus.FINISHED
    spec = single.replace(epochs=3, name="stopped early")
    stopped = TrainingJob(
        spec,
        resources._dataset(),
        store=RunStore(),
        queue=JobQueue(1),
        owner=TEST_OWNER,
        runner=ThreadRunner([StopInSecondEpoch()]),
    )
    assert stopped.start().wait().status == JobStatus.STOPPED
    for page in ("weights", "evaluate"):
        options = open_page(page).selectbox(key=f"{page}_run").options
        assert any(
            re.fullmatch(r"stopped early · stopped after 1 of 3 epochs · \d+ \w{3} \d\d:\d\d", option)
            for option in options
        )
        assert any(re.fullmatch(r"single · test \d+\.\d\d% · \d+ \w{3} \d\d:\d\d", option) for option in options)


@pytest.mark.parametrize("page", ["weights", "evaluate", "compare", "draw"])
def test_a_run_stopped_after_its_first_epoch_can_be_inspected(page):
    import keras

    from mnist_dash.jobs import TrainingJob
    from mnist_dash.runs import RunStore
    from mnist_dash.spec import LayerSpec, ModelSpec

    class StopInSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                job.stop()

    store_a_run()  # a finished run beside it: Compare judges both
    spec = ModelSpec(layers=(LayerSpec(16),), epochs=3, batch_size=64, name="stopped early")
    job = TrainingJob(
        spec,
        resources._dataset(),
        store=RunStore(),
        queue=JobQueue(1),
        owner=TEST_OWNER,
        runner=ThreadRunner([StopInSecondEpoch()]),
    )
    snap = job.start().wait()
    assert snap.status == JobStatus.STOPPED and snap.epoch == 1 and snap.run_id
    app = open_page(page)
    if page == "weights":
        options = app.selectbox(key="weights_run").options
        [index] = [i for i, label in enumerate(options) if label.startswith("stopped early")]
        app.selectbox(key="weights_run").select_index(index).run()
        assert app.slider(key=f"weights_epoch_{snap.run_id}").value == 1
        assert '"name":"hidden_1 kernel"' in app.get("plotly_chart")[0].proto.spec
    assert not app.exception


@pytest.mark.parametrize("page", ["weights", "evaluate", "compare"])
def test_a_damaged_run_is_reported_and_the_rest_shown(page):
    good = store_a_run()
    bad = damage_a_run()
    app = open_page(page)
    assert bad in texts(app.warning) and "damaged" in texts(app.warning)
    if page == "compare":
        assert app.multiselect(key="compare_runs").value == [good]
    else:
        assert app.selectbox(key=f"{page}_run").value.run_id == good
    assert not app.exception


def test_compare_reports_a_run_whose_history_is_damaged_and_shows_the_others():
    from mnist_dash.runs import RunStore
    from mnist_dash.runs.database import run_data

    good = store_a_run("good")
    bad = store_a_run("bad history")
    set_column(RunStore(), run_data.c.history, bad, "{not json")
    app = open_page("compare")
    assert set(app.multiselect(key="compare_runs").value) == {good, bad}
    assert f"run {bad} has an unreadable history" in texts(app.error)
    assert "good" in " ".join(str(frame.value) for frame in app.dataframe)
    assert not app.exception


def evaluate_figure(app) -> dict:
    """The Evaluate page's confusion matrix, as the browser gets it."""
    import json

    return json.loads(app.get("plotly_chart")[0].proto.spec)


def test_evaluate_page_shows_the_matrix_per_class_accuracy_and_mistakes():
    store_a_run()
    app = open_page("evaluate")
    assert app.metric[0].label == "Test accuracy"
    assert "Accuracy per digit" in texts(app.subheader)
    app.toggle(key="evaluate_normalised").set_value(True).run()
    app.selectbox(key="evaluate_true").set_value(None).run()
    app.selectbox(key="evaluate_pred").set_value(None).run()
    assert not app.exception


def test_evaluate_matrix_is_clickable_and_outlines_the_picked_cell():
    from streamlit.proto.PlotlyChart_pb2 import PlotlyChart as PlotlyChartProto

    from mnist_dash.evaluation import largest_confusion

    store_a_run()
    app = open_page("evaluate")
    # A click selects one point (a cell's marker); the browser suite clicks one (tests/browser/test_evaluate_click.py).
    assert list(app.get("plotly_chart")[0].proto.selection_mode) == [PlotlyChartProto.SelectionMode.POINTS]
    markers = evaluate_figure(app)["data"][1]
    counts = np.array([int(count) for count in markers["text"]]).reshape(10, 10)
    worst = largest_confusion(counts)
    assert (app.selectbox(key="evaluate_true").value, app.selectbox(key="evaluate_pred").value) == worst
    [outline] = evaluate_figure(app)["layout"]["shapes"]
    assert (outline["x0"], outline["y0"]) == (worst[1] - 0.5, worst[0] - 0.5)
    app.selectbox(key="evaluate_true").set_value(None).run()  # any true digit: the whole predicted column
    [outline] = evaluate_figure(app)["layout"]["shapes"]
    assert (outline["x0"], outline["x1"], outline["y0"], outline["y1"]) == (worst[1] - 0.5, worst[1] + 0.5, -0.5, 9.5)
    assert not app.exception


def test_compare_page_without_runs_offers_the_experiment():
    app = open_page("compare")
    assert "run the notebook's experiment" in texts(app.info)
    assert not app.button(key="compare_start").disabled


def test_compare_page_overlays_runs_with_a_table_and_observations():
    store_a_run("first")
    store_a_run("second", bn="none", dropout=0.0)
    app = open_page("compare")
    assert len(app.multiselect(key="compare_runs").value) == 2
    assert "Observations" in texts(app.subheader)
    observations = texts(app.markdown)
    # Two epochs each: too few to judge either, but the two are comparable, so ranked.
    assert observations.count("too few epochs to judge") == 2 and "underfit" not in observations
    assert "Compared: 2 epochs each, validated on the test set" in observations
    assert "Test accuracy, best first" in observations and "Dropout or batch norm" in observations


def stopped_run_for_compare(epochs: int = 3) -> str:
    """A run stopped by its owner in its second epoch of `epochs`: stored with one epoch, no test accuracy."""
    import keras

    from mnist_dash.jobs import TrainingJob
    from mnist_dash.runs import RunStore
    from mnist_dash.spec import LayerSpec, ModelSpec

    class StopInSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                job.stop()

    spec = ModelSpec(layers=(LayerSpec(16),), epochs=epochs, batch_size=64, name="stopped early")
    job = TrainingJob(
        spec,
        resources._dataset(),
        store=RunStore(),
        queue=JobQueue(1),
        owner=TEST_OWNER,
        runner=ThreadRunner([StopInSecondEpoch()]),
    )
    snap = job.start().wait()
    assert snap.status == JobStatus.STOPPED and snap.epoch == 1 and snap.run_id
    return snap.run_id


def test_compare_says_a_run_was_stopped_and_leaves_it_out_of_the_rankings():
    finished = store_a_run("finished")
    stopped = stopped_run_for_compare()
    app = open_page("compare")
    assert set(app.multiselect(key="compare_runs").value) == {finished, stopped}
    observations = texts(app.markdown)
    assert "Stopped after 1 of 3 epochs, so judged on those." in observations
    assert (
        f"Nothing ranked (only finished runs of the same epochs on the same validation data are ranked together): "
        f"stopped early ({stopped[-4:]}): stopped after 1 of 3 epochs; finished ({finished[-4:]}): 2 epochs."
    ) in observations
    *charts, table = app.dataframe  # the two charts' "Read as a table", then the runs side by side
    assert table.proto.placeholder == "—"  # a missing value (a stopped run's test accuracy) reads as a dash, not "None"
    # Each chart is named by its words (the screen reader's), and its numbers are there to read: every epoch.
    loss, accuracy = (chart.proto.alt for chart in app.get("plotly_chart"))
    assert loss.startswith("2 runs, best first.") and "validation loss" in loss and "validation accuracy" in accuracy
    assert [len(chart.value) for chart in charts] == [3, 3]  # 2 epochs of one run and 1 of the other
    # The loss curve to listen to: the one run with a curve (two epochs or more), named in the player.
    [audio] = app.get("audio")
    assert audio.proto.alt.startswith(f"The loss curve of finished ({finished[-4:]}) as sound: 2 epochs")
    assert app.selectbox(key="compare_listen").options == [f"finished ({finished[-4:]})"]


def test_the_notebooks_experiment_queues_three_presets_and_fills_the_comparison(monkeypatch):
    earlier = store_a_run("earlier")
    app = open_page("compare")
    assert app.multiselect(key="compare_runs").value == [earlier]
    app.number_input(key="compare_epochs").set_value(1).run()
    holder = hold_the_slot()  # neither 1-epoch job may end while the test reads the page
    try:
        app.button(key="compare_start").click().run()
        # The selection is the experiment's alone: its runs join as they finish, the earlier run is gone.
        assert app.multiselect(key="compare_runs").value == []
        assert "The experiment's runs join here as they finish." in texts(app.info)
        items = app.session_state[state.EXPERIMENT_KEY].items
        # Two jobs at a time per student (MNIST_DASH_OWNER_JOBS): the third waits in the session.
        assert [item.spec.name for item in items[:2]] == ["notebook-2-hidden", "notebook-3-hidden-bn"]
        assert items[2].name == "notebook-5-hidden-bn" and "waits for one of your jobs to end" in texts(app.caption)
        rerun_fragment(app, monkeypatch, "compare_view")  # a tick while they wait redraws the view alone
    finally:
        holder.finish()
    assert all(job.wait(timeout=patience(120)).status == JobStatus.FINISHED for job in items[:2])
    rerun_fragment(app, monkeypatch, "compare_view")  # the view's next tick, no input touched, starts the third
    jobs = app.session_state[state.EXPERIMENT_KEY].items
    assert (
        jobs[2].spec.name == "notebook-5-hidden-bn" and jobs[2].wait(timeout=patience(120)).status == JobStatus.FINISHED
    )
    rerun_fragment(app, monkeypatch, "compare_view")  # and after it ends, the button comes back
    assert not app.button(key="compare_start").disabled
    assert app.multiselect(key="compare_runs").value == [job.snapshot().run_id for job in jobs]
    assert "notebook-5-hidden-bn" in texts(app.markdown)
    # The next student's experiment takes the stored runs at once: nothing trains again.
    student = open_page("compare", {"me": "another student"})
    student.number_input(key="compare_epochs").set_value(1).run()
    student.button(key="compare_start").click().run()
    again = student.session_state[state.EXPERIMENT_KEY].items
    assert all(isinstance(job, CachedRun) and job.done for job in again)
    assert [job.snapshot().run_id for job in again] == [job.snapshot().run_id for job in jobs]
    assert set(student.multiselect(key="compare_runs").value) == {job.snapshot().run_id for job in jobs}


def test_the_experiments_epochs_are_bounded_by_the_cap(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_MAX_EPOCHS", "5")
    app = open_page("compare")
    epochs = app.number_input(key="compare_epochs")
    assert (epochs.value, epochs.max) == (5, 5)


def test_draw_page_without_a_model_offers_a_quick_one():
    app = open_page("draw")
    assert "no trained model yet" in texts(app.info)
    app.button(key="draw_quick").click().run()
    job = app.session_state[state.JOB_KEY]
    assert job.spec.name == "quick-model" and job.spec.epochs == 2
    assert job.wait(timeout=patience(120)).status == JobStatus.FINISHED
    app.run()
    assert app.selectbox(key="draw_run").value.run_id == job.snapshot().run_id


def test_draw_offers_a_jobs_model_after_its_first_epoch_before_it_has_a_stored_run():
    import threading

    import keras

    from mnist_dash.jobs import TrainingJob
    from mnist_dash.spec import LayerSpec, ModelSpec

    looked, release = threading.Event(), threading.Event()

    class Hold(keras.callbacks.Callback):  # the job waits before each epoch until the test has looked
        def on_epoch_begin(self, epoch, logs=None):
            (looked if epoch == 0 else release).wait(patience(60))  # a tiny epoch can end before a page's run

    spec = ModelSpec(layers=(LayerSpec(16),), epochs=2, batch_size=64, name="mine")
    job = TrainingJob(spec, resources._dataset(), queue=JobQueue(1), owner=TEST_OWNER, runner=ThreadRunner([Hold()]))
    app = open_page("draw")
    app.session_state[state.JOB_KEY] = job
    job.start()
    try:
        app.run()
        assert "Your job's model appears here once its first epoch ends." in texts(app.info)
        looked.set()
        while job.latest_weights() is None:
            job.wait(0.1)
        app.run()
        picker = app.selectbox(key="draw_run")
        assert picker.options[0] == "mine · your job in training, after epoch 1" and picker.index == 0
        assert "Draw a digit and the model's answer appears here." in texts(app.markdown) and not app.exception
    finally:
        looked.set()
        release.set()
    assert job.wait(patience(60)).status == JobStatus.FINISHED


def test_draw_page_with_a_model_renders_and_waits_for_a_digit():
    store_a_run()
    app = open_page("draw")
    assert not app.exception
    assert "Draw a digit and the model's answer appears here." in texts(app.markdown)
