"""Written observations about runs: one verdict per run, then comparisons of like with like.

In the spirit of the notebook's "Observations" section, but from rules a teacher would sign:
each run gets exactly one verdict (`judge`), with its evidence in numbers, and rankings
(`compare`) only put side by side finished runs of the same epochs on the same validation
data, saying which runs were left out and why. The Compare page only displays the text.

Texts are markdown-safe: run names (a student's text) are escaped with `text.md`, so a page
passes them to st.markdown as they are. RunSummary.name and `table_row` stay plain text,
for plain-text places such as a dataframe.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_dash.text import count, md

# Fewer epochs than this are too few to tell a trend from the first epochs' rush.
MIN_EPOCHS = 3
# A validation loss above its minimum by more than this share, for the last two epochs, has turned up.
# Two epochs, not one: a single noisy epoch (the notebook's own curve has them) is not a trend.
RISE = 0.05
# A last validation loss this share below its best before the last two epochs: still learning.
IMPROVING = 0.02
# A final gap (validation loss minus training loss) above this is wide: the notebook's 5-hidden model ends at 0.032.
LARGE_GAP = 0.03
# Training accuracy above validation accuracy by more than this is a wide gap too.
LARGE_ACCURACY_GAP = 0.01
# An MLP on MNIST reaches 97% within a few epochs; one whose validation accuracy levels off below it underfits.
UNDERFIT_ACCURACY = 0.97

# What each verdict says of a run, in these words and no other verdict's (a test holds this).
LABELS = {
    "too-few-epochs": "too few epochs to judge",
    "overfitting": "overfitting",
    "over-confident": "over-confident",
    "unstable": "unstable",
    "still-learning": "still learning",
    "wide-gap": "a wide gap",
    "underfitting": "underfitting",
    "fits-well": "fits well",
}


@dataclass(frozen=True)
class RunSummary:
    """What the rules need to know about one run."""

    name: str
    history: tuple[dict, ...]  # per-epoch records: epoch, loss, accuracy, val_loss, val_accuracy, seconds
    params: int
    test_accuracy: float | None
    regularisers: tuple[str, ...] = ()  # "dropout", "batch norm": what lowers training accuracy
    planned_epochs: int | None = None  # None: as many as it ran
    stopped: bool = False  # stopped by its owner before its planned epochs
    validation: str = "test"  # "test" or "holdout" (ModelSpec.validation)
    data: str | None = None  # the data's fingerprint; runs are compared only on the same validation data
    design: str | None = None  # the design without its name and seed: runs that share it differ by seed alone

    @property
    def final_gap(self) -> float:
        last = self.history[-1]
        return last["val_loss"] - last["loss"]

    @property
    def seconds(self) -> float:
        return sum(record["seconds"] for record in self.history)


def summarise(name, spec, history, params: int, test_accuracy, status="finished", data=None) -> RunSummary:
    """A RunSummary for a stored run of `spec` (`status` and `data`, its data's fingerprint, from its RunInfo)."""
    used = {
        "dropout": any(layer.dropout > 0 for layer in spec.layers),
        "batch norm": any(layer.batch_norm != "none" for layer in spec.layers),
    }
    regularisers = tuple(word for word, yes in used.items() if yes)
    stopped = status == "stopped" and len(history) < spec.epochs
    design = spec.replace(seed=0, name="").design_key()
    return RunSummary(
        name, tuple(history), params, test_accuracy, regularisers, spec.epochs, stopped, spec.validation, data, design
    )


def table_row(run: RunSummary, architecture: str) -> dict:
    """The Compare page's row: size, epochs, best validation loss and its epoch, end gap, pace (None: no value)."""
    best = min(run.history, key=lambda record: record["val_loss"]) if run.history else None
    return {
        "run": run.name,
        "parameters": run.params,
        "epochs": len(run.history),
        "best val_loss": best["val_loss"] if best else None,
        "at epoch": best["epoch"] if best else None,
        "test accuracy": run.test_accuracy,
        "gap at end": run.final_gap if run.history else None,
        "s / epoch": run.seconds / len(run.history) if run.history else None,
        "architecture": architecture,
    }


@dataclass(frozen=True)
class Verdict:
    """What the rules say about one run: `kind` (a key of LABELS) and markdown `text`, its name in bold."""

    run: str  # the plain name
    kind: str
    text: str


def judge(run: RunSummary) -> Verdict:
    """The run's one verdict, with its evidence; a stopped run is said to be and judged as far as it got."""
    n = len(run.history)
    stopped = f"Stopped after {n} of {run.planned_epochs} epochs, so judged on those. " if run.stopped else ""
    if n < MIN_EPOCHS:
        last = run.history[-1] if run.history else None
        at = f"Validation accuracy {last['val_accuracy']:.2%} (loss {last['val_loss']:.4f})" if last else "Nothing"
        kind, text = "too-few-epochs", f"{at} after {n} epoch{'s' * (n != 1)}; judging takes {MIN_EPOCHS} or more."
    else:
        kind, text = _trend(run)
    return Verdict(run.name, kind, f"**{md(run.name)}**: {LABELS[kind]}. {stopped}{text}{_regularised_note(run)}")


def _trend(run: RunSummary) -> tuple[str, str]:
    """The verdict of a run of at least MIN_EPOCHS epochs (its kind and its evidence), first rule that holds."""
    h, n = run.history, len(run.history)
    last = h[-1]
    best = min(range(n), key=lambda i: h[i]["val_loss"])
    low = h[best]["val_loss"]
    if all(record["val_loss"] > low * (1 + RISE) for record in h[-2:]):
        turned = (
            f"validation loss was lowest at epoch {h[best]['epoch']} ({low:.4f}) and rose "
            f"{last['val_loss'] / low - 1:.0%} to {last['val_loss']:.4f} by epoch {last['epoch']}"
        )
        trained = f"from {h[best]['loss']:.4f} to {last['loss']:.4f}"
        if last["loss"] < h[best]["loss"]:
            if last["val_accuracy"] > h[best]["val_accuracy"]:  # more right, yet a higher loss: not overfitting
                return (
                    "over-confident",
                    f"{turned.capitalize()}, while validation accuracy kept rising "
                    f"({h[best]['val_accuracy']:.2%} to {last['val_accuracy']:.2%}): the model grew more sure of its "
                    "answers, the wrong ones too, and a confident wrong answer costs much loss. Watch validation "
                    "accuracy: when it starts to fall as well, the model is learning its training images by heart.",
                )
            return (
                "overfitting",
                f"It began after epoch {h[best]['epoch']}: {turned}, while training loss fell {trained}.",
            )
        return (
            "unstable",
            f"{turned.capitalize()}, but training loss did not fall ({trained}): a lower learning rate may help.",
        )
    before = min(range(n - 2), key=lambda i: h[i]["val_loss"])
    if last["val_loss"] < h[before]["val_loss"] * (1 - IMPROVING):
        return "still-learning", (
            f"Validation loss fell from {h[before]['val_loss']:.4f} (its best up to epoch {h[before]['epoch']}) "
            f"to {last['val_loss']:.4f} at epoch {last['epoch']}: more epochs would help."
        )
    levelled = (
        f"validation loss levelled off (lowest {low:.4f} at epoch {h[best]['epoch']}, "
        f"{last['val_loss']:.4f} at the end)"
    )
    accuracies = f"{last['accuracy']:.2%} on training, {last['val_accuracy']:.2%} on validation"
    wide_accuracy = last["accuracy"] - last["val_accuracy"] > LARGE_ACCURACY_GAP
    if last["val_accuracy"] < UNDERFIT_ACCURACY and not wide_accuracy:
        return "underfitting", (
            f"Accuracy ended low and flat, {accuracies}, and {levelled}; more units or a higher learning rate may help."
        )
    gap = run.final_gap
    if gap > LARGE_GAP or wide_accuracy:
        return "wide-gap", (
            f"Training loss {last['loss']:.4f} against validation {last['val_loss']:.4f} (gap {gap:+.4f}), accuracy "
            f"{accuracies}: it knows its training images better than new ones, but {levelled} rather than turning up."
        )
    return "fits-well", f"Accuracy {accuracies}; {levelled}, with training loss {last['loss']:.4f} (gap {gap:+.4f})."


def _regularised_note(run: RunSummary) -> str:
    """Why a training accuracy below validation accuracy understates the network (dropout, batch norm, averaging)."""
    if not run.history or run.history[-1]["accuracy"] >= run.history[-1]["val_accuracy"]:
        return ""
    last = run.history[-1]
    reasons = ["it averages an epoch of learning"]
    if "dropout" in run.regularisers:
        reasons.append("dropout is on only while training")
    if "batch norm" in run.regularisers:
        reasons.append("batch norm uses each batch's own statistics while training")
    because = ", ".join(reasons[:-1]) + (" and " if len(reasons) > 1 else "") + reasons[-1]
    return (
        f" Training accuracy ({last['accuracy']:.2%}) is below validation ({last['val_accuracy']:.2%}) because "
        f"{because}, so it understates the network."
    )


@dataclass(frozen=True)
class Comparison:
    """A ranking within one `group` of comparable runs (markdown heading), or who was left out and why."""

    kind: str  # best-accuracy, smallest-gap, regularisation, left-out
    group: str
    runs: tuple[str, ...]  # the plain names it is about
    text: str


def _key(run: RunSummary) -> tuple:
    return len(run.history), run.validation, run.data


def compare(runs: list[RunSummary]) -> list[Comparison]:
    """Rankings within each group of finished runs with the same epochs and validation data, then who was left out."""
    groups: dict[tuple, list[RunSummary]] = {}
    for run in runs:
        if run.history and not run.stopped:
            groups.setdefault(_key(run), []).append(run)
    found = []
    for (epochs, validation, _), group in groups.items():
        if len(group) > 1:
            source = "the test set" if validation == "test" else "a held-out sixth of the training set"
            heading = f"{count(epochs, 'epoch')} each, validated on {source}"
            rules = (_best_accuracy, _smallest_gap, _regularisation)
            found += [made for rule in rules if (made := rule(group, heading)) is not None]
    left = [run for run in runs if not run.history or run.stopped or len(groups[_key(run)]) == 1]
    if left and len(runs) > 1:
        datas = [run.data for run in runs]
        common = max(datas, key=datas.count)
        reasons = "; ".join(f"{md(run.name)}: {_why_alone(run, common)}" for run in left)
        text = (
            f"{'Left out of the rankings' if found else 'Nothing ranked'} (only finished runs of the same epochs on "
            f"the same validation data are ranked together): {reasons}."
        )
        found.append(Comparison("left-out", "", tuple(run.name for run in left), text))
    return found


def _why_alone(run: RunSummary, common_data: str | None) -> str:
    if run.stopped:
        return f"stopped after {len(run.history)} of {run.planned_epochs} epochs"
    why = [count(len(run.history), "epoch")]
    if run.validation != "test":
        why.append("validated on a held-out set")
    if run.data != common_data:
        why.append("other data")
    return ", ".join(why)


def _best_accuracy(group: list[RunSummary], heading: str) -> Comparison | None:
    scored = sorted((run for run in group if run.test_accuracy is not None), key=lambda run: -run.test_accuracy)
    if len(scored) < 2:
        return None
    ranked = ", ".join(
        f"{md(run.name)} {run.test_accuracy:.2%} ({run.params:,} parameters, "
        f"{run.seconds / len(run.history):.1f} s an epoch)"
        for run in scored
    )
    text = f"Test accuracy, best first: {ranked}."
    by_design: dict[str, list[RunSummary]] = {}
    for run in scored:
        if run.design is not None:
            by_design.setdefault(run.design, []).append(run)
    for same in (runs for runs in by_design.values() if len(runs) > 1):
        spread = (same[0].test_accuracy - same[-1].test_accuracy) * 100
        names = ", ".join(md(run.name) for run in same)
        text += (
            f" {names} are one design with different seeds: their spread of {spread:.2f} points is seed noise "
            "(other initial weights and another order of the images), not a difference between designs."
        )
    return Comparison("best-accuracy", heading, tuple(run.name for run in scored), text)


def _smallest_gap(group: list[RunSummary], heading: str) -> Comparison:
    ranked = sorted(group, key=lambda run: abs(run.final_gap))
    gaps = ", ".join(f"{md(run.name)} {run.final_gap:+.4f}" for run in ranked)
    text = f"Gap between validation and training loss at the end, smallest first (closest to 0): {gaps}."
    if any(run.final_gap < 0 for run in ranked):
        text += (
            " A negative gap is validation loss below training loss: dropout makes training harder than the "
            "test, and training loss is averaged over an epoch in which the model was still learning."
        )
    return Comparison("smallest-gap", heading, tuple(run.name for run in ranked), text)


def _regularisation(group: list[RunSummary], heading: str) -> Comparison | None:
    """Whether the runs with dropout or batch norm ended with a smaller gap (either way) than those without."""
    with_it = [run for run in group if run.regularisers]
    without = [run for run in group if not run.regularisers]
    if not with_it or not without:
        return None
    mean_with, mean_without = (sum(abs(run.final_gap) for run in part) / len(part) for part in (with_it, without))
    verdict = "narrowed" if mean_with < mean_without else "did not narrow"
    text = f"Dropout or batch norm {verdict} the gap: {mean_with:.4f} on average with them, {mean_without:.4f} without."
    return Comparison("regularisation", heading, tuple(run.name for run in group), text)


@dataclass(frozen=True)
class Observations:
    """What the Compare page writes under "Observations"."""

    verdicts: list[Verdict]  # one per run, in the runs' order
    comparisons: list[Comparison]

    def markdown(self) -> str:
        """A bullet per run, then each group's rankings under its heading, then who was left out."""
        lines = [f"- {verdict.text}" for verdict in self.verdicts]
        heading = None
        for comparison in self.comparisons:
            if comparison.group and comparison.group != heading:
                lines += ["", f"**Compared: {comparison.group}**", ""]
            elif not comparison.group:
                lines.append("")
            heading = comparison.group
            lines.append(f"- {comparison.text}" if comparison.group else comparison.text)
        return "\n".join(lines)


def observe(runs: list[RunSummary]) -> Observations:
    """One verdict per run, then comparisons of comparable runs."""
    return Observations([judge(run) for run in runs], compare(runs))
