import random

import numpy as np
import pytest

from mnist_dash.model import build_model, layer_weights, summary_rows
from mnist_dash.plan import count_params, layer_plan
from mnist_dash.presets import PRESETS
from mnist_dash.spec import (
    ACTIVATIONS,
    BATCH_NORM_PLACEMENTS,
    INITIALIZERS,
    OPTIMIZERS,
    LayerSpec,
    ModelSpec,
    SpecError,
)
from tests.conftest import make_digits


def random_spec(rng: random.Random) -> ModelSpec:
    layers = tuple(
        LayerSpec(
            units=rng.randint(1, 300),
            activation=rng.choice(ACTIVATIONS),
            dropout=rng.choice([0.0, 0.25, 0.9]),
            batch_norm=rng.choice(BATCH_NORM_PLACEMENTS),
        )
        for _ in range(rng.randint(1, 10))
    )
    return ModelSpec(layers=layers, optimizer=rng.choice(OPTIMIZERS), initializer=rng.choice(INITIALIZERS))


def assert_counts_match_keras(spec):
    model = build_model(spec)
    counts = count_params(spec)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert model.count_params() == counts.total
    assert trainable == counts.trainable
    assert counts.total - trainable == counts.non_trainable


@pytest.mark.parametrize("name", PRESETS)
def test_arithmetic_counts_equal_keras_for_presets(name):
    assert_counts_match_keras(PRESETS[name])


def test_arithmetic_counts_equal_keras_for_random_specs():
    rng = random.Random(7)
    for _ in range(12):
        assert_counts_match_keras(random_spec(rng))


def test_summary_rows_follow_the_plan_with_keras_counts():
    spec = PRESETS["notebook-3-hidden-bn"]
    rows = summary_rows(build_model(spec))
    plan = layer_plan(spec)
    assert [(r.name, r.kind, r.output_shape, r.params) for r in rows] == [
        (p.name, p.kind, p.output_shape, p.params) for p in plan
    ]
    assert [r.trainable_params for r in rows] == [p.trainable_params for p in plan]


def test_model_takes_raw_pixels_and_outputs_probabilities():
    model = build_model(ModelSpec(layers=(LayerSpec(8),)))
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    probabilities = np.asarray(model(pixels))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_weights_are_labelled_by_layer_not_position():
    model = build_model(PRESETS["notebook-3-hidden-bn"])
    weights = layer_weights(model)
    assert list(weights) == ["hidden_1", "hidden_2", "bn_2", "hidden_3", "bn_3", "output"]
    assert list(weights["bn_2"]) == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert weights["hidden_1"]["kernel"].shape == (784, 500)
    assert weights["output"]["kernel"].shape == (100, 10)
    # The notebook's bug: position 4 of get_weights() is bn_2's gamma, not the output layer.
    np.testing.assert_array_equal(model.get_weights()[4], weights["bn_2"]["gamma"])
    assert model.get_weights()[4].shape == (300,)


def test_seed_fixes_the_initial_weights():
    spec = ModelSpec(layers=(LayerSpec(8),), seed=3)
    first = layer_weights(build_model(spec))["hidden_1"]["kernel"]
    again = layer_weights(build_model(spec))["hidden_1"]["kernel"]
    other = layer_weights(build_model(spec.replace(seed=4)))["hidden_1"]["kernel"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(("optimizer", "keras_class"), [("adam", "Adam"), ("sgd", "SGD"), ("rmsprop", "RMSprop")])
def test_optimizer_and_learning_rate(optimizer, keras_class):
    model = build_model(ModelSpec(layers=(LayerSpec(4),), optimizer=optimizer, learning_rate=0.05, momentum=0.5))
    assert type(model.optimizer).__name__ == keras_class
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    if optimizer == "sgd":
        assert model.optimizer.momentum == 0.5


def test_invalid_spec_is_refused():
    with pytest.raises(SpecError, match="units"):
        build_model(ModelSpec(layers=(LayerSpec(0),)))


def test_any_spec_name_builds():
    model = build_model(ModelSpec(layers=(LayerSpec(4),), name="Mine: v2 (fast!)"))
    assert model.name.startswith("mlp_Mine")


def test_the_engines_fused_adam_moves_the_weights_as_keras_adam_does():
    """The engine trains with `FusedAdam` (TensorFlow's one-kernel update); a `.keras` download keeps Keras's Adam.
    Both give the same weights, step for step, to float rounding, with the same optimizer state."""
    import keras

    x, y = make_digits(384, seed=1)
    spec = PRESETS["notebook-2-hidden"].replace(seed=3)
    trained = {}
    for fused in (False, True):
        keras.utils.set_random_seed(3)
        model = build_model(spec, fused=fused)
        assert type(model.optimizer).__name__ == ("FusedAdam" if fused else "Adam")
        model.fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=False)  # three steps
        trained[fused] = model.get_weights() + [np.array(v) for v in model.optimizer.variables]
    for keras_adam, fused_adam in zip(trained[False], trained[True], strict=True):
        np.testing.assert_allclose(fused_adam, keras_adam, rtol=1e-4, atol=1e-6)
    assert any(np.any(w != 0) for w in trained[True][-4:])  # the state moved: momentums and velocities are in it
