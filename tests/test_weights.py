"""The kinds of weight a history holds and the one scale each gets, on hand-made histories."""

import numpy as np

from mnist_dash.weights import WeightHistory, sample_range, weight_kinds


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
