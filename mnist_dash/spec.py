"""Model specifications: frozen dataclasses, their validation, their JSON form and their identity.

A `ModelSpec` is the one input that builds a model (see `mnist_dash.plan` for the layers
it becomes and `mnist_dash.model` for the Keras model). Its `design_key` is what makes two
runs the same design (the result cache's key). No Keras here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import reprlib
from dataclasses import dataclass

IMAGE_SHAPE = (28, 28)
INPUT_SIZE = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
NUM_CLASSES = 10

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "selu", "swish", "linear")
BATCH_NORM_PLACEMENTS = ("none", "before", "after")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "random_normal")
VALIDATION_SOURCES = ("test", "holdout")

MAX_LAYERS = 10
MAX_UNITS = 2048
MAX_DROPOUT = 0.9
BATCH_SIZE_RANGE = (8, 8192)
EPOCHS_RANGE = (1, 200)
SEED_RANGE = (0, 2**31 - 1)
MAX_NAME = 80  # characters: a name is a label on a chart's legend, not a description


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer: Dense(units, activation), optional batch norm, optional dropout.

    `batch_norm` is where BatchNormalization sits: "after" the activation (as the
    notebook does: Dense with the activation inside, then BN), "before" it (Dense
    without activation, BN, then Activation), or "none". Dropout always comes last.
    """

    units: int
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: str = "none"


@dataclass(frozen=True)
class ModelSpec:
    """A whole MLP and how to train it.

    `momentum` applies to SGD only. `lr_schedule` "cosine" lowers the learning rate
    epoch by epoch along half a cosine, from `learning_rate` towards zero.
    `validation` is "test" (validate on the test set, as the notebook does) or
    "holdout" (the last sixth of the training set: 10,000 images for MNIST, leaving
    50,000 to train on).
    """

    layers: tuple[LayerSpec, ...]
    optimizer: str = "adam"
    learning_rate: float = 0.001
    momentum: float = 0.9
    lr_schedule: str = "constant"
    batch_size: int = 128
    epochs: int = 20
    seed: int = 0
    initializer: str = "glorot_uniform"
    validation: str = "test"
    name: str = ""

    def to_dict(self) -> dict:
        """The JSON-ready form that `from_dict` reads back."""
        return dataclasses.asdict(self) | {"layers": [dataclasses.asdict(x) for x in self.layers]}

    def replace(self, **changes) -> ModelSpec:
        """A copy with some fields changed (not validated)."""
        return dataclasses.replace(self, **changes)

    def design_key(self) -> str:
        """The design without its name: runs with the same key and data would train the same (the result cache)."""
        design = json.dumps(self.to_dict() | {"name": ""}, sort_keys=True)
        return hashlib.sha256(design.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, and the field it concerns (e.g. `layers[1].units`)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def field_label(field: str) -> str:
    """A field path for people: `layers[1].units` → `Layer 2 units`, `batch_size` → `Batch size`."""
    if field.startswith("layers[") and "]" in field:
        index, _, rest = field[len("layers[") :].partition("]")
        if index.isdigit():
            label = f"Layer {int(index) + 1}"
            return f"{label} {rest.lstrip('.').replace('_', ' ')}".strip()
    return field.replace("_", " ").capitalize()


class SpecError(ValueError):
    """A spec that cannot be used; `problems` lists every reason at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 3, 3
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 40, 40, 24


def brief(value) -> str:
    """`repr(value)` cut to a readable length (a link or an upload can hold anything); whole numbers with commas."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**15:
        return f"{value:,}"
    try:
        text = _SHORT.repr(value)
    except (ValueError, RecursionError):  # A whole number of more than 4,300 digits has no repr.
        return "a value too large to show"
    return text if len(text) <= 60 else text[:59] + "…"


def _check_int(problems, name, value, low, high):
    if value is None:
        problems.append(Problem(name, f"is empty; enter a whole number from {low:,} to {high:,}"))
    elif isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem(name, f"must be a whole number, got {brief(value)}"))
    elif not low <= value <= high:
        problems.append(Problem(name, f"must be between {low:,} and {high:,}, got {brief(value)}"))


def _check_number(problems, name, value, low, high, *, low_open=False):
    if value is None:
        problems.append(Problem(name, f"is empty; enter a number from {low:g} to {high:g}"))
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(name, f"must be a number, got {brief(value)}"))
        return
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(Problem(name, f"must be a finite number, got {value!r}"))
        return
    too_low = value <= low if low_open else value < low  # exact for whole numbers too large for a float
    if too_low or value > high:
        bracket = "(" if low_open else "["
        shown = f"{value:g}" if isinstance(value, float) else brief(value)
        problems.append(Problem(name, f"must be in {bracket}{low:g}, {high:g}], got {shown}"))


def _check_choice(problems, name, value, choices):
    if value not in choices:
        problems.append(Problem(name, f"must be one of {', '.join(choices)}; got {brief(value)}"))


def validate(spec: ModelSpec) -> list[Problem]:
    """Every problem with `spec`, each with the field it concerns; empty when valid."""
    problems: list[Problem] = []
    if not isinstance(spec.layers, tuple | list) or not spec.layers:
        problems.append(Problem("layers", "add at least one hidden layer"))
    elif len(spec.layers) > MAX_LAYERS:
        problems.append(Problem("layers", f"at most {MAX_LAYERS} hidden layers, got {len(spec.layers)}"))
    for i, layer in enumerate(spec.layers if isinstance(spec.layers, tuple | list) else ()):
        where = f"layers[{i}]"
        if not isinstance(layer, LayerSpec):
            problems.append(Problem(where, "must be a layer"))
            continue
        _check_int(problems, f"{where}.units", layer.units, 1, MAX_UNITS)
        _check_choice(problems, f"{where}.activation", layer.activation, ACTIVATIONS)
        _check_number(problems, f"{where}.dropout", layer.dropout, 0.0, MAX_DROPOUT)
        _check_choice(problems, f"{where}.batch_norm", layer.batch_norm, BATCH_NORM_PLACEMENTS)
    _check_choice(problems, "optimizer", spec.optimizer, OPTIMIZERS)
    _check_number(problems, "learning_rate", spec.learning_rate, 0.0, 1.0, low_open=True)
    _check_number(problems, "momentum", spec.momentum, 0.0, 0.999)
    _check_choice(problems, "lr_schedule", spec.lr_schedule, LR_SCHEDULES)
    _check_int(problems, "batch_size", spec.batch_size, *BATCH_SIZE_RANGE)
    _check_int(problems, "epochs", spec.epochs, *EPOCHS_RANGE)
    _check_int(problems, "seed", spec.seed, *SEED_RANGE)
    _check_choice(problems, "initializer", spec.initializer, INITIALIZERS)
    _check_choice(problems, "validation", spec.validation, VALIDATION_SOURCES)
    if not isinstance(spec.name, str) or len(spec.name) > MAX_NAME:
        got = f"{len(spec.name):,} characters" if isinstance(spec.name, str) else brief(spec.name)
        problems.append(Problem("name", f"must be text of at most {MAX_NAME} characters, got {got}"))
    elif not spec.name.isprintable():  # the whole class sees it: one line, nothing invisible or reversed
        problems.append(Problem("name", "must be printable text: no line breaks, tabs or other control characters"))
    return problems


def check(spec: ModelSpec) -> ModelSpec:
    """`spec` itself when valid; otherwise raise SpecError listing every problem."""
    problems = validate(spec)
    if problems:
        raise SpecError(problems)
    return spec


_SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(ModelSpec))
_LAYER_FIELDS = tuple(f.name for f in dataclasses.fields(LayerSpec))


def _key_name(key) -> str:
    text = key if isinstance(key, str) else brief(key)
    return text if len(text) <= 40 else text[:39] + "…"


def _unknown_keys(data: dict, known: tuple[str, ...], where: str) -> list[Problem]:
    return [
        Problem(f"{where}{_key_name(key)}", f"unknown key; known keys are {', '.join(known)}")
        for key in data
        if key not in known
    ]


def from_dict(data: object) -> ModelSpec:
    """Read a spec from its JSON form, raising SpecError with every problem at once.

    Missing keys take their defaults (except `layers` and each layer's `units`);
    unknown keys, wrong types, NaN and out-of-range values are problems.
    """
    if not isinstance(data, dict):
        raise SpecError([Problem("spec", f"must be a JSON object, got {type(data).__name__}")])
    problems = _unknown_keys(data, _SPEC_FIELDS, "")
    raw_layers = data.get("layers")
    layers: list[LayerSpec] = []
    if not isinstance(raw_layers, list):
        problems.append(Problem("layers", 'must be a list of layers, e.g. [{"units": 128}]'))
    elif len(raw_layers) > MAX_LAYERS:  # said once, without reading thousands of layers
        raise SpecError([*problems, Problem("layers", f"at most {MAX_LAYERS} hidden layers, got {len(raw_layers):,}")])
    else:
        for i, raw in enumerate(raw_layers):
            where = f"layers[{i}]"
            if not isinstance(raw, dict):
                problems.append(Problem(where, "must be an object with at least `units`"))
                continue
            problems += _unknown_keys(raw, _LAYER_FIELDS, f"{where}.")
            if "units" not in raw:
                problems.append(Problem(f"{where}.units", "is missing"))
                continue
            layers.append(LayerSpec(**{k: raw[k] for k in _LAYER_FIELDS if k in raw}))
    settings = {k: data[k] for k in _SPEC_FIELDS if k in data and k != "layers"}
    spec = ModelSpec(layers=tuple(layers), **settings)
    checked = validate(spec)
    if any(p.field.startswith("layers") for p in problems):
        # The layer list itself was malformed: its count says nothing more.
        checked = [p for p in checked if p.field != "layers"]
    problems += checked
    if problems:
        raise SpecError(problems)
    return spec
