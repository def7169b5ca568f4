"""Weights page, "What each hidden unit looks for" (AppTest, tiny runs on synthetic digits)."""

import base64

import numpy as np
import pytest

from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.runs import RunStore
from mnist_dash.runs.database import run_data
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.ui import resources
from mnist_dash.units import dense_kernels, strongest_inputs, strongest_units
from tests.support import TEST_OWNER, chart, labels, npz, open_page, open_units_tab, set_column, store_a_run, texts

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


def z_values(figure: dict) -> np.ndarray:
    """A heatmap's z, which Plotly sends as a typed array (base64)."""
    z = figure["data"][0]["z"]
    shape = [int(n) for n in str(z["shape"]).split(",")]
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)


def pick_run(app, name: str) -> None:
    options = app.selectbox(key="weights_run").options
    [index] = [i for i, label in enumerate(options) if label.startswith(f"{name} ·")]
    app.selectbox(key="weights_run").select_index(index).run()


def store_two_layer_run() -> str:
    spec = ModelSpec(layers=(LayerSpec(40), LayerSpec(12)), epochs=2, batch_size=64, name="two layers")
    job = TrainingJob(spec, resources._dataset(), store=RunStore(), queue=JobQueue(1), owner=TEST_OWNER)
    snap = job.start().wait()
    assert snap.status == JobStatus.FINISHED, snap.error
    return snap.run_id


def test_the_first_layers_units_are_drawn_most_moved_first_and_follow_the_epoch_slider():
    run_id = store_two_layer_run()
    stored = RunStore().weights(run_id)
    app = open_page("weights")
    assert [tab.label for tab in app.tabs] == ["Distributions", "What each unit looks for"]
    assert not app.get("select_slider") and app.get("plotly_chart")  # the violins only: the grids are not built
    open_units_tab(app)
    assert "hidden_1: the 32 units that moved most, after epoch 2" in texts(app.markdown)
    count = app.select_slider(key="weights_units_count")
    assert count.value == 32 and list(count.options) == ["16", "24", "32", "40"]
    shown = labels(app, "weights_units_chart_0") + labels(app, "weights_units_chart_1")
    assert [int(label.split(" · ")[0]) for label in shown] == stored.unit_ids[:32].tolist()
    images = stored.unit_kernels[:, :32]
    limit = np.abs(images).max()  # the 32 units over every epoch: one scale, whatever the epoch
    first = z_values(chart(app, "weights_units_chart_0"))
    np.testing.assert_array_equal(first[9:37, :28], np.round(images[2, 0].reshape(28, 28) / limit * 127))
    app.slider(key=f"weights_epoch_{run_id}").set_value(0).run()
    assert "hidden_1: the 32 units that moved most, at the start" in texts(app.markdown)
    first = z_values(chart(app, "weights_units_chart_0"))
    np.testing.assert_array_equal(first[9:37, :28], np.round(images[0, 0].reshape(28, 28) / limit * 127))
    assert all(label.endswith(" · 0.0") for label in labels(app, "weights_units_chart_0"))  # none moved yet
    # The deeper layers have only the final weights whole: at epoch 0 the page says so, not seeming to follow it.
    assert "drawn from the weights after epoch 2 only" in texts(app.info) and "not epoch 0" in texts(app.info)
    app.select_slider(key="weights_units_count").set_value(16).run()
    assert len(labels(app, "weights_units_chart_0") + labels(app, "weights_units_chart_1")) == 16
    assert not app.exception


def test_a_deeper_layers_units_show_their_strongest_inputs_from_the_final_weights():
    run_id = store_two_layer_run()
    kernels = dict(dense_kernels(RunStore().get(run_id).spec, RunStore().final_weights(run_id)))
    app = open_page("weights")
    open_units_tab(app)
    layer = app.selectbox(key="weights_units_layer")
    assert layer.options == ["hidden_2", "output"] and layer.value == "hidden_2"
    rows = labels(app, "weights_inputs_chart_0")
    units = strongest_units(kernels["hidden_2"], 8)
    inputs, weights = strongest_inputs(kernels["hidden_2"], units[0], 5)
    expected = [f"{source} {weight:+.2f}".replace("-", "−") for source, weight in zip(inputs, weights, strict=True)]
    assert rows[:5] == expected and f"<b>unit {units[0]}</b>" in rows
    assert "Weights after epoch 2" in texts(app.caption)
    layer.set_value("output").run()
    digits = labels(app, "weights_inputs_chart_0") + labels(app, "weights_inputs_chart_1")
    assert [label for label in digits if label.startswith("<b>")] == [f"<b>digit {d}</b>" for d in range(10)]
    assert not app.exception


def test_a_run_stored_before_unit_images_shows_its_final_units_and_says_so():
    run_id = store_a_run()  # 16 units, batch norm after
    store = RunStore()
    recorded = store.weights(run_id)
    arrays = recorded.to_arrays()
    del arrays["units/ids"], arrays["units/kernels"]
    set_column(store, run_data.c.snapshots, run_id, npz(arrays))  # as runs were stored before them
    app = open_page("weights")
    open_units_tab(app)
    assert "stored before unit images were kept" in texts(app.info)
    assert "after epoch 2" in texts(app.markdown)  # its last epoch, whatever the slider says
    # Ordered by how far they moved from the initial weights that the design and its seed rebuild: the same
    # units, in the same order, as the run recorded while it trained.
    shown = labels(app, "weights_units_chart_0") + labels(app, "weights_units_chart_1")
    assert [int(label.split(" · ")[0]) for label in shown] == recorded.unit_ids.tolist()
    app.slider(key=f"weights_epoch_{run_id}").set_value(0).run()
    assert "after epoch 2" in texts(app.markdown) and not app.exception


def test_choices_another_run_lacks_fall_back_to_what_it_has():
    wide = store_two_layer_run()  # 40 units, then hidden_2 and the output
    narrow = store_a_run()  # 16 units, then the output
    app = open_page("weights")
    open_units_tab(app)
    pick_run(app, "two layers")
    assert app.selectbox(key="weights_run").value.run_id == wide
    app.select_slider(key="weights_units_count").set_value(40).run()
    app.selectbox(key="weights_units_layer").set_value("hidden_2").run()
    assert len(labels(app, "weights_units_chart_0") + labels(app, "weights_units_chart_1")) == 40
    pick_run(app, "tiny")
    assert app.selectbox(key="weights_run").value.run_id == narrow and not app.exception
    assert len(labels(app, "weights_units_chart_0") + labels(app, "weights_units_chart_1")) == 16
    assert app.selectbox(key="weights_units_layer").value == "output"
