"""A trained model on the test set: confusion matrix, per-class accuracy, its mistakes.

Pure NumPy on labels and predicted probabilities (`mnist_dash.predict` computes them from
the run's weights), so it is tested on hand-made cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_dash.spec import NUM_CLASSES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Counts (10, 10): row = true digit, column = predicted digit."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(matrix, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return matrix


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total (the share of each true digit predicted as each class)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, np.float64), where=totals > 0)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy for each true digit (NaN where the test set has none of it)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def largest_confusion(matrix: np.ndarray) -> tuple[int, int]:
    """The (true, predicted) cell with the most mistakes, off the diagonal."""
    off_diagonal = matrix.copy()
    np.fill_diagonal(off_diagonal, -1)
    true_label, predicted = np.unravel_index(int(off_diagonal.argmax()), matrix.shape)
    return int(true_label), int(predicted)


def clicked_cell(points: list[dict]) -> tuple[int, int] | None:
    """The (true, predicted) cell of a click on `plots.model.confusion_heatmap`, from Streamlit's selected points.

    Only the heatmap's cell markers are selectable; a point is x = predicted, y = true. None when
    the event selected nothing (a double click clears a selection).
    """
    for point in points:
        if "x" in point and "y" in point:
            return int(point["y"]), int(point["x"])
    return None


def clicked_digit(points: list[dict]) -> int | None:
    """The digit of a click on `plots.model.probability_bars` (a bar's x), from Streamlit's selected points."""
    for point in points:
        if "x" in point:
            return int(point["x"])
    return None


@dataclass(frozen=True)
class Mistake:
    index: int  # position in the test set
    true_label: int
    predicted: int
    confidence: float  # the probability given to the wrong prediction


def mistakes(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    true_label: int | None = None,
    predicted: int | None = None,
    limit: int = 24,
) -> list[Mistake]:
    """Misclassified images, most confident first, optionally only one cell (true x predicted)."""
    y_pred = probabilities.argmax(axis=1)
    wrong = y_pred != y_true
    if true_label is not None:
        wrong &= y_true == true_label
    if predicted is not None:
        wrong &= y_pred == predicted
    indices = np.flatnonzero(wrong)
    confidence = probabilities[indices, y_pred[indices]]
    order = np.argsort(-confidence, kind="stable")[:limit]
    return [
        Mistake(int(indices[i]), int(y_true[indices[i]]), int(y_pred[indices[i]]), float(confidence[i])) for i in order
    ]
