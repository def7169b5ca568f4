"""The class's digits on the wall (classroom.wall, plots.wall): known answers, and the page for the teacher."""

import numpy as np
import pytest

from mnist_dash.classroom.wall import describe, order, read_wall
from mnist_dash.plots.wall import TILE, wall_figure

IDS = np.array([11, 12, 13, 14])
LABELS = np.array([7, 1, 9, 4])
ANSWERS = {"Ann: wide": np.array([7, 1, 4, 9]), "Bo: deep": np.array([1, 1, 4, 4]), "Cy: tiny": np.array([7, 1, 4, 4])}


def test_each_digit_counts_the_models_it_fooled_and_what_each_answered():
    wall = read_wall(IDS, LABELS, ANSWERS)
    assert wall.wrong.tolist() == [1, 0, 3, 1]
    assert order(wall).tolist() == [2, 0, 3, 1]  # hardest first, then as drawn
    assert order(wall, hardest_first=False).tolist() == [0, 1, 2, 3]
    assert wall.answered(0) == [("Bo: deep", 1, False), ("Ann: wide", 7, True), ("Cy: tiny", 7, True)]
    assert describe(wall) == (
        "4 class digits against 3 students' best models. Fooled every model: 1 (a 9). Read right by all: 1."
    )
    assert describe(read_wall(IDS[:1], LABELS[:1], {"Ann: wide": np.array([7])})) == (
        "1 class digit against 1 student's best model. Read right by all: 1."
    )
    assert (
        describe(read_wall(IDS, LABELS, {})) == "4 class digits, and no student has a finished model to read them yet."
    )
    assert describe(read_wall(IDS[:0], LABELS[:0], {})) == "The class has no digits yet."


def test_the_wall_draws_each_tile_with_its_frame_its_ink_and_a_marker_to_click():
    images = np.zeros((4, 28, 28), np.uint8)
    images[2, 10:20, 14] = 255
    wall = read_wall(IDS, LABELS, ANSWERS)
    figure = wall_figure(images, LABELS, wall.wrong, 3, columns=3)
    frames, ink, markers = figure.data
    assert np.nanmax(frames.z) == 3 and frames.zmax == 3 and frames.z[8 + 5, TILE + 8 + 5] == 0  # tile 1: none wrong
    assert np.nansum(ink.z) == pytest.approx(10.0)  # the one stroke of digit 2, in [0, 1]
    assert list(markers.customdata) == [0, 1, 2, 3] and markers.hovertext[2] == "a 9: read wrongly by 3 of 3"
    assert [note.text for note in figure.layout.annotations] == ["7", "1", "9", "4"]
