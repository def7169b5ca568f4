"""The layers a spec becomes, with their parameter counts: arithmetic, no Keras.

`mnist_dash.model.build_model` builds exactly this list, so these counts are Keras's;
the CLI's `presets` and `validate` and the Design page use them without loading
TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mnist_dash.spec import IMAGE_SHAPE, INPUT_SIZE, NUM_CLASSES, ModelSpec


@dataclass(frozen=True)
class PlannedLayer:
    """One Keras layer as the model will build it, with its parameter counts."""

    name: str
    kind: str  # Keras class name: Rescaling, Flatten, Dense, BatchNormalization, ...
    output_shape: tuple[int | None, ...]
    trainable_params: int = 0
    non_trainable_params: int = 0
    config: dict = field(default_factory=dict)

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params


def layer_plan(spec: ModelSpec) -> list[PlannedLayer]:
    """The model's layers in order, named stably (`hidden_1`, `bn_1`, `dropout_1`, `output`).

    `mnist_dash.model.build_model` builds exactly this list, so these counts are Keras's.
    Input is raw pixels 0-255: the model scales them itself, so data can stay uint8.
    """
    plan = [
        PlannedLayer("scale", "Rescaling", (None, *IMAGE_SHAPE), config={"scale": 1 / 255}),
        PlannedLayer("flatten", "Flatten", (None, INPUT_SIZE)),
    ]
    width = INPUT_SIZE
    for i, layer in enumerate(spec.layers, start=1):
        shape = (None, layer.units)
        dense_activation = "linear" if layer.batch_norm == "before" else layer.activation
        plan.append(
            PlannedLayer(
                f"hidden_{i}",
                "Dense",
                shape,
                trainable_params=width * layer.units + layer.units,
                config={"units": layer.units, "activation": dense_activation},
            )
        )
        if layer.batch_norm != "none":
            # gamma and beta are trained; moving mean and variance are not.
            plan.append(PlannedLayer(f"bn_{i}", "BatchNormalization", shape, 2 * layer.units, 2 * layer.units))
        if layer.batch_norm == "before":
            plan.append(PlannedLayer(f"activation_{i}", "Activation", shape, config={"activation": layer.activation}))
        if layer.dropout > 0:
            plan.append(PlannedLayer(f"dropout_{i}", "Dropout", shape, config={"rate": layer.dropout}))
        width = layer.units
    plan.append(
        PlannedLayer(
            "output",
            "Dense",
            (None, NUM_CLASSES),
            trainable_params=width * NUM_CLASSES + NUM_CLASSES,
            config={"units": NUM_CLASSES, "activation": "softmax"},
        )
    )
    return plan


@dataclass(frozen=True)
class ParamCounts:
    total: int
    trainable: int
    non_trainable: int


def count_params(spec: ModelSpec) -> ParamCounts:
    """Total, trainable and non-trainable parameters, without building the model."""
    plan = layer_plan(spec)
    trainable = sum(layer.trainable_params for layer in plan)
    non_trainable = sum(layer.non_trainable_params for layer in plan)
    return ParamCounts(trainable + non_trainable, trainable, non_trainable)


def describe(spec: ModelSpec) -> str:
    """The architecture in one line, e.g. `784 → 512 relu, drop 0.4 → 128 relu → 10`."""
    parts = []
    for layer in spec.layers:
        text = f"{layer.units} {layer.activation}"
        if layer.batch_norm != "none":
            text += f", BN {layer.batch_norm}"
        if layer.dropout > 0:
            text += f", drop {layer.dropout:g}"
        parts.append(text)
    return " → ".join([str(INPUT_SIZE), *parts, str(NUM_CLASSES)])


def keras_model_name(name: str) -> str:
    """The Keras model's name for a design's name: a spec's name is free text, Keras names allow a few characters."""
    return "mlp_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
