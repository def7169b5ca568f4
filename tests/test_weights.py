"""The kinds of weight a history holds and the one scale each gets, on hand-made histories."""

import numpy as np

from mnist_dash.weights import WeightHistory, WeightRecorder, sample_range, weight_kinds


def history(samples: dict[str, list[list[float]]]) -> WeightHistory:
    """A WeightHistory holding `samples` (key -> one list of values per epoch); shapes from epoch 0."""
    made = WeightHistory()
    for key, epochs in samples.items():
        made.shapes[key] = (len(epochs[0]),)
        made.samples[key] = [np.array(values, np.float32) for values in epochs]
    return made


BN = history(
    {
        "hidden_1/kernel": [[-0.1, 0.1], [-0.3, 0.2]],
        "hidden_1/bias": [[0.0], [0.05]],
        "bn_1/gamma": [[1.0], [1.25]],
        "bn_1/beta": [[0.0], [-0.5]],
        "bn_1/moving_mean": [[0.0], [7.0]],  # a statistic, not a trained weight
        "output/kernel": [[-0.5, 0.5], [-0.25, 0.75]],
    }
)


def test_weight_kinds_in_training_order_and_only_those_present():
    assert weight_kinds(BN) == ["kernel", "bias", "gamma", "beta"]
    plain = history({"hidden_1/kernel": [[0.0]], "hidden_1/bias": [[0.0]]})
    assert weight_kinds(plain) == ["kernel", "bias"]


def test_sample_range_spans_every_epoch_of_one_kind():
    assert sample_range(BN, ("kernel",)) == (-0.5, 0.75)  # epoch 0's -0.5 and epoch 1's 0.75
    assert sample_range(BN, ("gamma",)) == (1.0, 1.25)
    assert sample_range(BN, ("moving_mean",)) == (0.0, 7.0)
    assert sample_range(BN) == (-0.5, 1.25)  # every trained kind together: moving_mean's 7 is left out
    assert sample_range(WeightHistory(), ("kernel",)) == (0.0, 0.0)


def record_epochs(recorder: WeightRecorder, moves: list[dict[int, float]], units: int = 100, start=True) -> None:
    """Record epoch 0 (with `start`), then one epoch per entry of `moves` ({unit: how far it has moved by then})."""
    rng = np.random.default_rng(3)
    initial = rng.normal(0, 0.05, size=(784, units)).astype(np.float32)
    for moved in [{}, *moves] if start else moves:
        kernel = initial.copy()
        for unit, distance in moved.items():
            kernel[:, unit] += distance / 28  # 784 pixels: ||change|| = distance
        recorder.record({"hidden_1": {"kernel": kernel, "bias": np.zeros(units)}})


def test_the_recorder_keeps_the_most_changed_units_images_at_every_epoch():
    recorder = WeightRecorder(sample_size=50)
    record_epochs(recorder, [{5: 1.0, 9: 0.5}, {5: 1.0, 9: 3.0, 70: 2.0}])
    history = recorder.history
    assert history.unit_ids.shape == (64,) and history.unit_kernels.shape == (3, 64, 784)
    assert history.unit_ids[:3].tolist() == [9, 70, 5]  # by their change at the newest epoch
    assert len(set(history.unit_ids.tolist())) == 64
    grid = history.unit_kernels.astype(np.float32)
    changes = np.linalg.norm(grid - grid[0], axis=2)  # the same units at every epoch: epoch 0 is their start
    np.testing.assert_allclose(changes[:, :3], [[0, 0, 0], [0.5, 0, 1.0], [3.0, 2.0, 1.0]], atol=0.02)
    copied = history.copy()
    record_epochs(recorder, [{1: 9.0}], start=False)
    assert copied.unit_kernels.shape[0] == 3  # a copy is not changed by later snapshots


def test_a_first_layer_of_few_units_shows_them_all_and_no_first_layer_none():
    recorder = WeightRecorder()
    record_epochs(recorder, [{2: 1.0}], units=10)
    assert recorder.history.unit_ids.tolist() == [2, 0, 1, 3, 4, 5, 6, 7, 8, 9]
    deep_only = WeightRecorder()
    deep_only.record({"hidden_2": {"kernel": np.zeros((16, 4)), "bias": np.zeros(4)}})
    assert deep_only.history.unit_ids is None and deep_only.history.unit_kernels is None


def test_past_its_memory_budget_the_recorder_keeps_only_the_units_that_moved_most():
    # 300 units of 784 float16 weights: 470 kB an epoch; a budget of 1 MB is passed at the third snapshot.
    recorder = WeightRecorder(sample_size=50, kernel_budget=1024**2)
    moves = {unit: 0.01 * unit for unit in range(300)}  # unit 299 moved most
    record_epochs(recorder, [moves], units=300)
    assert recorder._kept.size == 300  # two snapshots: 940 kB
    record_epochs(recorder, [moves, moves], units=300, start=False)  # past the budget at the third
    assert recorder._kept.tolist() == list(range(299, 43, -1))  # the 256 that had moved most, most first
    assert [kernel.shape for kernel in recorder._kernels] == [(784, 256)] * 4
    history = recorder.history
    assert history.unit_ids.tolist() == list(range(299, 235, -1)) and history.unit_kernels.shape == (4, 64, 784)
    moved = np.linalg.norm(history.unit_kernels[:, 0].astype(np.float32) - history.unit_kernels[0, 0], axis=1)
    np.testing.assert_allclose(moved, [0, 2.99, 2.99, 2.99], atol=0.01)  # unit 299, every epoch since its first
