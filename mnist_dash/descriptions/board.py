"""The class's runs and a design, in words: the board's scatter and the network's widths."""

from __future__ import annotations

from mnist_dash.classroom.board import frontier
from mnist_dash.descriptions.images import SHOWN
from mnist_dash.text import count


def widths(spec, params: int) -> str:
    """The Design page's picture of `spec` (a ModelSpec): every layer's width, input to output, and its size."""
    hidden = [f"hidden {i}, {layer.units:,} units" for i, layer in enumerate(spec.layers, 1)]
    layers = "; ".join(["input, 784 pixels", *hidden, "output, 10 digits"])
    return f"The network, input to output: {layers}. {params:,} parameters."


def board(runs, me: str | None = None) -> str:
    """The board's scatter: how many runs by how many students, and the best runs for their size (the frontier)."""
    shown = [run for run in runs if run.test_accuracy is not None and run.owner is not None]
    if not shown:
        return "No finished runs on the board."
    points = {(run.params_total, run.test_accuracy * 100): run for run in reversed(shown)}
    best = frontier(list(points))
    owners = {run.owner for run in shown}
    said = f"{count(len(shown), 'run')} by {count(len(owners), 'student')}. "
    said += "The best for their size (the staircase's top steps), smallest first: "
    listed = []
    for point in best[-SHOWN:]:
        run = points[point]
        who = "you" if run.owner == me else (run.owner_name or "anonymous")
        design = run.spec.name or "custom"
        listed.append(f"{run.test_accuracy:.2%} with {run.params_total:,} parameters ({design}, {who})")
    return said + "; ".join(listed) + "."


def board_rows(runs, me: str | None = None) -> list[dict]:
    """The board's scatter as rows, best first: who, which design, its size and accuracy, on the staircase or not."""
    shown = [run for run in runs if run.test_accuracy is not None and run.owner is not None]
    best = set(frontier([(run.params_total, run.test_accuracy * 100) for run in shown]))
    return [
        {
            "student": "you" if run.owner == me else (run.owner_name or "anonymous"),
            "design": run.spec.name or "custom",
            "parameters": run.params_total,
            "test accuracy": run.test_accuracy,
            "best for its size": (run.params_total, run.test_accuracy * 100) in best,
        }
        for run in sorted(shown, key=lambda run: (-run.test_accuracy, run.params_total))
    ]
