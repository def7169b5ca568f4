"""Named designs: the 2019 notebook's three models, exactly, and one of ours.

Ours, `cosine-2-hidden`, is notebook-2-hidden with a cosine learning-rate schedule:
a higher test accuracy in the same 20 epochs and time (README; `bench/preset_compare.py`).

The notebook writes `Dense(n, activation='relu')` then `BatchNormalization()`, so its
batch norm sits *after* the activation; dropout follows. All use Adam, batch 128,
20 epochs and validate on the test set.
"""

from __future__ import annotations

from mnist_dash.spec import LayerSpec, ModelSpec

PRESETS: dict[str, ModelSpec] = {
    "notebook-2-hidden": ModelSpec(
        name="notebook-2-hidden",
        layers=(LayerSpec(512, dropout=0.4), LayerSpec(128)),
    ),
    "notebook-3-hidden-bn": ModelSpec(
        name="notebook-3-hidden-bn",
        layers=(
            LayerSpec(500, dropout=0.4),
            LayerSpec(300, dropout=0.4, batch_norm="after"),
            LayerSpec(100, batch_norm="after"),
        ),
    ),
    "notebook-5-hidden-bn": ModelSpec(
        name="notebook-5-hidden-bn",
        layers=(
            LayerSpec(500, dropout=0.3),
            LayerSpec(400, dropout=0.3),
            LayerSpec(300, dropout=0.3),
            LayerSpec(200, dropout=0.3, batch_norm="after"),
            LayerSpec(50, batch_norm="after"),
        ),
    ),
    # Ours: the notebook's first model with a cosine learning-rate schedule. Big steps early,
    # small ones at the end, where Adam's constant 0.001 keeps the validation loss jittering.
    "cosine-2-hidden": ModelSpec(
        name="cosine-2-hidden",
        layers=(LayerSpec(512, dropout=0.4), LayerSpec(128)),
        lr_schedule="cosine",
    ),
}

NOTEBOOK_PRESETS = ("notebook-2-hidden", "notebook-3-hidden-bn", "notebook-5-hidden-bn")
DEFAULT_PRESET = "notebook-2-hidden"


def get_preset(name: str) -> ModelSpec:
    """The preset called `name`; KeyError with the known names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
