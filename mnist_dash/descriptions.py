"""Every chart in words: text alternatives computed from the chart's own data. No Streamlit.

A screen reader reads these as the chart's name (`alt=`), and a student who cannot see the
colours reads them beside it; so they say what the picture shows, with its numbers, and the
verdict the written observations would give (`observations.judge`), in the same words.
Plain text throughout: a run's or a student's name is never markup here; pages escape it
where they render markdown.
"""

from __future__ import annotations

import itertools

import numpy as np

from mnist_dash.classroom.board import frontier
from mnist_dash.observations import LABELS, MIN_EPOCHS, RunSummary, judge
from mnist_dash.text import count

# Where on a 28 x 28 image: three bands of rows by three of columns, named as a teacher would point.
REGIONS = (
    ("the top left", "the top", "the top right"),
    ("the left", "the centre", "the right"),
    ("the bottom left", "the bottom", "the bottom right"),
)
# How many of the strongest things a description names: more is a list nobody listens to the end of.
SHOWN = 3


def _value(metric: str, value: float) -> str:
    return f"{value:.2%}" if metric == "accuracy" else f"{value:.4f}"


def _epochs(numbers: list[int]) -> str:
    """`epoch 4`, `epochs 3 and 5`, `epochs 2, 4 and 6`."""
    if len(numbers) == 1:
        return f"epoch {numbers[0]}"
    return f"epochs {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


def curves(history: list[dict], metric: str = "loss", planned: int | None = None, stopped: bool = False) -> str:
    """A run's `metric` per epoch in words: where validation ended, its best and since when, and the verdict.

    `history` holds per-epoch records (epoch, loss, accuracy, val_loss, val_accuracy, seconds);
    `planned` its planned epochs; `stopped` whether its owner stopped it before them.
    """
    n = len(history)
    done = f"Stopped after {n} of {count(planned, 'epoch')}. " if stopped and planned else ""
    if not n:
        return f"{done}No epoch has ended yet, so there is no {metric} curve: it starts when the first epoch ends."
    last = history[-1]
    better = min if metric == "loss" else max
    values = [record[f"val_{metric}"] for record in history]
    best = better(values)
    at_best = [record["epoch"] for record, value in zip(history, values, strict=True) if value == best]
    said = (
        f"{done}Validation {metric} {_value(metric, last[f'val_{metric}'])} at epoch {last['epoch']}, "
        f"training {metric} {_value(metric, last[metric])}."
    )
    if n == 1:
        return f"{said} One epoch so far: a curve needs two."
    word = "lowest" if metric == "loss" else "highest"
    if at_best[-1] == last["epoch"] and len(at_best) == 1:
        said += f" Its {word} so far."
    elif at_best[-1] == last["epoch"]:
        said += f" {word.capitalize()} {_value(metric, best)} at {_epochs(at_best)}: a tie, level with its best now."
    else:
        said += f" {word.capitalize()} {_value(metric, best)} at {_epochs(at_best)}"
        after = values[values.index(best) :]
        worse = (lambda a, b: b > a) if metric == "loss" else (lambda a, b: b < a)
        steady = all(worse(a, b) for a, b in itertools.pairwise(after))
        said += f", {'rising' if metric == 'loss' else 'falling'} since." if steady else ", and not better since."
    summary = RunSummary("", tuple(history), 0, None, planned_epochs=planned, stopped=stopped)
    verdict = judge(summary).kind
    if n >= MIN_EPOCHS:
        said += f" Verdict: {LABELS[verdict]}."
    return said


def compared(named_histories: list[tuple[str, list[dict]]], metric: str = "loss") -> str:
    """Several runs' curves in words: each run's last and best validation `metric`, best run first."""
    better = min if metric == "loss" else max
    lines = []
    for name, history in named_histories:
        if not history:
            lines.append((None, f"{name}: no epoch"))
            continue
        values = [record[f"val_{metric}"] for record in history]
        best = better(values)
        epoch = history[values.index(best)]["epoch"]
        last = history[-1]
        lines.append(
            (
                best,
                f"{name}: validation {metric} {_value(metric, last[f'val_{metric}'])} after "
                f"{count(len(history), 'epoch')}, best {_value(metric, best)} at epoch {epoch}",
            )
        )
    ranked = sorted(lines, key=lambda line: (line[0] is None, (line[0] or 0) * (1 if metric == "loss" else -1)))
    return f"{count(len(lines), 'run')}, best first. " + "; ".join(text for _, text in ranked) + "."


def violins(series: list[tuple[str, np.ndarray]], start: list[tuple[str, np.ndarray]], epoch: int) -> str:
    """Per layer: the weights' median, the spread of their middle half, and how that spread changed since epoch 0."""
    initial = dict(start)
    parts = []
    for label, values in series:
        if not values.size:
            continue
        low, median, high = np.percentile(values, [25, 50, 75])
        said = f"{label}: median {median:+.3f}, middle half {low:+.3f} to {high:+.3f}"
        first = initial.get(label)
        if epoch and first is not None and first.size:
            then = float(np.subtract(*np.percentile(first, [75, 25])))
            now = float(high - low)
            if then > 0:
                said += f", spread {'grown' if now >= then else 'shrunk'} {abs(now / then - 1):.0%} since epoch 0"
            else:
                said += f", spread {now:.3f} (all one value at epoch 0)"
        parts.append(said)
    when = f"after epoch {epoch}" if epoch else "at the start (epoch 0)"
    return f"Weights {when}. " + ("; ".join(parts) + "." if parts else "None sampled.")


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


def announcement(snap) -> str:
    """What a screen reader says when a job's state changes (`jobs.JobSnapshot`): plain words, no wait times
    (they change every second and would be said every second)."""
    status, planned = str(snap.status), snap.spec.epochs
    last = snap.history[-1] if snap.history else None
    figures = (
        f"Epoch {last['epoch']} of {planned} ended: validation loss {last['val_loss']:.4f}, "
        f"validation accuracy {last['val_accuracy']:.2%}."
        if last
        else ""
    )
    reason = f" {snap.reason[:1].upper()}{snap.reason[1:].rstrip('.')}." if snap.reason else ""
    if status == "queued":
        return f"Queued: number {snap.queue_position} in line." if snap.queue_position else "Queued."
    if status == "running":
        return figures or f"Training started: epoch 1 of {planned}."
    if status == "waiting":
        return f"{figures} Waiting for its next turn."
    if status == "finished":
        accuracy = f": test accuracy {snap.test_accuracy:.2%}" if snap.test_accuracy is not None else ""
        return f"Finished after {count(snap.epoch, 'epoch')}{accuracy}."
    if status == "stopped":
        if not snap.epoch and not snap.batch_history:
            return f"Left the queue.{reason}"
        return f"Stopped after {snap.epoch} of {count(planned, 'epoch')}.{reason}"
    return f"Training {status}: {snap.error.rstrip('.')}."  # failed or diverged, with what to do
