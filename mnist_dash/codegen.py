"""A design as a plain Keras script: the model the app builds, trained as the app trains it.

The script builds the same `keras.Sequential` (the layers `plan.layer_plan` lists, with their
names, order and per-layer initializer seeds, as `model.build_model` builds them), binds it to a
top-level `model`, compiles it with the design's optimizer, fits it with its batch size, epochs,
validation data and learning-rate schedule after `keras.utils.set_random_seed(seed)`, and
prints the test score and accuracy as the 2019 notebook did. No Keras import here: the CLI's
`code` command answers at once.
"""

from __future__ import annotations

from mnist_dash import __version__
from mnist_dash.plan import PlannedLayer, keras_model_name, layer_plan
from mnist_dash.spec import ModelSpec, check

INITIALIZER_CLASSES = {
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "he_normal": "HeNormal",
    "he_uniform": "HeUniform",
    "random_normal": "RandomNormal",
}
OPTIMIZER_CLASSES = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


def _literal(text: str) -> str:
    """`text` as a Python string literal (repr: quotes, backslashes and line breaks escaped), in double quotes
    where it holds none, as the rest of the script writes strings."""
    literal = repr(text)
    return f'"{literal[1:-1]}"' if literal[0] == "'" and '"' not in text else literal


def _layer(planned: PlannedLayer, spec: ModelSpec, seed: int) -> str:
    config, name = planned.config, f"name={_literal(planned.name)}"
    if planned.kind == "Rescaling":
        scale = "1 / 255" if config["scale"] == 1 / 255 else repr(config["scale"])
        return f"keras.layers.Rescaling({scale}, {name}),  # pixels 0-255 to 0-1"
    if planned.kind == "Flatten":
        return f"keras.layers.Flatten({name}),"
    if planned.kind == "Dense":
        initializer = f"keras.initializers.{INITIALIZER_CLASSES[spec.initializer]}(seed={seed})"
        return (
            f"keras.layers.Dense({config['units']}, activation={_literal(config['activation'])}, "
            f"kernel_initializer={initializer}, {name}),"
        )
    if planned.kind == "BatchNormalization":
        return f"keras.layers.BatchNormalization({name}),"
    if planned.kind == "Activation":
        return f"keras.layers.Activation({_literal(config['activation'])}, {name}),"
    if planned.kind == "Dropout":
        return f"keras.layers.Dropout({config['rate']!r}, seed={seed}, {name}),"
    raise ValueError(f"no Keras layer for {planned.kind}")


def _optimizer(spec: ModelSpec) -> str:
    momentum = f", momentum={spec.momentum!r}" if spec.optimizer == "sgd" else ""
    return f"keras.optimizers.{OPTIMIZER_CLASSES[spec.optimizer]}(learning_rate={spec.learning_rate!r}{momentum})"


def keras_code(spec: ModelSpec) -> str:
    """The script for a valid `spec` (SpecError otherwise)."""
    check(spec)
    layers = "\n".join(f"        {_layer(p, spec, spec.seed + i)}" for i, p in enumerate(layer_plan(spec)))
    if spec.validation == "holdout":
        data = (
            "# Validate on the last sixth of the training set; the test set stays unseen until the end.\n"
            "cut = len(x_train) - len(x_train) // 6\n"
            "x_train, y_train, x_val, y_val = x_train[:cut], y_train[:cut], x_train[cut:], y_train[cut:]\n"
        )
    else:
        data = "x_val, y_val = x_test, y_test  # validate on the test set, as the notebook did\n"
    callbacks = "[]"
    schedule = ""
    if spec.lr_schedule == "cosine":
        schedule = (
            "\n\ndef learning_rate(epoch):\n"
            '    """Cosine schedule: half a cosine from the starting rate down to 0 by the last epoch."""\n'
            f"    return {spec.learning_rate!r} * 0.5 * (1 + math.cos(math.pi * epoch / {spec.epochs}))\n\n"
        )
        callbacks = "[keras.callbacks.LearningRateScheduler(learning_rate)]"
    # Every string a student gave is a literal (repr), never text spliced into code: a name holding quotes,
    # backslashes or "\N{...}" stays a string in the docstring, and the model's name is a literal too.
    docstring = _literal(f"{spec.name or 'custom'}: an MLP on MNIST, as mnist_dash trains it.")
    return f"""{docstring}
# Written by mnist_dash {__version__}. Run it with: python {file_name(spec)}

{"import math" + chr(10) + chr(10) if schedule else ""}import keras

keras.utils.set_random_seed({spec.seed})

# MNIST as Keras ships it: 60,000 training and 10,000 test images, 28 x 28 pixels from 0 to 255.
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
{data}
model = keras.Sequential(
    [
        keras.Input(shape=(28, 28), name="pixels"),
{layers}
    ],
    name={_literal(keras_model_name(spec.name))},
)
model.compile(
    optimizer={_optimizer(spec)},
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.summary()
{schedule}
model.fit(
    x_train,
    y_train,
    batch_size={spec.batch_size},
    epochs={spec.epochs},
    validation_data=(x_val, y_val),
    callbacks={callbacks},
)
score = model.evaluate(x_test, y_test, verbose=0)
print("Test score:", score[0])
print("Test accuracy:", score[1])
"""


def file_name(spec: ModelSpec) -> str:
    """A file name for the script: the design's name made safe, or mlp."""
    return f"{keras_model_name(spec.name)}.py"
