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


class FusedAdam(keras.optimizers.Adam):
    """Keras's Adam, its update done by TensorFlow's fused kernel (`ResourceApplyAdam`) on that backend.

    The same arithmetic as Keras's (alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t); m and v moved towards
    the gradient and its square; the variable moved by alpha * m / (sqrt(v) + epsilon)), in one pass over each
    variable instead of about ten elementwise operations, each a pass over memory: for notebook-2-hidden's
    468k weights on 2 cores, an epoch's updates take a third of the time (bench/epoch_profile's Adam rows;
    README, "Where an epoch's time goes"). Its state is Keras's own (iterations, momentums, velocities), so a
    job paused between slices keeps it. Elsewhere (JAX, whose compiler fuses the update itself; amsgrad) it is
    Keras's Adam.
    """

    def update_step(self, gradient, variable, learning_rate):
        if keras.backend.backend() != "tensorflow" or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        dtype = variable.dtype
        step = keras.ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = keras.ops.cast(self.beta_1, dtype), keras.ops.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=keras.ops.power(beta_1, step),
            beta2_power=keras.ops.power(beta_2, step),
            lr=keras.ops.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=keras.ops.cast(self.epsilon, dtype),
            grad=keras.ops.cast(gradient, dtype),
        )


def make_optimizer(spec: ModelSpec, fused: bool = False) -> keras.optimizers.Optimizer:
    """The optimizer `spec` names, with its learning rate (and momentum for SGD); with `fused`, Adam's update is
    one fused kernel on TensorFlow (`FusedAdam`: for training; a saved model keeps Keras's own Adam)."""
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=spec.learning_rate, momentum=spec.momentum)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=spec.learning_rate)
    return (FusedAdam if fused else keras.optimizers.Adam)(learning_rate=spec.learning_rate)


def build_model(spec: ModelSpec, steps_per_execution: int = 1, fused: bool = False) -> keras.Model:
    """A compiled Sequential model for a valid `spec`; input is raw 28x28 pixels (0-255).

    Args:
        steps_per_execution: batches per call into the backend (see `mnist_dash.jobs.training.train`).
        fused: train with `FusedAdam` where the design says Adam (the engine does; a `.keras` download does not,
            so that any Keras loads it).

    Raises:
        SpecError: if `spec` is not valid.
    """
    check(spec)
    layers = [keras.Input(shape=IMAGE_SHAPE, name="pixels")]
    layers += [_keras_layer(p, spec, spec.seed + i) for i, p in enumerate(layer_plan(spec))]
    model = keras.Sequential(layers, name=keras_model_name(spec.name))
    model.compile(
        optimizer=make_optimizer(spec, fused), loss=LOSS, metrics=["accuracy"], steps_per_execution=steps_per_execution
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
