"""The class board: each owner's best stored run, the best-for-its-size frontier, and the board as CSV.

Pure functions over the entries `mnist_dash.classroom.challenge.scores` makes of stored runs (every
finished run, or under a challenge the runs inside its budget, scored on one seed or the
mean of three) and, for the train-validation gap, each run's last epoch; the page only
reads the store and draws.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from mnist_dash.classroom.challenge import Score
from mnist_dash.plan import describe
from mnist_dash.runs.records import RunInfo

COLUMNS = (
    ("owner", "Owner"),
    ("design", "Design"),
    ("params", "Parameters"),
    ("epochs", "Epochs"),
    ("test_accuracy", "Test accuracy"),
    ("gap", "Train - validation gap"),
    ("seconds_per_epoch", "Seconds per epoch"),
    ("class_accuracy", "Class digits accuracy"),
    ("run_id", "Run"),
)


@dataclass(frozen=True)
class BoardRow:
    owner: str  # the owner's name as they gave it (text, never markup)
    owner_key: str
    run_id: str
    name: str
    design: str  # the design in one line (plan.describe)
    params: int
    epochs: int
    test_accuracy: float
    gap: float | None  # last epoch's training accuracy minus validation accuracy; None when unknown
    seconds_per_epoch: float
    seeds: tuple[int, ...] = (0,)  # the seeds its accuracy is the mean of (one, unless the challenge asks three)
    class_accuracy: float | None = None  # on the class's own handwriting; None while the class has none


def best_per_owner(entries: list[Score], gap_of: Callable[[RunInfo], float | None]) -> list[BoardRow]:
    """One row per owner: their best-scoring entry (`challenge.scores`), best first.

    Runs without an owner (from before owners) are left out; ties go to the earlier run (it got there first).
    """
    best: dict[str, Score] = {}
    for entry in sorted(entries, key=lambda entry: entry.run.created):
        owner = entry.run.owner
        if owner is not None and (owner not in best or entry.accuracy > best[owner].accuracy):
            best[owner] = entry
    rows = []
    for entry in best.values():
        run = entry.run
        rows.append(
            BoardRow(
                owner=run.owner_name or run.owner,
                owner_key=run.owner,
                run_id=run.run_id,
                name=run.spec.name or "custom",
                design=describe(run.spec),
                params=run.params_total,
                epochs=run.epochs_run,
                test_accuracy=entry.accuracy,
                gap=gap_of(run),
                seconds_per_epoch=sum(run.epoch_seconds) / len(run.epoch_seconds) if run.epoch_seconds else 0.0,
                seeds=entry.seeds,
            )
        )
    return sorted(rows, key=lambda row: (-row.test_accuracy, row.params))


def last_epoch_gap(history: list[dict]) -> float | None:
    """Training accuracy minus validation accuracy at the last epoch: how much the run memorised."""
    if not history:
        return None
    last = history[-1]
    return float(last["accuracy"]) - float(last["val_accuracy"])


def frontier(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The best accuracy for its size: the points no smaller point beats, smallest first (a staircase upward)."""
    found: list[tuple[int, float]] = []
    for params, accuracy in sorted(points, key=lambda point: (point[0], -point[1])):
        if not found or accuracy > found[-1][1]:
            found.append((params, accuracy))
    return found


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def csv_text(text: str) -> str:
    """A student's text as a CSV cell a spreadsheet shows as text: `=HYPERLINK(...)` as a name is written
    `'=HYPERLINK(...)`, never a live formula. (The board's numbers are the app's own and stay numbers.)"""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def board_csv(rows: list[BoardRow]) -> str:
    """The board for grading: one line per owner, the columns as the page names them, accuracy as a fraction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for _, title in COLUMNS])
    for row in rows:
        gap = "" if row.gap is None else f"{row.gap:.4f}"
        accuracy, seconds = f"{row.test_accuracy:.4f}", f"{row.seconds_per_epoch:.2f}"
        hands = "" if row.class_accuracy is None else f"{row.class_accuracy:.4f}"
        writer.writerow(
            [
                csv_text(row.owner),
                csv_text(row.design),
                row.params,
                row.epochs,
                accuracy,
                gap,
                seconds,
                hands,
                row.run_id,
            ]
        )
    return buffer.getvalue()
