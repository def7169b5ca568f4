"""Build the Keras model a spec describes; read its summary and its weights by layer.

The layer list comes from `plan.layer_plan`, so names and parameter counts agree with
the arithmetic the Design page shows. Weights are read by layer and by weight name
(kernel, bias, gamma, beta, moving_mean, moving_variance), never by position in
`get_weights()`: the notebook's positional `get_weights()[4]` called a batch-norm
vector the "Output Layer".
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from mnist_dash.plan import PlannedLayer, keras_model_name, layer_plan
from mnist_dash.spec import IMAGE_SHAPE, ModelSpec, check

LOSS = "sparse_categorical_crossentropy"  # The notebook's categorical cross-entropy, on integer labels.


def _initializer(name: str, seed: int):
    # Each layer gets its own seed so that two layers never start from the same numbers.
    return keras.initializers.get({"class_name": name, "config": {"seed": seed}})


def _keras_layer(planned: PlannedLayer, spec: ModelSpec, seed: int) -> keras.layers.Layer:
    config = planned.config
    if planned.kind == "Rescaling":
        return keras.layers.Rescaling(config["scale"], name=planned.name)
    if planned.kind == "Flatten":
        return keras.layers.Flatten(name=planned.name)
    if planned.kind == "Dense":
        return keras.layers.Dense(
            config["units"],
            activation=config["activation"],
            kernel_initializer=_initializer(spec.initializer, seed),
            name=planned.name,
        )
    if planned.kind == "BatchNormalization":
        return keras.layers.BatchNormalization(name=planned.name)
    if planned.kind == "Activation":
        return keras.layers.Activation(config["activation"], name=planned.name)
    if planned.kind == "Dropout":
        return keras.layers.Dropout(config["rate"], seed=seed, name=planned.name)
    raise ValueError(f"no Keras layer for {planned.kind}")


def make_optimizer(spec: ModelSpec) -> keras.optimizers.Optimizer:
    """The optimizer `spec` names, with its learning rate (and momentum for SGD)."""
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=spec.learning_rate, momentum=spec.momentum)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=spec.learning_rate)
    return keras.optimizers.Adam(learning_rate=spec.learning_rate)


def build_model(spec: ModelSpec, steps_per_execution: int = 1) -> keras.Model:
    """A compiled Sequential model for a valid `spec`; input is raw 28x28 pixels (0-255).

    Args:
        steps_per_execution: batches per call into the backend (see `mnist_dash.jobs.training.train`).

    Raises:
        SpecError: if `spec` is not valid.
    """
    check(spec)
    layers = [keras.Input(shape=IMAGE_SHAPE, name="pixels")]
    layers += [_keras_layer(p, spec, spec.seed + i) for i, p in enumerate(layer_plan(spec))]
    model = keras.Sequential(layers, name=keras_model_name(spec.name))
    model.compile(
        optimizer=make_optimizer(spec), loss=LOSS, metrics=["accuracy"], steps_per_execution=steps_per_execution
    )
    return model


@dataclass(frozen=True)
class SummaryRow:
    name: str
    kind: str
    output_shape: tuple[int | None, ...]
    params: int
    trainable_params: int


def summary_rows(model: keras.Model) -> list[SummaryRow]:
    """One row per layer, with Keras's own parameter counts."""
    return [
        SummaryRow(
            layer.name,
            type(layer).__name__,
            tuple(layer.output.shape),
            layer.count_params(),
            sum(int(np.prod(w.shape)) for w in layer.trainable_weights),
        )
        for layer in model.layers
    ]


def weight_name(variable) -> str:
    """`kernel`, `bias`, `gamma`, ... for a Keras variable (its path ends with the name)."""
    return variable.path.rsplit("/", 1)[-1]


def layer_weights(model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
    """Every layer's weights, by layer name then weight name, in model order.

    Dense layers give `kernel` and `bias`; BatchNormalization gives `gamma`, `beta`,
    `moving_mean` and `moving_variance`. Layers without weights are left out.
    """
    return {
        layer.name: {weight_name(w): np.asarray(w.numpy()) for w in layer.weights}
        for layer in model.layers
        if layer.weights
    }
