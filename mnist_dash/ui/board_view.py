"""The class board as the Class board page and the projector view read it: the runs, the rows, the challenge."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from mnist_dash.classroom.board import BoardRow, best_per_owner, last_epoch_gap
from mnist_dash.classroom.challenge import Challenge, scores, unfinished_entries
from mnist_dash.runs import DamagedRunError, RunInfo, RunNotFound
from mnist_dash.text import count
from mnist_dash.ui import resources, runs_view
from mnist_dash.ui import teacher as teacher_ui


@dataclass(frozen=True)
class Board:
    challenge: Challenge | None
    runs: list[RunInfo]  # every finished run with an owner (the scatter)
    rows: list[BoardRow]  # each owner's best entry, best first (the table)


@st.cache_data(max_entries=4096, show_spinner=False)  # a float per run: a stored run never changes
def _stored_gap(run_id: str) -> float | None:
    try:
        return last_epoch_gap(runs_view.epoch_history(run_id))
    except (DamagedRunError, RunNotFound):
        return None


def gap(run: RunInfo) -> float | None:
    """A stored run's last-epoch gap (training minus validation accuracy); None when it cannot be read."""
    return _stored_gap(run.run_id)


def nothing_ranked(board: Board) -> str:
    """Why the ranking is empty, in a line: no finished run yet, or what the challenge still needs (the runs
    that exist stay on the scatter: "No finished runs yet" above a scatter of 12 runs was untrue)."""
    challenge = board.challenge
    if not board.runs or challenge is None:
        return "No finished runs with an owner yet. Train one, and it appears here."
    runs = count(len(board.runs), "finished run")
    inside = [run for run in board.runs if challenge.allows(run)]
    if not inside:
        return f"No entry inside the challenge yet: {runs}, none within its budget ({challenge.describe()})."
    return (
        f"No entry inside the challenge yet: {count(len(inside), 'run')} within its budget, but an entry needs "
        f"{challenge.seeds} seeds of one design by one student (seeds s, s+1 and s+2: Train's \"Enter it in the "
        'challenge" trains the other two).'
    )


def waiting_entries(board: Board) -> str | None:
    """The entries of a 3-seed challenge still waiting for seeds, in a line: whose, which seeds are stored, which
    are in line or training now (the board ranks an entry once all its seeds are stored)."""
    if board.challenge is None:
        return None
    found = unfinished_entries(board.runs, board.challenge)
    if not found:
        return None
    jobs = resources.queue().everyone()
    training = {(job.owner.key, job.spec.seed, job.spec.replace(seed=0, name="")) for job in jobs}
    said = []
    for entry in found:
        design = entry.run.spec.replace(seed=0, name="")
        going = [seed for seed in entry.seeds if (entry.run.owner, seed, design) in training]
        stored = ", ".join(map(str, entry.have))
        now = f"; {', '.join(map(str, going))} in line or training" if going else ""
        said.append(
            f"{entry.run.owner_name or 'someone'} ({entry.run.spec.name or 'a design'}: seeds {stored} of "
            f"{', '.join(map(str, entry.seeds))} stored{now})"
        )
    return "Entries still waiting for seeds: " + "; ".join(said) + "."


def read() -> Board:
    """The board now: one indexed read when no run was stored since the last redraw."""
    challenge = teacher_ui.challenge()
    runs = resources.store().finished_owned()
    rows = best_per_owner(scores(runs, challenge or Challenge()), gap)
    digits = resources.store().digits.all()
    if len(digits):
        rows = [replace(row, class_accuracy=_class_accuracy(row.run_id, digits)) for row in rows]
    return Board(challenge, runs, rows)


@st.cache_resource
def _answers() -> dict[str, dict[int, int]]:
    """Each run's answer to each class digit it has read (run id -> digit id -> digit), for every session."""
    return {}


def answers(run_id: str, digits) -> np.ndarray | None:
    """A run's answer to each digit of the class set, in its order; None when its weights cannot be read. Each
    digit is read once by each run: when a student adds one, a run reads that digit alone (NumPy, from the
    run's weights), never the whole set again."""
    known = _answers().setdefault(run_id, {})
    ids = [int(digit_id) for digit_id in digits.ids]
    new = [index for index, digit_id in enumerate(ids) if digit_id not in known]
    if new:
        try:
            read = runs_view.network(run_id).probabilities(digits.x[new]).argmax(axis=1)
        except (DamagedRunError, RunNotFound):
            return None
        known.update((ids[index], int(answer)) for index, answer in zip(new, read, strict=True))
    return np.array([known[digit_id] for digit_id in ids], dtype=int)


def _class_accuracy(run_id: str, digits) -> float | None:
    """A run's accuracy on the class's digits."""
    found = answers(run_id, digits)
    return None if found is None else float(np.mean(found == digits.y))


def large_table(rows: list[BoardRow], limit: int = 10) -> str:
    """The board's first rows as an HTML table in projector-sized type (names escaped: text, never markup)."""
    cells = "".join(
        f"<tr><td>{place}</td><td>{html.escape(row.owner)}</td><td>{row.test_accuracy:.2%}</td>"
        f"<td>{row.params:,}</td><td>{html.escape(row.design)}</td></tr>"
        for place, row in enumerate(rows[:limit], start=1)
    )
    style = (
        "<style>.projector-board{font-size:1.7rem;border-collapse:collapse;width:100%}"
        ".projector-board td,.projector-board th{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #ddd}"
        ".projector-board td:nth-child(3){font-weight:700}</style>"
    )
    head = "<tr><th>#</th><th>Student</th><th>Test accuracy</th><th>Parameters</th><th>Design</th></tr>"
    return f"{style}<table class='projector-board'>{head}{cells}</table>"
