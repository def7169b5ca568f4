"""A model's answers and what it looks at, in words: the confusion matrix, probabilities, saliency, units."""

from __future__ import annotations

import numpy as np

from mnist_dash.text import count

# Where on a 28 x 28 image: three bands of rows by three of columns, named as a teacher would point.
REGIONS = (
    ("the top left", "the top", "the top right"),
    ("the left", "the centre", "the right"),
    ("the bottom left", "the bottom", "the bottom right"),
)
# How many of the strongest things a description names: more is a list nobody listens to the end of.
SHOWN = 3
# How many of the strongest things a description names: more is a list nobody listens to the end of.
SHOWN = 3


def confusion(matrix: np.ndarray) -> str:
    """The test set's confusion matrix (rows true, columns predicted): accuracy and the most confused pairs."""
    matrix = np.asarray(matrix)
    total = int(matrix.sum())
    if not total:
        return "No test images were read."
    right = int(np.trace(matrix))
    mistakes = [(int(matrix[t, p]), t, p) for t in range(len(matrix)) for p in range(len(matrix)) if t != p]
    mistakes = sorted((m for m in mistakes if m[0]), key=lambda m: (-m[0], m[1], m[2]))[:SHOWN]
    said = f"{right:,} of {total:,} test images read right ({right / total:.2%})."
    if not mistakes:
        return said + " No digit was mistaken for another."
    pairs = ", ".join(f"{t} read as {p} ({count(n, 'time')})" for n, t, p in mistakes)
    return f"{said} Most confused: {pairs}."


def probabilities(probabilities: np.ndarray) -> str:
    """The answer and the runner-up, with their probabilities; a tie is said to be one."""
    p = np.asarray(probabilities, dtype=float)
    order = sorted(range(len(p)), key=lambda digit: (-p[digit], digit))
    first, second = order[0], order[1]
    if p[first] == p[second]:
        return f"A tie: {first} and {second}, {p[first]:.1%} each."
    return f"It reads {first} ({p[first]:.1%}); the runner-up is {second} ({p[second]:.1%})."


def region_sums(image: np.ndarray) -> list[tuple[str, float]]:
    """Sums of a 28 x 28 map over nine regions, named as one points at an image."""
    bands = [np.array_split(band, 3, axis=1) for band in np.array_split(np.asarray(image, dtype=float), 3)]
    return [
        (where, float(part.sum()))
        for names, band in zip(REGIONS, bands, strict=True)
        for where, part in zip(names, band, strict=True)
    ]


def _where(named: list[tuple[str, float]], sign: int) -> str:
    """The (at most two) regions of the strongest `sign` (+1, -1), strongest first, or "" if none."""
    ranked = sorted((item for item in named if item[1] * sign > 0), key=lambda item: -abs(item[1]))[:2]
    return " and ".join(where for where, _ in ranked)


def saliency(saliency: np.ndarray, digit: int) -> str:
    """Where more ink would raise the probability of `digit` most, and where it would lower it."""
    named = region_sums(saliency)
    up, down = _where(named, 1), _where(named, -1)
    if not up and not down:
        return f"The map for {digit} is flat: no pixel changes its probability."
    said = [f"more ink in {up} would raise the probability of {digit} most" if up else ""]
    said.append(f"more ink in {down} would lower it most" if down else "")
    text = "; ".join(part for part in said if part)
    return text[0].upper() + text[1:] + "."


def saliency_rows(saliency: np.ndarray) -> list[dict]:
    """The saliency map by region, strongest first: whether more ink there raises or lowers the probability,
    and how strongly, relative to the strongest region (1.00)."""
    named = region_sums(saliency)
    reach = max((abs(total) for _, total in named), default=0.0) or 1.0
    ranked = sorted(named, key=lambda item: -abs(item[1]))
    return [
        {"region": where, "more ink there": "raises it" if total > 0 else "lowers it", "strength": abs(total) / reach}
        for where, total in ranked
        if total
    ]


def unit_rows(images: np.ndarray, labels: list[str]) -> list[dict]:
    """Each unit's 28 x 28 weights as a row: its label, where ink excites it and where ink inhibits it."""
    rows = []
    for image, label in zip(images, labels, strict=True):
        named = region_sums(image)
        rows.append({"unit": label, "excited by ink in": _where(named, 1), "inhibited by ink in": _where(named, -1)})
    return rows


def units(images: np.ndarray, labels: list[str]) -> str:
    """Each unit's 28 x 28 weights in words: where ink excites it and where ink inhibits it."""
    parts = []
    for row in unit_rows(images, labels):
        said = f"{row['unit']}: excited by ink in {row['excited by ink in'] or 'no region'}"
        parts.append(
            said + (f", inhibited by ink in {row['inhibited by ink in']}" if row["inhibited by ink in"] else "")
        )
    return "; ".join(parts) + "." if parts else "No units."


def inputs(layer: str, units) -> str:
    """A deeper layer's units and their strongest inputs from the layer below (`units.Inputs`), signed."""
    named = "digit {}" if layer == "output" else "unit {}"
    parts = []
    for unit in units:
        strongest = ", ".join(
            f"from unit {source} {weight:+.2f}" for source, weight in zip(unit.inputs, unit.weights, strict=True)
        )
        parts.append(f"{named.format(unit.unit)}: {strongest}")
    return (
        f"{layer}, each unit's strongest inputs and their weights: " + "; ".join(parts) + "." if parts else "No units."
    )


def activity(layers) -> str:
    """Each hidden layer's units for one drawing: how many fire, and the strongest (`predict.LayerActivity`)."""
    parts = []
    for layer in layers:
        values = np.asarray(layer.values, dtype=float)
        strongest = np.argsort(-values, kind="stable")[:SHOWN]
        named = ", ".join(f"unit {int(unit)} ({values[unit]:.2f})" for unit in strongest if values[unit] > 0)
        said = f"{layer.name}: {int((values > 0).sum())} of {values.size} units above 0"
        parts.append(said + (f", strongest {named}" if named else ""))
    return "; ".join(parts) + "."


def probability_history(epochs: list[int], probabilities: list[np.ndarray]) -> str:
    """How the answer for one drawing moved over the epochs: the answer at each epoch where it changed."""
    if not epochs:
        return "No epochs."
    answers = [int(np.argmax(p)) for p in probabilities]
    changes = [i for i in range(len(answers)) if i == 0 or answers[i] != answers[i - 1]]
    moves = ", then ".join(f"{answers[i]} from epoch {epochs[i]} ({probabilities[i][answers[i]]:.0%})" for i in changes)
    return f"Its answer over {count(len(epochs), 'epoch')}: {moves}."
