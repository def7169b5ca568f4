"""predict: the model called on what to_mnist returns, and "why this answer" against NumPy and finite differences."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnist_dash.model import build_model, layer_weights
from mnist_dash.predict import EpochPredictions, Explainer, predict_probabilities
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.units import unit_images

REPO = Path(__file__).resolve().parent.parent
# Every kind of hidden layer: batch norm before and after the activation, dropout, smooth and piecewise activations.
SPEC = ModelSpec(
    layers=(LayerSpec(24, "tanh", dropout=0.3, batch_norm="before"), LayerSpec(12, "relu", batch_norm="after")),
    seed=3,
    name="explained",
)


@pytest.fixture(scope="module")
def model():
    """SPEC's model with batch norm's statistics and scales set away from their identity starts."""
    model = build_model(SPEC)
    rng = np.random.default_rng(0)
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
    return model


def image(seed: int = 1) -> np.ndarray:
    """A stroke-like 28 x 28 uint8 image: a bar and a little noise."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 30, (28, 28)).astype(np.uint8)
    pixels[6:22, 12:16] = 255
    return pixels


def numpy_layers(model, pixels: np.ndarray) -> list[np.ndarray]:
    """What each hidden layer passes on, by hand: SPEC's layers written out in NumPy, dropout off."""
    weights = layer_weights(model)

    def batch_norm(x, name):
        bn = weights[name]
        return bn["gamma"] * (x - bn["moving_mean"]) / np.sqrt(bn["moving_variance"] + 1e-3) + bn["beta"]

    x = pixels.astype(np.float64).reshape(-1) / 255
    first = np.tanh(batch_norm(x @ weights["hidden_1"]["kernel"] + weights["hidden_1"]["bias"], "bn_1"))
    second = batch_norm(np.maximum(first @ weights["hidden_2"]["kernel"] + weights["hidden_2"]["bias"], 0), "bn_2")
    return [first, second]


def test_activations_equal_a_forward_pass_by_hand(model):
    explanation = Explainer(model).explain(image())
    assert [layer.name for layer in explanation.layers] == ["hidden_1", "hidden_2"]
    for layer, expected in zip(explanation.layers, numpy_layers(model, image()), strict=True):
        np.testing.assert_allclose(layer.values, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(explanation.probabilities, predict_probabilities(model, image()[None])[0], atol=1e-6)
    assert explanation.answer == int(explanation.probabilities.argmax())


def test_the_most_active_units_are_the_first_layers_largest_outputs_with_their_images(model):
    explanation = Explainer(model).explain(image())
    values = numpy_layers(model, image())[0]
    active = explanation.most_active(5)
    assert [unit for unit, _ in active] == list(np.argsort(-values)[:5])
    assert explanation.first_layer == "hidden_1"
    kernel = layer_weights(model)["hidden_1"]["kernel"]
    np.testing.assert_array_equal(
        unit_images(explanation.first_kernel, [active[0][0]])[0], kernel[:, active[0][0]].reshape(28, 28)
    )


def probability(model, pixels: np.ndarray, digit: int) -> float:
    return float(predict_probabilities(model, pixels[None].astype(np.float64))[0][digit])


@pytest.mark.parametrize("digit", [0, 7])
def test_saliency_matches_finite_differences_on_a_few_pixels(model, digit):
    pixels = image().astype(np.float32)
    saliency = Explainer(model).explain(image()).saliency[digit]
    step = 2.0  # pixel units (0-255): tanh and batch norm are smooth; the relu layer's kinks are far away
    for row, column in [(10, 13), (14, 14), (3, 3), (20, 25)]:
        up, down = pixels.copy(), pixels.copy()
        up[row, column] += step
        down[row, column] -= step
        estimate = (probability(model, up, digit) - probability(model, down, digit)) / (2 * step)
        assert saliency[row, column] == pytest.approx(estimate, rel=0.05, abs=1e-7), (row, column)
    assert np.abs(saliency).max() > 0


def test_a_digit_s_saliency_map_is_its_own(model):
    explanation = Explainer(model).explain(image())
    maps = explanation.saliency.reshape(10, -1)
    assert not np.allclose(maps[0], maps[1])  # each digit gets its map, not ten copies of one


def test_jax_gives_the_same_explanation(model, tmp_path):
    """The gradient is the backend's own: JAX, in a fresh interpreter, agrees with TensorFlow here."""
    pytest.importorskip("jax")
    weights = tmp_path / "weights.npz"
    np.savez(weights, *model.get_weights())
    script = f"""
import json, numpy as np
from mnist_dash.model import build_model
from mnist_dash.predict import Explainer
from tests.test_predict import SPEC, image
model = build_model(SPEC)
with np.load({str(weights)!r}) as saved:
    model.set_weights([saved[f"arr_{{i}}"] for i in range(len(saved.files))])
e = Explainer(model).explain(image())
print(json.dumps({{"p": e.probabilities.tolist(), "s": e.saliency.tolist(), "a": e.layers[1].values.tolist()}}))
"""
    environment = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=REPO, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    jax = json.loads(done.stdout.strip().splitlines()[-1])
    here = Explainer(model).explain(image())
    np.testing.assert_allclose(jax["p"], here.probabilities, atol=1e-5)
    np.testing.assert_allclose(jax["a"], here.layers[1].values, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(jax["s"], here.saliency, rtol=1e-3, atol=1e-7)


def test_predict_probabilities_in_batches():
    def model(images, training=False):
        assert training is False
        out = np.zeros((len(images), 10), np.float32)
        out[:, 3] = 1.0
        return out

    images = np.zeros((5, 28, 28), np.uint8)
    probabilities = predict_probabilities(model, images, batch_size=2)
    assert probabilities.shape == (5, 10) and (probabilities.argmax(axis=1) == 3).all()


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
