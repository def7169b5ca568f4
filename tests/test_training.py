import threading

import keras
import numpy as np
import pytest

from mnist_dash.data import validation_split
from mnist_dash.jobs.training import LiveHistory, evaluate, train
from mnist_dash.weights import STAT_NAMES, WeightHistory


class StopAt(keras.callbacks.Callback):
    """Sets the stop event at the end of a given global batch, like a Stop click would."""

    def __init__(self, event: threading.Event, epoch: int, batch: int):
        super().__init__()
        self.event, self.epoch, self.batch_to_stop = event, epoch, batch
        self.batches_run = 0
        self.current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.batches_run += 1
        if self.current_epoch == self.epoch and batch == self.batch_to_stop:
            self.event.set()


def test_live_history_records_epochs_batches_and_weights(tiny_data, tiny_spec):
    live = LiveHistory(batch_interval=0.0)
    model = train(tiny_spec, validation_split(tiny_data), callbacks=[live], steps_per_execution=1)
    assert [record["epoch"] for record in live.epochs] == [1, 2]
    for record in live.epochs:
        assert set(record) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
        assert record["seconds"] > 0 and np.isfinite(record["loss"])
    steps = int(np.ceil(1200 / 64))
    assert len(live.batches) == 2 * steps  # interval 0: every batch
    assert live.batches[0]["epoch"] == 1 / steps and live.batches[-1]["epoch"] == 2.0
    history = live.weights.history
    assert history.epochs == 3  # initial weights + 2 epochs
    assert list(history.shapes)[:3] == ["hidden_1/kernel", "hidden_1/bias", "hidden_2/kernel"]
    assert "bn_2/gamma" in history.shapes and "output/kernel" in history.shapes
    assert len(history.samples["hidden_1/kernel"][0]) == 2000  # sampled from 784 x 32
    assert len(history.samples["hidden_1/bias"][0]) == 32  # small tensors are kept whole
    kernel_stats = np.stack(history.stats["hidden_1/kernel"])
    assert kernel_stats.shape == (3, len(STAT_NAMES))
    assert kernel_stats[0, STAT_NAMES.index("change")] == 0.0
    assert kernel_stats[2, STAT_NAMES.index("change")] > 0.0
    _loss, accuracy = evaluate(model, tiny_data.x_test, tiny_data.y_test)
    assert accuracy > 0.9  # the bars are easy: far above the 0.1 of chance


def test_batch_points_are_throttled(tiny_data, tiny_spec):
    live = LiveHistory(batch_interval=3600.0)
    train(tiny_spec, validation_split(tiny_data), callbacks=[live])
    assert len(live.batches) == 1  # only the very first batch within the hour


def test_stop_takes_effect_before_the_next_batch_and_drops_the_partial_epoch(tiny_data, tiny_spec):
    event = threading.Event()
    stopper = StopAt(event, epoch=1, batch=4)
    live = LiveHistory(event, batch_interval=0.0)
    train(tiny_spec.replace(epochs=5), validation_split(tiny_data), callbacks=[stopper, live], steps_per_execution=1)
    steps = int(np.ceil(1200 / 64))
    assert stopper.batches_run == steps + 5  # epoch 1 whole, then batches 0-4 of epoch 2
    assert [record["epoch"] for record in live.epochs] == [1]
    assert live.batches[-1]["epoch"] == 1 + 5 / steps  # the partial epoch's points are kept
    assert live.weights.history.epochs == 2


def test_with_several_batches_per_call_points_stay_in_their_epoch_and_a_stop_waits_for_the_call(tiny_data, tiny_spec):
    event = threading.Event()
    stopper = StopAt(event, epoch=1, batch=7)  # at the end of epoch 2's first call of 8 batches
    live = LiveHistory(event, batch_interval=0.0)
    train(tiny_spec.replace(epochs=5), validation_split(tiny_data), callbacks=[stopper, live], steps_per_execution=8)
    steps = int(np.ceil(1200 / 64))  # 19: calls of 8, 8 and 3 batches
    assert [point["epoch"] for point in live.batches] == pytest.approx([8 / steps, 16 / steps, 1.0, 1 + 8 / steps])
    assert stopper.batches_run == 4  # the batch hooks run once per call
    assert [record["epoch"] for record in live.epochs] == [1]


def test_weight_history_round_trips_through_arrays(tiny_data, tiny_spec):
    live = LiveHistory()
    train(tiny_spec.replace(epochs=1), validation_split(tiny_data), callbacks=[live])
    original = live.weights.history
    restored = WeightHistory.from_arrays(original.to_arrays())
    assert list(restored.shapes) == list(original.shapes)
    for key in original.shapes:
        np.testing.assert_array_equal(np.stack(restored.samples[key]), np.stack(original.samples[key]))
        np.testing.assert_array_equal(np.stack(restored.stats[key]), np.stack(original.stats[key]))


def test_cosine_schedule_falls_from_the_learning_rate_towards_zero(tiny_spec):
    from mnist_dash.jobs.training import learning_rate_at

    spec = tiny_spec.replace(learning_rate=0.002, epochs=4, lr_schedule="cosine")
    rates = [learning_rate_at(spec, epoch) for epoch in range(4)]
    assert rates[0] == pytest.approx(0.002) and rates[2] == pytest.approx(0.001)
    assert rates == sorted(rates, reverse=True) and rates[-1] > 0
    assert learning_rate_at(spec.replace(lr_schedule="constant"), 3) == 0.002


def test_training_follows_the_schedule(tiny_data, tiny_spec):
    spec = tiny_spec.replace(learning_rate=0.01, epochs=2, lr_schedule="cosine")
    model = train(spec, validation_split(tiny_data))
    assert float(model.optimizer.learning_rate) == pytest.approx(0.005)  # the last epoch's rate


def test_violin_data_is_labelled_by_layer_for_a_bn_model(tiny_data):
    from mnist_dash.plots.model import weight_violins
    from mnist_dash.presets import PRESETS
    from mnist_dash.weights import stats_rows, violin_series

    spec = PRESETS["notebook-3-hidden-bn"].replace(epochs=1, batch_size=256)
    live = LiveHistory()
    train(spec, validation_split(tiny_data), callbacks=[live])
    series = violin_series(live.weights.history, epoch=1)
    labels = [label for label, _ in series]
    assert labels == [
        "hidden_1 kernel",
        "hidden_1 bias",
        "hidden_2 kernel",
        "hidden_2 bias",
        "bn_2 gamma",
        "bn_2 beta",
        "hidden_3 kernel",
        "hidden_3 bias",
        "bn_3 gamma",
        "bn_3 beta",
        "output kernel",
        "output bias",
    ]
    # The notebook's third violin, get_weights()[4], is bn_2's gamma: 300 values, not the output layer's.
    assert len(dict(series)["bn_2 gamma"]) == 300 and len(dict(series)["output kernel"]) == 1000
    initial = dict(violin_series(live.weights.history, epoch=0))
    np.testing.assert_array_equal(initial["bn_2 gamma"], np.ones(300))  # BN starts at gamma = 1
    figure = weight_violins(series, epoch=1)
    assert [trace.name for trace in figure.data] == labels
    rows = stats_rows(live.weights.history, epoch=1)
    assert rows[0]["layer"] == "hidden_1" and rows[0]["weight"] == "kernel" and rows[0]["count"] == 784 * 500
    assert rows[0]["change"] > 0 and 0 <= rows[0]["near_zero"] <= 1


# Four linear layers and SGD at its highest allowed rate: the loss is NaN within the first epoch (batch 7 of 19).
DIVERGING = {"optimizer": "sgd", "learning_rate": 1.0, "momentum": 0.9, "epochs": 3}


def test_a_diverging_run_stops_at_once_and_records_no_nan(tiny_data, tiny_spec):
    from mnist_dash.spec import LayerSpec

    spec = tiny_spec.replace(layers=(LayerSpec(32, "linear"),) * 4, **DIVERGING)
    live = LiveHistory(batch_interval=0.0)
    model = train(spec, validation_split(tiny_data), callbacks=[live], steps_per_execution=1)
    diverged = live.diverged
    assert diverged is not None and diverged.epoch == 1 and diverged.metric == "loss"
    assert 1 <= diverged.batch < diverged.steps and not np.isfinite(diverged.value)
    assert len(model.history.history["loss"]) == 1  # stopped in the first of three epochs
    assert live.epochs == [] and live.weights.history.epochs == 1  # the initial weights only
    assert len(live.batches) == diverged.batch - 1 and all(np.isfinite(p["loss"]) for p in live.batches)
    message = diverged.explain(spec)
    assert f"epoch 1, batch {diverged.batch} of {diverged.steps}" in message
    assert "Lower the learning rate (1 with sgd), e.g. to 0.01" in message


def test_a_nan_validation_loss_counts_as_divergence_too(tiny_spec):
    class Model:
        stop_training = False

    live = LiveHistory()
    live.set_model(Model())
    live.steps = live.batch = 5
    live.on_epoch_end(2, {"loss": 0.5, "accuracy": 0.8, "val_loss": float("inf"), "val_accuracy": 0.1})
    assert live.epochs == [] and live.model.stop_training
    assert (live.diverged.epoch, live.diverged.batch, live.diverged.metric) == (3, 0, "val_loss")
    message = live.diverged.explain(tiny_spec.replace(learning_rate=0.0005))
    assert "validation loss became inf after epoch 3" in message and "e.g. to 5e-05" in message
