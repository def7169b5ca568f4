"""What the class tried: each design choice of a lesson's runs and jobs, the class's results with it, and findings.

Pure functions over `Trial`s (one per stored run or job of the lesson; the page gathers them).
A choice is one facet of a design (its depth, its dropout, where its batch norm sits, ...) as
a student would name it; `choices` counts each with its results (median test accuracy and
train-validation gap of the finished runs, how many diverged), and `findings` writes what a
teacher would walk over to talk about, in the observations' style, each with who tried it:

- the most common choice that did not help (its median below the facet's other choices');
- settings that diverged (a learning rate and optimizer whose loss became NaN);
- batch norm placed two ways, with the difference in results.

Texts are plain (names are a student's text): a page escapes them (`text.md`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from mnist_dash.spec import ModelSpec
from mnist_dash.text import count

MIN_FINISHED = 2  # a choice, and the rest of its facet, needs this many finished runs before a finding compares them
WORSE = 0.001  # a median at least this far below the others' (0.1 points) did not help


@dataclass(frozen=True)
class Trial:
    """One thing a student trained or is training this lesson."""

    owner: str  # the owner's key
    name: str  # the owner's name, as given
    spec: ModelSpec
    outcome: str  # "finished", "stopped", "diverged", "failed" or "training" (queued or running)
    accuracy: float | None = None  # test accuracy, finished runs only
    gap: float | None = None  # the last epoch's training minus validation accuracy


def _depth(spec: ModelSpec) -> str:
    return count(len(spec.layers), "hidden layer")


def _widths(spec: ModelSpec) -> str:
    return "widths " + " → ".join(str(layer.units) for layer in spec.layers)


def _activations(spec: ModelSpec) -> str:
    return " and ".join(sorted({layer.activation for layer in spec.layers}))


def _dropout(spec: ModelSpec) -> str:
    most = max(layer.dropout for layer in spec.layers)
    return "no dropout" if most == 0 else "dropout ≥ 0.5" if most >= 0.5 else "dropout < 0.5"


def _batch_norm(spec: ModelSpec) -> str:
    placements = {layer.batch_norm for layer in spec.layers} - {"none"}
    if not placements:
        return "no batch norm"
    if len(placements) > 1:
        return "batch norm placed both ways"
    return f"batch norm {placements.pop()} the activation"


def _optimizer(spec: ModelSpec) -> str:
    return spec.optimizer


def _learning_rate(spec: ModelSpec) -> str:
    return f"learning rate {spec.learning_rate:g}"


def _epochs(spec: ModelSpec) -> str:
    return count(spec.epochs, "epoch")


# Each facet of a design, in the order the Design page asks them, and how one design names its choice.
FACETS: dict[str, Callable[[ModelSpec], str]] = {
    "depth": _depth,
    "widths": _widths,
    "activations": _activations,
    "dropout": _dropout,
    "batch norm": _batch_norm,
    "optimizer": _optimizer,
    "learning rate": _learning_rate,
    "epochs": _epochs,
}


@dataclass(frozen=True)
class Choice:
    facet: str
    label: str  # "dropout ≥ 0.5"
    tried: int  # runs and jobs with it
    finished: int
    accuracy: float | None  # median test accuracy of its finished runs
    gap: float | None  # median last-epoch gap of its finished runs
    diverged: int
    who: tuple[str, ...]  # the names that tried it, sorted

    def line(self) -> str:
        """'dropout ≥ 0.5: 9 runs (7 finished), median test accuracy 97.1%, median gap 0.2 points'."""
        words = f"{self.label}: {count(self.tried, 'run')}"
        if self.finished != self.tried:
            words += f" ({self.finished} finished)"
        if self.accuracy is not None:
            words += f", median test accuracy {self.accuracy:.1%}"
        if self.gap is not None:
            words += f", median gap {self.gap * 100:.1f} points"
        if self.diverged:
            words += f", {self.diverged} diverged"
        return words


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _names(trials: list[Trial]) -> tuple[str, ...]:
    return tuple(sorted({trial.name for trial in trials}, key=str.casefold))


def _choice(facet: str, label: str, trials: list[Trial]) -> Choice:
    done = [trial for trial in trials if trial.outcome == "finished" and trial.accuracy is not None]
    return Choice(
        facet=facet,
        label=label,
        tried=len(trials),
        finished=len(done),
        accuracy=_median([trial.accuracy for trial in done]),
        gap=_median([trial.gap for trial in done if trial.gap is not None]),
        diverged=sum(trial.outcome == "diverged" for trial in trials),
        who=_names(trials),
    )


def _grouped(trials: list[Trial], facet: str) -> dict[str, list[Trial]]:
    groups: dict[str, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(FACETS[facet](trial.spec), []).append(trial)
    return groups


def choices(trials: list[Trial]) -> dict[str, list[Choice]]:
    """Per facet, each choice the class made with its results: the most tried first (then by label)."""
    return {
        facet: sorted(
            (_choice(facet, label, group) for label, group in _grouped(trials, facet).items()),
            key=lambda choice: (-choice.tried, choice.label),
        )
        for facet in FACETS
    }


@dataclass(frozen=True)
class Finding:
    kind: str  # "did-not-help", "diverged" or "batch-norm"
    text: str  # what the class did, without names (the projector shows it); plain text: escape it for markdown
    who: tuple[str, ...]  # the names it is about, sorted
    who_text: str  # "Tried by Ann, Bo." (the Teacher page shows it after `text`)


def _finished(trials: list[Trial]) -> list[Trial]:
    return [trial for trial in trials if trial.outcome == "finished" and trial.accuracy is not None]


def did_not_help(trials: list[Trial]) -> Finding | None:
    """The most tried choice whose finished runs' median test accuracy is below the rest of its facet's."""
    found = []
    for facet in FACETS:
        groups = _grouped(trials, facet)
        for label, group in groups.items():
            mine = _finished(group)
            rest = _finished([trial for other, members in groups.items() if other != label for trial in members])
            if len(mine) < MIN_FINISHED or len(rest) < MIN_FINISHED:
                continue
            with_it, without = _median([t.accuracy for t in mine]), _median([t.accuracy for t in rest])
            if with_it <= without - WORSE:
                found.append((len(group), without - with_it, facet, label, group, with_it, without, len(rest)))
    if not found:
        return None
    tried, _, facet, label, group, with_it, without, others = max(found, key=lambda item: (item[0], item[1]))
    who = _names(group)
    return Finding(
        "did-not-help",
        f"The most common choice that did not help: {label} ({count(tried, 'run')}). Median test accuracy "
        f"{with_it:.1%} with it, {without:.1%} with the other {facet} choices ({count(others, 'finished run')}).",
        who,
        f"Tried by {', '.join(who)}.",
    )


def diverged(trials: list[Trial]) -> list[Finding]:
    """One finding per optimizer and learning rate whose loss became NaN or infinite, the most diverged first."""
    settings: dict[tuple[str, float], list[Trial]] = {}
    for trial in trials:
        settings.setdefault((trial.spec.optimizer, trial.spec.learning_rate), []).append(trial)
    found = []
    for (optimizer, rate), group in settings.items():
        bad = [trial for trial in group if trial.outcome == "diverged"]
        if bad:
            who = _names(bad)
            text = (
                f"Learning rate {rate:g} with {optimizer} diverged (the loss became NaN) in {len(bad)} of "
                f"{count(len(group), 'run')}: try a learning rate ten times smaller."
            )
            found.append((len(bad), rate, Finding("diverged", text, who, f"Diverged for {', '.join(who)}.")))
    return [finding for *_, finding in sorted(found, key=lambda item: (-item[0], -item[1]))]


def batch_norm_both_ways(trials: list[Trial]) -> Finding | None:
    """Batch norm before and after the activation, both with finished runs: the two medians side by side."""
    groups = _grouped(trials, "batch norm")
    before = _finished(groups.get("batch norm before the activation", []))
    after = _finished(groups.get("batch norm after the activation", []))
    if not before or not after:
        return None
    first, second = _median([t.accuracy for t in before]), _median([t.accuracy for t in after])
    difference = abs(first - second) * 100
    if difference < WORSE * 100:
        verdict = "no difference to speak of"
    else:
        verdict = f"{'before' if first > second else 'after'} did {difference:.1f} points better"
    who = _names(before + after)
    return Finding(
        "batch-norm",
        f"Batch norm was placed two ways. Before the activation: {count(len(before), 'run')}, median test accuracy "
        f"{first:.1%}. After it: {count(len(after), 'run')}, median {second:.1%}. {verdict.capitalize()}.",
        who,
        f"Before: {', '.join(_names(before))}. After: {', '.join(_names(after))}.",
    )


def findings(trials: list[Trial]) -> list[Finding]:
    """What a teacher would go and talk about: the choice that did not help, what diverged, batch norm two ways."""
    found = [did_not_help(trials), *diverged(trials), batch_norm_both_ways(trials)]
    return [finding for finding in found if finding is not None]
