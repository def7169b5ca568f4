"""A run's curves, its weights over the epochs and its job's state, in words."""

from __future__ import annotations

import itertools

import numpy as np

from mnist_dash.observations import LABELS, MIN_EPOCHS, RunSummary, judge
from mnist_dash.text import count


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


def announcement(snap) -> str:
    """What a screen reader says when a job's state changes (`jobs.JobSnapshot`): plain words, no wait times
    (they change every second and would be said every second)."""
    said = _announcement(snap)
    return f"Replay: {said}" if getattr(snap, "replay", "") else said


def _announcement(snap) -> str:
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
