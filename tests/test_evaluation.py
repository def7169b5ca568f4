import numpy as np
import pytest

from mnist_dash.evaluation import confusion_matrix, mistakes, per_class_accuracy, row_normalised


def probabilities_for(predictions, confidences):
    rows = np.full((len(predictions), 10), 0.0)
    for row, (label, confidence) in enumerate(zip(predictions, confidences, strict=True)):
        rows[row] = (1 - confidence) / 9
        rows[row, label] = confidence
    return rows


# Six test images, worked by hand: two 0s (one read as 6), three 1s (one read as 7), one 2.
Y_TRUE = np.array([0, 0, 1, 1, 1, 2])
Y_PRED = np.array([0, 6, 1, 7, 1, 2])


def test_confusion_matrix_against_a_hand_count():
    matrix = confusion_matrix(Y_TRUE, Y_PRED)
    assert matrix.sum() == 6
    assert matrix[0, 0] == 1 and matrix[0, 6] == 1
    assert matrix[1, 1] == 2 and matrix[1, 7] == 1
    assert matrix[2, 2] == 1
    assert np.count_nonzero(matrix) == 5


def test_row_normalised_and_per_class_accuracy():
    matrix = confusion_matrix(Y_TRUE, Y_PRED)
    shares = row_normalised(matrix)
    assert shares[0, 0] == 0.5 and shares[1, 7] == pytest.approx(1 / 3) and shares[3].sum() == 0
    accuracy = per_class_accuracy(matrix)
    assert accuracy[0] == 0.5 and accuracy[1] == pytest.approx(2 / 3) and accuracy[2] == 1.0
    assert np.isnan(accuracy[3])  # no 3s in this test set


def test_mistakes_most_confident_first_and_by_cell():
    probabilities = probabilities_for(Y_PRED, [0.9, 0.6, 0.8, 0.95, 0.7, 0.99])
    found = mistakes(Y_TRUE, probabilities)
    assert [(m.index, m.true_label, m.predicted) for m in found] == [(3, 1, 7), (1, 0, 6)]
    assert found[0].confidence == pytest.approx(0.95)
    assert [m.index for m in mistakes(Y_TRUE, probabilities, true_label=0, predicted=6)] == [1]
    assert mistakes(Y_TRUE, probabilities, true_label=2) == []
    assert len(mistakes(Y_TRUE, probabilities, limit=1)) == 1


def test_largest_confusion_is_off_the_diagonal():
    from mnist_dash.evaluation import largest_confusion

    matrix = confusion_matrix(np.array([4, 4, 4, 9, 9, 1]), np.array([9, 9, 4, 4, 9, 1]))
    assert largest_confusion(matrix) == (4, 9)


def test_confusion_heatmap_counts_and_shares():
    from mnist_dash.plots.model import confusion_heatmap

    matrix = confusion_matrix(Y_TRUE, Y_PRED)
    counts = confusion_heatmap(matrix)
    assert counts.data[0].text[1][7] == "1" and counts.layout.yaxis.autorange == "reversed"
    shares = confusion_heatmap(matrix, normalised=True)
    assert shares.data[0].text[0][6] == "50.0%" and shares.data[0].text[1][1] == "66.7%"


def test_confusion_heatmap_has_a_clickable_marker_at_each_cell():
    from mnist_dash.plots.model import confusion_heatmap

    figure = confusion_heatmap(confusion_matrix(Y_TRUE, Y_PRED))
    heatmap, markers = figure.data
    assert heatmap.hoverinfo == "skip"  # the markers answer hovers and clicks: Plotly cannot select heatmap cells
    cells = list(zip(markers.y, markers.x, markers.text, strict=True))
    assert len(cells) == 100 and cells[0] == (0, 0, "1") and (0, 6, "1") in cells and (1, 7, "1") in cells
    assert figure.layout.hoverdistance == -1  # a click anywhere in a cell picks that cell's marker, the nearest
    assert not figure.layout.shapes


def test_confusion_heatmap_outlines_the_picked_cell_row_or_column():
    from mnist_dash.plots.model import confusion_heatmap

    matrix = confusion_matrix(Y_TRUE, Y_PRED)
    [cell] = confusion_heatmap(matrix, picked=(1, 7)).layout.shapes
    assert (cell.x0, cell.x1, cell.y0, cell.y1) == (6.5, 7.5, 0.5, 1.5)
    [row] = confusion_heatmap(matrix, picked=(1, None)).layout.shapes
    assert (row.x0, row.x1, row.y0, row.y1) == (-0.5, 9.5, 0.5, 1.5)
    [column] = confusion_heatmap(matrix, picked=(None, 7)).layout.shapes
    assert (column.x0, column.x1, column.y0, column.y1) == (6.5, 7.5, -0.5, 9.5)


def test_clicked_cell_reads_true_and_predicted_from_the_selected_point():
    from mnist_dash.evaluation import clicked_cell

    # As Streamlit reports a click on the marker of the cell true 4, predicted 9.
    point = {"curve_number": 1, "point_number": 49, "point_index": 49, "x": 9, "y": 4, "text": "11"}
    assert clicked_cell([point]) == (4, 9)
    assert clicked_cell([]) is None  # a second click on a cell deselects it: nothing new to pick


def test_clicked_digit_is_the_bars_x_and_none_for_an_empty_selection():
    from mnist_dash.evaluation import clicked_digit

    assert clicked_digit([{"curve_number": 0, "point_number": 3, "x": 3, "y": 0.001}]) == 3
    assert clicked_digit([{"curve_number": 0}, {"x": 8, "y": 0.2}]) == 8  # the first point that has one
    assert clicked_digit([]) is None  # a double click clears the selection
