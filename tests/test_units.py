"""What each hidden unit looks for, on hand-set kernels whose answers are known."""

import numpy as np
import pytest

from mnist_dash.plots.units import input_grid, unit_grid
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.units import (
    UnitGrid,
    deeper_units,
    dense_kernels,
    input_images,
    most_changed,
    strongest_inputs,
    unit_images,
)


def test_a_units_image_is_its_kernel_column_reshaped_row_by_row():
    kernel = np.zeros((784, 3), np.float32)
    kernel[2 * 28 + 5, 1] = 1.0  # unit 1: one weight, on the pixel of row 2, column 5
    kernel[:, 2] = np.arange(784)  # unit 2: each weight its pixel's number
    images = unit_images(kernel, [1, 2])
    assert images.shape == (2, 28, 28)
    assert images[0][2, 5] == 1.0 and images[0].sum() == 1.0
    assert images[1][0, 27] == 27 and images[1][1, 0] == 28 and images[1][27, 27] == 783  # rows of 28, in order


def test_units_are_ordered_by_how_far_their_weights_moved():
    initial = np.ones((784, 4), np.float32)
    kernel = initial.copy()
    kernel[:4, 1] += 3.0  # ||change|| = 6
    kernel[0, 2] -= 2.0  # 2
    kernel[:, 3] *= -1  # 2 * sqrt(784) = 56
    assert most_changed(kernel, initial).tolist() == [3, 1, 2, 0]
    assert most_changed(kernel, initial, 2).tolist() == [3, 1]
    assert most_changed(initial, initial).tolist() == [0, 1, 2, 3]  # no change: in unit order


def test_strongest_inputs_are_the_largest_weights_by_size_with_their_sign():
    kernel = np.array([[0.1], [-0.9], [0.5], [0.0], [-0.5], [0.3]])
    inputs, weights = strongest_inputs(kernel, 0, 5)
    assert inputs.tolist() == [1, 2, 4, 5, 0]  # 0.5 and -0.5 tie: the lower input first
    assert weights.tolist() == [-0.9, 0.5, -0.5, 0.3, 0.1]


def test_deeper_inputs_images_are_the_kernels_multiplied_through():
    first = np.zeros((784, 2), np.float32)
    first[0, 0], first[1, 1] = 1.0, 2.0  # unit 0 looks at pixel 0, unit 1 at pixel 1
    second = np.array([[1.0, 0.0, 0.5], [-1.0, 3.0, 0.0]], np.float32)  # 2 -> 3
    third = np.array([[1.0], [0.0], [0.0]], np.float32)  # 3 -> 1: listens to second-layer unit 0 only
    np.testing.assert_array_equal(input_images([first, second, third], 1), first)
    product = input_images([first, second, third], 2)  # second-layer unit 0: pixel 0 minus twice pixel 1
    assert product[0, 0] == 1.0 and product[1, 0] == -2.0 and product[1, 1] == 6.0 and product[0, 2] == 0.5
    (found,) = deeper_units([first, second, third], 2, [0], inputs=2)
    assert found.unit == 0 and found.inputs.tolist() == [0, 1] and found.weights.tolist() == [1.0, 0.0]
    assert found.images[0][0, 0] == 1.0 and found.images[0][0, 1] == -2.0  # pixels 0 and 1: row 0


def test_dense_kernels_are_read_by_the_layer_plan_past_batch_norm():
    spec = ModelSpec(layers=(LayerSpec(4, batch_norm="after"), LayerSpec(3)), name="plan")
    weights = [np.zeros((784, 4)), np.zeros(4), *[np.ones(4)] * 4, np.zeros((4, 3)), np.zeros(3)]
    weights += [np.zeros((3, 10)), np.zeros(10)]
    found = dense_kernels(spec, weights)
    assert [(name, kernel.shape) for name, kernel in found] == [
        ("hidden_1", (784, 4)),
        ("hidden_2", (4, 3)),
        ("output", (3, 10)),
    ]
    with pytest.raises(ValueError, match="do not fit"):
        dense_kernels(spec, weights[:-2])


def test_the_grid_shows_each_epochs_images_on_one_scale_labelled_by_unit_and_change():
    kernels = np.zeros((2, 3, 784), np.float32)  # 2 epochs of units 7, 2 and 5
    kernels[1, 0, :4] = 0.5  # unit 7 moved by 1.0 by epoch 1
    kernels[1, 1, 0] = -2.0  # unit 2 by 2.0, and holds the largest |weight|
    grid = UnitGrid.of("hidden_1", np.array([7, 2, 5]), kernels)
    np.testing.assert_allclose(grid.changes(1), [1.0, 2.0, 0.0])
    assert grid.limit(3) == 2.0 and grid.limit(1) == 0.5  # over every epoch of the units shown
    first, second = unit_grid(grid, 1, 3)
    assert [note.text for note in first.layout.annotations] == ["7 · 1.0", "2 · 2.0"]
    assert [note.text for note in second.layout.annotations] == ["5 · 0.0"]
    # One colour scale centred on zero for both halves: levels of 2.0 / 127, zero in the middle.
    for figure in (first, second):
        assert (figure.data[0].zmin, figure.data[0].zmax) == (-127, 127)
    assert second.data[0].colorbar.ticktext == ("−2.00", "−1.00", "0.00", "1.00", "2.00")
    z = np.asarray(first.data[0].z)
    assert z.dtype == np.int8  # a quarter of float32's bytes on every slider move
    np.testing.assert_array_equal(z[9:37, 0:28], np.round(grid.images[1, 0] / 2.0 * 127))  # under its label
    np.testing.assert_array_equal(z[9:37, 32:60], np.round(grid.images[1, 1] / 2.0 * 127))
    assert z[9, 32] == -127 and z[9, 0] == 32  # unit 2's -2.0, unit 7's 0.5
    assert not z[:9].any() and not z[9:37, 28:32].any()  # the gaps: zero, white
    assert [figure.data[0].showscale for figure in (first, second)] == [False, True]  # one colour bar


def test_a_deeper_layers_grid_heads_each_row_with_its_unit_and_labels_the_weights():
    first = np.eye(784, 3, dtype=np.float32)
    output = np.array([[0.5, 0.0], [-0.25, 0.0], [0.0, 1.0]], np.float32)
    units = deeper_units([first, output], 1, [0, 1], inputs=2)
    left, right = input_grid("output", units)
    texts = [note.text for note in left.layout.annotations]
    assert texts == ["0 +0.50", "1 −0.25", "<b>digit 0</b>"]
    assert [note.text for note in right.layout.annotations] == ["2 +1.00", "0 +0.00", "<b>digit 1</b>"]
