"""Image in, answer out: a stored run's model, the model called directly, per-epoch answers, and why it answered.

`load_model` rebuilds a stored run's Keras model from its design and its stored weights
(the store keeps no Keras: only the weights); `keras_file` is that model as a `.keras` file.

Everything takes what `canvas.to_mnist` returns and MNIST itself holds: 28 x 28 uint8
pixels, 0-255 (the model rescales them itself). Keras is imported inside the functions:
a model exists by then, and this module stays importable without it.

`explain` is Draw's "why this answer": what each hidden layer hands to the next for this
image (dropout off, as in prediction), and the saliency map of every digit, the gradient
of that digit's probability with respect to each pixel. The forward pass is the model's
own layers; only the gradient is the backend's (a tape on TensorFlow, `jax.grad` on JAX,
autograd on PyTorch), so one `Explainer` serves every backend. Its compiled function is
traced once per model: the explainer of a model whose weights change (a job training)
must be made again.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_dash.runs import DamagedRunError
from mnist_dash.spec import IMAGE_SHAPE, NUM_CLASSES, ModelSpec
from mnist_dash.units import first_kernel


def load_model(store, run_id: str):
    """The run's trained Keras model, rebuilt from its design and its stored weights (imports Keras).

    Raises RunNotFound, or DamagedRunError when the weights do not fit the design.
    """
    from mnist_dash.model import build_model

    run = store.get(run_id)
    weights = store.final_weights(run_id)
    model = build_model(run.spec)
    try:
        model.set_weights(weights)
    except ValueError as error:
        raise DamagedRunError(f"run {run_id} has final weights that do not fit its design: {error}") from None
    return model


def keras_file(store, run_id: str) -> bytes:
    """The run's model as a `.keras` file's bytes (built when asked for: the store keeps only the weights)."""
    model = load_model(store, run_id)
    model.optimizer.build(model.trainable_variables)  # a file Keras loads without warning of a missing optimizer
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{run_id}.keras"
        model.save(path)
        return path.read_bytes()


def predict_probabilities(model, images: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """Class probabilities (N, 10) for raw-pixel images (0-255), calling the model directly per batch."""
    import keras

    images = np.asarray(images, np.float32)
    # convert_to_numpy, not np.asarray: on PyTorch the output is a tensor that requires grad.
    chunks = [
        keras.ops.convert_to_numpy(model(images[start : start + batch_size], training=False))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, NUM_CLASSES), np.float32)


class EpochPredictions:
    """What a training job's model says about one image after each epoch (for the Draw page).

    Feed it the job's `latest_weights()` as they change; a new image starts a new series.
    """

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self._model = None
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
        if self._model is None:
            from mnist_dash.model import build_model

            self._model = build_model(self.spec)
        self._model.set_weights(weights)
        self.probabilities.append(predict_probabilities(self._model, image[None])[0])
        self.epochs.append(epoch)
        return True


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


def _taps(model) -> list[tuple[str, int]]:
    """(Dense name, index of the layer whose output is that hidden layer's activity) for each hidden layer.

    A hidden layer is a Dense layer and what follows it up to the next Dense (batch norm, an
    activation), dropout left out: in prediction it passes its input through unchanged.
    """
    taps: list[tuple[str, int]] = []
    dense = [i for i, layer in enumerate(model.layers) if type(layer).__name__ == "Dense"]
    for start, end in itertools.pairwise(dense):  # the last Dense is the output
        last = max(i for i in range(start, end) if type(model.layers[i]).__name__ != "Dropout")
        taps.append((model.layers[start].name, last))
    return taps


class Explainer:
    """`explain(image)` for one model, its backend function built once."""

    def __init__(self, model):
        import keras

        from mnist_dash.model import layer_weights

        self.model = model
        self.taps = _taps(model)
        found = first_kernel(layer_weights(model))
        self.first_layer, self.kernel = found if found else (None, None)
        self._backend = keras.backend.backend()
        self._compiled = _compile(self._backend, self._forward)

    def _forward(self, x):
        """The probabilities and every tapped layer's output, through the model's own layers."""
        outputs = []
        for layer in self.model.layers:
            x = layer(x, training=False)
            outputs.append(x)
        return x, [outputs[index] for _, index in self.taps]

    def explain(self, image: np.ndarray) -> Explanation:
        """Why the model answers what it does for `image` (28 x 28, 0-255)."""
        import keras

        pixels = np.asarray(image, np.float32).reshape(IMAGE_SHAPE)
        # Ten copies of the image: the gradient of sum_d p_d(copy d) gives every digit's map in one pass.
        batch = np.repeat(pixels[None], NUM_CLASSES, axis=0)
        gradient, probabilities, activity = self._compiled(batch)
        activity = [keras.ops.convert_to_numpy(values)[0] for values in activity]
        return Explanation(
            probabilities=keras.ops.convert_to_numpy(probabilities)[0],
            layers=tuple(LayerActivity(name, values) for (name, _), values in zip(self.taps, activity, strict=True)),
            saliency=keras.ops.convert_to_numpy(gradient),
            first_layer=self.first_layer,
            first_kernel=self.kernel,
        )


def _target(probabilities):
    import keras

    return keras.ops.sum(keras.ops.diagonal(probabilities))  # p_0(copy 0) + p_1(copy 1) + ...


def _compile(backend: str, forward):
    """A function batch -> (d target / d batch, probabilities, activities) on `backend`."""
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def run(batch):
            with tf.GradientTape() as tape:
                tape.watch(batch)
                probabilities, activity = forward(batch)
                target = _target(probabilities)
            return tape.gradient(target, batch), probabilities, activity

        return lambda batch: run(tf.constant(batch))
    if backend == "jax":
        import jax

        def target(batch):
            probabilities, activity = forward(batch)
            return _target(probabilities), (probabilities, activity)

        grad = jax.jit(jax.grad(target, has_aux=True))

        def run_jax(batch):
            gradient, (probabilities, activity) = grad(batch)
            return gradient, probabilities, activity

        return run_jax
    if backend == "torch":
        import torch

        def run_torch(batch):
            batch = torch.tensor(batch, requires_grad=True)
            probabilities, activity = forward(batch)
            _target(probabilities).backward()
            return batch.grad, probabilities.detach(), [values.detach() for values in activity]

        return run_torch
    raise ValueError(f"no saliency for Keras's {backend!r} backend: use tensorflow, jax or torch")
