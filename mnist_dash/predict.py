"""Image in, answer out, from a run's weights alone: the model's maths in NumPy, no Keras and no TensorFlow.

The Streamlit server never imports Keras (it would hold about 600 MB of it beside the
worker that trains): what pages show of a model, stored or training, is computed here from
its weights, in `model.get_weights()`'s order, and its design (`plan.layer_plan`): Dense,
batch normalization as in inference (its moving statistics), every activation the
designer offers, dropout off (as in prediction), softmax. `tests/test_predict.py` holds it
to Keras's own outputs on every preset and on random designs.

Everything takes what `canvas.to_mnist` returns and MNIST itself holds: 28 x 28 uint8
pixels, 0-255 (the model scales them itself, as the Keras model's first layer does).

`Network.explain` is Draw's "why this answer": what each hidden layer hands to the next
for this image, and the saliency map of every digit, the gradient of that digit's
probability with respect to each pixel, written out backwards through the same layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mnist_dash.plan import layer_plan
from mnist_dash.runs import DamagedRunError
from mnist_dash.spec import IMAGE_SHAPE, INPUT_SIZE, NUM_CLASSES, ModelSpec

BN_EPSILON = 1e-3  # Keras's BatchNormalization default, which build_model keeps
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_SQRT_HALF = 1 / math.sqrt(2)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, to about 1e-7 (Abramowitz and Stegun 7.1.26), for GELU without SciPy."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1 / (1 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1 - poly * np.exp(-x * x))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -z)).astype(z.dtype)


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """`name` (spec.ACTIVATIONS) applied to pre-activations `z`, as Keras's activation of that name."""
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if name == "selu":
        return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))
    if name == "gelu":  # Keras's activation "gelu": the exact one, with erf
        return (0.5 * z * (1 + _erf(z * _SQRT_HALF))).astype(z.dtype)
    if name == "swish":
        return z * _sigmoid(z)
    if name == "linear":
        return z
    raise ValueError(f"no NumPy form of the activation {name!r}")


def slope(name: str, z: np.ndarray) -> np.ndarray:
    """d activate(name, z) / dz, elementwise (relu's slope at 0 is 0, as TensorFlow's)."""
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "sigmoid":
        s = _sigmoid(z)
        return s * (1 - s)
    if name == "elu":
        return np.where(z > 0, 1, np.exp(np.minimum(z, 0))).astype(z.dtype)
    if name == "selu":
        return SELU_SCALE * np.where(z > 0, 1, SELU_ALPHA * np.exp(np.minimum(z, 0))).astype(z.dtype)
    if name == "gelu":
        cdf = 0.5 * (1 + _erf(z * _SQRT_HALF))
        return (cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)).astype(z.dtype)
    if name == "swish":
        s = _sigmoid(z)
        return s + z * s * (1 - s)
    if name == "linear":
        return np.ones_like(z)
    raise ValueError(f"no NumPy form of the activation {name!r}")


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class _Step:
    """One thing the network does to a batch on its way to the answer."""

    kind: str  # "dense", "scale" (batch norm in inference: x * scale + shift) or "act"
    weights: np.ndarray | None = None  # dense: the kernel; scale: the per-unit scale
    bias: np.ndarray | None = None  # dense: the bias; scale: the per-unit shift
    activation: str = "linear"  # act: its name
    ends_hidden: str | None = None  # the hidden layer (its Dense's name) whose output this step's output is


@dataclass(frozen=True)
class LayerActivity:
    """What one hidden layer hands to the next for an image: one value per unit."""

    name: str  # the layer's Dense name (hidden_1, ...)
    values: np.ndarray  # (units,) after its activation and batch norm; dropout is off in prediction


@dataclass(frozen=True)
class Explanation:
    probabilities: np.ndarray  # (10,)
    layers: tuple[LayerActivity, ...]  # the hidden layers, input to output
    saliency: np.ndarray  # (10, 28, 28): d probability(digit) / d pixel (pixels 0-255), one map per digit
    first_layer: str | None  # the first Dense layer's name, whose units have images (units.unit_images)
    first_kernel: np.ndarray | None  # its kernel (784, units)

    @property
    def answer(self) -> int:
        return int(self.probabilities.argmax())

    def most_active(self, count: int = 8) -> list[tuple[int, float]]:
        """(unit, value) of the first hidden layer's `count` most active units for this image, most active first."""
        if not self.layers or self.first_kernel is None:
            return []
        values = self.layers[0].values
        order = np.argsort(-values, kind="stable")[:count]
        return [(int(unit), float(values[unit])) for unit in order]


class Network:
    """A design's network with given weights (`model.get_weights()`'s order), computed in NumPy, float32."""

    def __init__(self, spec: ModelSpec, weights: list[np.ndarray]):
        arrays = iter(np.asarray(array, np.float32) for array in weights)
        steps: list[_Step] = []
        dense_names: list[str] = []
        width = INPUT_SIZE
        try:
            for planned in layer_plan(spec):
                if planned.kind == "Dense":
                    kernel, bias = next(arrays), next(arrays)
                    units = planned.config["units"]
                    if kernel.shape != (width, units) or bias.shape != (units,):
                        raise ValueError(f"{planned.name} has weights {kernel.shape} and {bias.shape}")
                    width = units
                    steps.append(_Step("dense", kernel, bias))
                    steps.append(_Step("act", activation=planned.config["activation"]))
                    dense_names.append(planned.name)
                elif planned.kind == "BatchNormalization":
                    gamma, beta, mean, variance = (next(arrays) for _ in range(4))
                    if {gamma.shape, beta.shape, mean.shape, variance.shape} != {(width,)}:
                        raise ValueError(f"{planned.name} has weights of {width} units' shape")
                    scale = gamma / np.sqrt(variance + np.float32(BN_EPSILON))
                    steps.append(_Step("scale", scale, beta - mean * scale))
                elif planned.kind == "Activation":
                    steps.append(_Step("act", activation=planned.config["activation"]))
            if next(arrays, None) is not None:
                raise ValueError("there are more arrays than its layers have weights")
        except (StopIteration, ValueError, TypeError, KeyError, ZeroDivisionError) as error:
            raise DamagedRunError(f"its final weights do not fit its design ({error})") from None
        if steps[-1].activation != "softmax":
            raise DamagedRunError("its design does not end in softmax")
        self.spec = spec
        self.steps = steps[:-1]  # the last is the softmax, done by `probabilities`
        # Where each hidden layer ends: the last step before the next Dense (dropout is off in prediction).
        dense_at = [i for i, step in enumerate(self.steps) if step.kind == "dense"]
        self.taps = [(dense_names[n], end - 1) for n, end in enumerate(dense_at[1:])]
        self.first_layer = dense_names[0] if len(dense_names) > 1 else None
        self.first_kernel = self.steps[0].weights if self.first_layer else None

    @classmethod
    def of_run(cls, store, run_id: str) -> Network:
        """A stored run's network (RunNotFound, or DamagedRunError when its weights do not fit its design)."""
        run = store.get(run_id)
        try:
            return cls(run.spec, store.final_weights(run_id))
        except DamagedRunError as error:
            raise DamagedRunError(f"run {run_id}: {error}") from None

    def logits(self, images: np.ndarray) -> np.ndarray:
        """The output layer's inputs to softmax, (N, 10), for raw-pixel images (0-255)."""
        x = np.asarray(images, np.float32).reshape(len(images), INPUT_SIZE) * np.float32(1 / 255)
        for step in self.steps:
            if step.kind == "dense":
                x = x @ step.weights + step.bias
            elif step.kind == "scale":
                x = x * step.weights + step.bias
            else:
                x = activate(step.activation, x)
        return x

    def probabilities(self, images: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities (N, 10) for raw-pixel images (0-255)."""
        images = np.asarray(images)
        chunks = [
            softmax(self.logits(images[start : start + batch_size])) for start in range(0, len(images), batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, NUM_CLASSES), np.float32)

    def explain(self, image: np.ndarray) -> Explanation:
        """Why the network answers what it does for `image` (28 x 28, 0-255): activity and saliency."""
        pixels = np.asarray(image, np.float32).reshape(1, *IMAGE_SHAPE)
        x = pixels.reshape(1, INPUT_SIZE) * np.float32(1 / 255)
        inputs, outputs = [], []
        for step in self.steps:  # forward, keeping what each step took and gave
            inputs.append(x)
            if step.kind == "dense":
                x = x @ step.weights + step.bias
            elif step.kind == "scale":
                x = x * step.weights + step.bias
            else:
                x = activate(step.activation, x)
            outputs.append(x)
        probabilities = softmax(x)[0]
        # d p_d / d logit_j for every digit d at once: diag(p) - p p^T, one row a digit.
        gradient = (np.diag(probabilities) - np.outer(probabilities, probabilities)).astype(np.float32)
        for step, taken in zip(reversed(self.steps), reversed(inputs), strict=True):
            if step.kind == "dense":
                gradient = gradient @ step.weights.T
            elif step.kind == "scale":
                gradient = gradient * step.weights
            else:
                gradient = gradient * slope(step.activation, taken)
        saliency = (gradient * np.float32(1 / 255)).reshape(NUM_CLASSES, *IMAGE_SHAPE)
        layers = tuple(LayerActivity(name, outputs[end][0]) for name, end in self.taps)
        return Explanation(probabilities, layers, saliency, self.first_layer, self.first_kernel)


class EpochPredictions:
    """What a training job's model says about one image after each epoch (for the Draw page).

    Feed it the job's `latest_weights()` as they change; a new image starts a new series.
    """

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self._image_key: bytes | None = None
        self.epochs: list[int] = []
        self.probabilities: list[np.ndarray] = []

    def update(self, image: np.ndarray, latest: tuple[int, list[np.ndarray]]) -> bool:
        """Predict `image` (28 x 28 uint8) with the weights of `latest` if that epoch is new; True if it was."""
        key = np.asarray(image, np.uint8).tobytes()
        if key != self._image_key:
            self._image_key, self.epochs, self.probabilities = key, [], []
        epoch, weights = latest
        if self.epochs and self.epochs[-1] == epoch:
            return False
        self.probabilities.append(Network(self.spec, weights).probabilities(image[None])[0])
        self.epochs.append(epoch)
        return True
