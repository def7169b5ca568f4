"""Colour that everyone can tell apart: one palette in the theme and the charts, shapes beside colours, contrast."""

import tomllib
from pathlib import Path

import numpy as np

from mnist_dash.plots.board import owner_mark
from mnist_dash.plots.model import probability_history
from mnist_dash.plots.style import INK, PALETTE, TRAIN_COLOUR, VALIDATION_COLOUR
from mnist_dash.plots.training import compare_curves, training_curves

CONFIG = tomllib.loads((Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text())
WHITE = "#ffffff"


def luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_matches_wcags_known_values():
    assert round(contrast("#000000", WHITE), 1) == 21.0
    assert round(contrast("#767676", WHITE), 2) == 4.54  # the lightest grey that passes AA on white


def test_the_theme_and_the_charts_share_one_okabe_ito_palette():
    assert tuple(CONFIG["theme"]["chartCategoricalColors"]) == PALETTE
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(PALETTE) == okabe_ito
    assert {TRAIN_COLOUR, VALIDATION_COLOUR} <= set(PALETTE)


def test_text_colours_reach_aa_contrast_on_white_the_projector_included():
    theme = CONFIG["theme"]
    assert theme["base"] == "light"  # the projector view uses the same light theme and text colours
    assert theme["textColor"] == INK  # the charts' labels in the page's text colour
    for colour in (theme["primaryColor"], INK):
        assert contrast(colour, WHITE) >= 4.5, colour
    # Streamlit draws captions in the text colour at 60% opacity: that grey on white must pass too.
    text = [int(theme["textColor"][i : i + 2], 16) for i in (1, 3, 5)]
    caption = "#" + "".join(f"{round(0.6 * c + 0.4 * 255):02x}" for c in text)
    assert contrast(caption, WHITE) >= 4.5, caption


def test_compared_runs_differ_by_marker_shape_as_well_as_colour():
    history = [{"epoch": 1, "loss": 0.3, "val_loss": 0.2}, {"epoch": 2, "loss": 0.2, "val_loss": 0.1}]
    figure = compare_curves([(f"run {i}", history) for i in range(8)], "loss")
    shown = [trace for trace in figure.data if trace.showlegend]
    assert len({trace.marker.symbol for trace in shown}) == 8
    assert len({trace.line.color for trace in shown}) == 8
    # and a run's train and validation curves differ by dash
    assert {trace.line.dash for trace in figure.data[:2]} == {"dash", "solid"}


def test_train_and_validation_differ_by_dash_and_the_ten_digits_by_colour_and_shape():
    history = [{"epoch": 1, "loss": 0.3, "val_loss": 0.2}]
    train, validation = training_curves(history, [], "loss").data[1:]
    assert (train.line.dash, validation.line.dash) == ("dash", "solid")
    figure = probability_history([1, 2], [np.full(10, 0.1)] * 2)
    assert len({(trace.line.color, trace.marker.symbol) for trace in figure.data}) == 10


def test_owners_of_one_colour_still_differ_by_shape():
    marks = {owner_mark(f"name:student {i}") for i in range(200)}
    assert {colour for colour, _ in marks} == set(PALETTE)
    assert len(marks) == 32  # eight colours by four shapes, all reached
