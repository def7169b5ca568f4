"""predict: the network in NumPy from a run's weights, held to Keras's own outputs, gradients and finite differences.

The server never imports Keras: Draw, Evaluate and the board read models through `Network`.
Here Keras builds each model (every preset, random designs, every activation the designer
offers), its batch norm's statistics and scales are set away from their identity starts, and
NumPy must give Keras's probabilities and activations to 1e-5 and its saliency (TensorFlow's
gradient) to 1e-4 of the map's largest value.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_dash.model import build_model, layer_weights
from mnist_dash.predict import EpochPredictions, Network
from mnist_dash.presets import PRESETS
from mnist_dash.runs import DamagedRunError
from mnist_dash.spec import ACTIVATIONS, BATCH_NORM_PLACEMENTS, LayerSpec, ModelSpec
from mnist_dash.units import unit_images

# Every kind of hidden layer: batch norm before and after the activation, dropout, smooth and piecewise activations.
SPEC = ModelSpec(
    layers=(LayerSpec(24, "tanh", dropout=0.3, batch_norm="before"), LayerSpec(12, "relu", batch_norm="after")),
    seed=3,
    name="explained",
)


def trained_looking(spec: ModelSpec, seed: int = 0) -> keras.Model:
    """`spec`'s Keras model with its weights moved off their starts and batch norm's statistics and scales set
    away from identity (as after training), so every part of the maths shows."""
    model = build_model(spec)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.3, beta.shape),
                    rng.normal(0, 0.5, mean.shape),
                    rng.uniform(0.5, 2.0, variance.shape),
                ]
            )
        elif type(layer).__name__ == "Dense":
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * rng.uniform(0.8, 1.6), rng.normal(0, 0.1, bias.shape)])
    return model


def image(seed: int = 1) -> np.ndarray:
    """A stroke-like 28 x 28 uint8 image: a bar and a little noise."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 30, (28, 28)).astype(np.uint8)
    pixels[6:22, 12:16] = 255
    return pixels


def keras_probabilities(model, images: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(np.asarray(images, np.float32), training=False))


def keras_saliency(model, pixels: np.ndarray) -> np.ndarray:
    """TensorFlow's gradient of each digit's probability with respect to each pixel: ten copies, one backward pass."""
    batch = tf.constant(np.repeat(pixels[None].astype(np.float32), 10, axis=0))
    with tf.GradientTape() as tape:
        tape.watch(batch)
        target = tf.reduce_sum(tf.linalg.diag_part(model(batch, training=False)))
    return tape.gradient(target, batch).numpy()


def keras_activity(model, pixels: np.ndarray) -> dict[str, np.ndarray]:
    """What each hidden layer hands on: the output of the last layer before the next Dense (dropout aside)."""
    x, found, current, last = pixels[None].astype(np.float32), {}, None, None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense" and current is not None:
            found[current] = last
        x = layer(x, training=False)
        if kind == "Dense":
            current = layer.name
        if kind != "Dropout":
            last = keras.ops.convert_to_numpy(x)[0]
    return found


def same_as_keras(spec: ModelSpec, model: keras.Model, images: np.ndarray) -> None:
    network = Network(spec, model.get_weights())
    np.testing.assert_allclose(network.probabilities(images), keras_probabilities(model, images), rtol=0, atol=1e-5)
    explanation = network.explain(images[0])
    saliency = keras_saliency(model, images[0])
    reach = np.abs(saliency).max()
    np.testing.assert_allclose(explanation.saliency, saliency, rtol=0, atol=1e-4 * reach)
    activity = keras_activity(model, images[0])
    assert [layer.name for layer in explanation.layers] == list(activity)
    for layer in explanation.layers:
        np.testing.assert_allclose(layer.values, activity[layer.name], rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_gives_keras_s_answers_activity_and_saliency(name):
    spec = PRESETS[name]
    images = np.stack([image(seed) for seed in range(8)])
    same_as_keras(spec, trained_looking(spec), images)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_the_designer_offers_gives_keras_s_answers(activation):
    spec = ModelSpec(
        layers=(
            LayerSpec(20, activation, batch_norm="before"),
            LayerSpec(12, activation, dropout=0.2, batch_norm="after"),
        )
    )
    same_as_keras(spec, trained_looking(spec), np.stack([image(seed) for seed in range(4)]))


layer_specs = st.builds(
    LayerSpec,
    units=st.integers(1, 40),
    activation=st.sampled_from(ACTIVATIONS),
    dropout=st.sampled_from([0.0, 0.2, 0.5]),
    batch_norm=st.sampled_from(BATCH_NORM_PLACEMENTS),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=st.lists(layer_specs, min_size=1, max_size=3), seed=st.integers(0, 1000))
def test_random_designs_give_keras_s_answers_activity_and_saliency(layers, seed):
    spec = ModelSpec(layers=tuple(layers), seed=seed)
    images = np.stack([image(seed + n) for n in range(3)])
    same_as_keras(spec, trained_looking(spec, seed), images)


def test_the_most_active_units_are_the_first_layers_largest_outputs_with_their_images():
    model = trained_looking(SPEC)
    explanation = Network(SPEC, model.get_weights()).explain(image())
    values = keras_activity(model, image())["hidden_1"]
    active = explanation.most_active(5)
    assert [unit for unit, _ in active] == list(np.argsort(-values)[:5])
    assert explanation.first_layer == "hidden_1" and explanation.answer == int(explanation.probabilities.argmax())
    kernel = layer_weights(model)["hidden_1"]["kernel"]
    np.testing.assert_array_equal(
        unit_images(explanation.first_kernel, [active[0][0]])[0], kernel[:, active[0][0]].reshape(28, 28)
    )


@pytest.mark.parametrize("digit", [0, 7])
def test_saliency_matches_finite_differences_on_a_few_pixels(digit):
    network = Network(SPEC, trained_looking(SPEC).get_weights())
    pixels = image().astype(np.float64)
    saliency = network.explain(image()).saliency[digit]
    step = 2.0  # pixel units (0-255): tanh and batch norm are smooth; the relu layer's kinks are far away

    def probability(changed):
        return float(network.probabilities(changed[None])[0][digit])

    for row, column in [(10, 13), (14, 14), (3, 3), (20, 25)]:
        up, down = pixels.copy(), pixels.copy()
        up[row, column] += step
        down[row, column] -= step
        estimate = (probability(up) - probability(down)) / (2 * step)
        assert saliency[row, column] == pytest.approx(estimate, rel=0.05, abs=1e-7), (row, column)
    assert not np.allclose(network.explain(image()).saliency[0], network.explain(image()).saliency[1])


def test_weights_that_do_not_fit_the_design_are_a_damaged_run():
    weights = build_model(SPEC).get_weights()
    with pytest.raises(DamagedRunError, match="do not fit its design"):
        Network(SPEC, weights[:-1])
    with pytest.raises(DamagedRunError, match="do not fit its design"):
        Network(SPEC, [np.zeros((3, 3)), *weights[1:]])
    with pytest.raises(DamagedRunError, match="do not fit its design"):
        Network(SPEC, [*weights, np.zeros(3)])


def test_probabilities_in_batches_are_the_same():
    network = Network(SPEC, trained_looking(SPEC).get_weights())
    images = np.stack([image(seed) for seed in range(5)])
    np.testing.assert_allclose(network.probabilities(images, batch_size=2), network.probabilities(images), atol=1e-7)
    assert network.probabilities(images[:0]).shape == (0, 10)


def test_epoch_predictions_add_one_point_per_new_epoch_and_restart_for_a_new_image(tiny_data, tiny_spec):
    weights = build_model(tiny_spec).get_weights()
    tracker = EpochPredictions(tiny_spec)
    image = tiny_data.x_test[0]
    assert tracker.update(image, (1, weights)) and not tracker.update(image, (1, weights))
    assert tracker.update(image, (2, weights)) and tracker.epochs == [1, 2]
    np.testing.assert_allclose(tracker.probabilities[0].sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(tracker.probabilities[0], tracker.probabilities[1], rtol=1e-6)  # same weights
    assert tracker.update(tiny_data.x_test[1], (3, weights))
    assert tracker.epochs == [3]


def test_unit_tiles_put_each_units_image_in_its_place():
    from mnist_dash.plots.explain import unit_tiles

    images = np.arange(5 * 28 * 28, dtype=float).reshape(5, 28, 28) - 1000
    figure = unit_tiles(images, [f"unit {n}" for n in range(5)], columns=4)
    mosaic = np.asarray(figure.data[0].z, dtype=float)
    assert mosaic.shape == (2 * (28 + 7), 4 * (28 + 3))
    np.testing.assert_array_equal(mosaic[7:35, 0:28], images[0])
    np.testing.assert_array_equal(mosaic[7:35, 31:59], images[1])
    np.testing.assert_array_equal(mosaic[42:70, 0:28], images[4])  # the fifth starts the second row
    assert np.isnan(mosaic[42:70, 31:]).all()  # nothing where there is no unit
    assert [note.text for note in figure.layout.annotations] == [f"unit {n}" for n in range(5)]
    assert figure.data[0].zmin == -figure.data[0].zmax  # centred on zero
