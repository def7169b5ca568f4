"""Written observations about over- and underfitting, generated from the numbers.

In the spirit of the notebook's "Observations" section, but from rules that any
history can be checked against. Each rule is a small function of the histories;
the Compare page only displays the sentences.

An observation's text is markdown-safe: the run names in it (a student's text) are
escaped with `text.md`, so a page passes it to st.markdown as it is. RunSummary.name
and `table_row` stay plain text, for plain-text places such as a dataframe.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_dash.text import md

# A rise of the validation loss by more than this share of its minimum counts as overfitting.
RISE = 0.05
# A final gap (validation loss minus training loss) above this counts as large.
LARGE_GAP = 0.03
# Below this final training accuracy the network has not fitted the training set yet.
UNDERFIT_ACCURACY = 0.97


@dataclass(frozen=True)
class RunSummary:
    """What the rules need to know about one run."""

    name: str
    history: tuple[dict, ...]  # per-epoch records: epoch, loss, accuracy, val_loss, val_accuracy, seconds
    params: int
    test_accuracy: float | None
    regularised: bool  # any dropout or batch norm

    @property
    def final_gap(self) -> float:
        last = self.history[-1]
        return last["val_loss"] - last["loss"]

    @property
    def seconds(self) -> float:
        return sum(record["seconds"] for record in self.history)


def table_row(run: RunSummary, architecture: str) -> dict:
    """The Compare page's row for one run: size, best validation loss and its epoch, end gap, pace."""
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


def summarise(name: str, spec, history, params: int, test_accuracy: float | None) -> RunSummary:
    """A RunSummary for a run of `spec` (regularised when any layer has dropout or batch norm)."""
    regularised = any(layer.dropout > 0 or layer.batch_norm != "none" for layer in spec.layers)
    return RunSummary(name, tuple(history), params, test_accuracy, regularised)


@dataclass(frozen=True)
class Observation:
    """One finding; `text` is markdown, with every run name in it escaped."""

    kind: str  # overfitting, still-improving, plateau, gap, underfitting, smallest-gap, best-accuracy, regularisation
    text: str


def best_epoch(run: RunSummary) -> Observation | None:
    """Where the validation loss was lowest, and whether it rose afterwards (overfitting)."""
    if len(run.history) < 2:
        return None
    best = min(run.history, key=lambda record: record["val_loss"])
    last = run.history[-1]
    if best["epoch"] < last["epoch"] and last["val_loss"] > best["val_loss"] * (1 + RISE):
        rise = last["val_loss"] / best["val_loss"] - 1
        return Observation(
            "overfitting",
            f"{md(run.name)}: validation loss was lowest at epoch {best['epoch']} ({best['val_loss']:.4f}) and rose "
            f"{rise:.0%} to {last['val_loss']:.4f} by epoch {last['epoch']}: it began to overfit after epoch "
            f"{best['epoch']}.",
        )
    if best["epoch"] == last["epoch"]:
        return Observation(
            "still-improving",
            f"{md(run.name)}: validation loss was still falling at the last epoch ({last['val_loss']:.4f}): "
            "more epochs would probably help.",
        )
    return Observation(
        "plateau",
        f"{md(run.name)}: validation loss was lowest at epoch {best['epoch']} ({best['val_loss']:.4f}) and stayed "
        f"within {RISE:.0%} of it afterwards: no clear overfitting.",
    )


def gap(run: RunSummary) -> Observation | None:
    """The size of the final train/validation gap, and what it says."""
    if not run.history:
        return None
    value = run.final_gap
    if value > LARGE_GAP:
        return Observation(
            "gap",
            f"{md(run.name)}: validation loss ended {value:.4f} above training loss, a large gap: the network fits "
            "the training images better than new ones (overfitting).",
        )
    if value < 0:
        reason = "the training loss is averaged over an epoch in which the network was still learning"
        if run.regularised:
            reason += ", and dropout makes training harder than evaluation, where it is switched off"
        return Observation(
            "gap", f"{md(run.name)}: validation loss ended below training loss ({-value:.4f} lower): {reason}."
        )
    return Observation("gap", f"{md(run.name)}: train and validation loss ended close together (gap {value:.4f}).")


def underfitting(run: RunSummary) -> Observation | None:
    """A training accuracy that stayed low: the network has not learned the training set."""
    if run.history and run.history[-1]["accuracy"] < UNDERFIT_ACCURACY:
        accuracy = run.history[-1]["accuracy"]
        return Observation(
            "underfitting",
            f"{md(run.name)}: training accuracy ended at {accuracy:.2%}: it underfits; more units, more epochs or "
            "a higher learning rate may help.",
        )
    return None


def smallest_gap(runs: list[RunSummary]) -> Observation | None:
    """Which run ended with the smallest train/validation gap."""
    if len(runs) < 2:
        return None
    best = min(runs, key=lambda run: abs(run.final_gap))
    others = ", ".join(f"{md(run.name)} {run.final_gap:+.4f}" for run in runs if run is not best)
    return Observation(
        "smallest-gap",
        f"{md(best.name)} ended with the smallest train/validation gap ({best.final_gap:+.4f}; {others}).",
    )


def best_accuracy(runs: list[RunSummary]) -> Observation | None:
    """Which run reached the best test accuracy, and at what cost in parameters and time."""
    scored = [run for run in runs if run.test_accuracy is not None]
    if len(scored) < 2:
        return None
    ranked = sorted(scored, key=lambda run: run.test_accuracy, reverse=True)
    best, runner_up = ranked[0], ranked[1]
    return Observation(
        "best-accuracy",
        f"{md(best.name)} reached the best test accuracy, {best.test_accuracy:.2%}, with {best.params:,} parameters "
        f"in {best.seconds:.0f} s; next was {md(runner_up.name)} at {runner_up.test_accuracy:.2%} with "
        f"{runner_up.params:,} parameters in {runner_up.seconds:.0f} s.",
    )


def regularisation(runs: list[RunSummary]) -> Observation | None:
    """Whether the runs with dropout or batch norm ended with a smaller gap (either way) than those without."""
    with_it = [abs(run.final_gap) for run in runs if run.regularised and run.history]
    without = [abs(run.final_gap) for run in runs if not run.regularised and run.history]
    if not with_it or not without:
        return None
    mean_with, mean_without = sum(with_it) / len(with_it), sum(without) / len(without)
    verdict = "narrowed" if mean_with < mean_without else "did not narrow"
    return Observation(
        "regularisation",
        f"Dropout and batch norm {verdict} the gap between train and validation loss: {mean_with:.4f} on "
        f"average with them, {mean_without:.4f} without.",
    )


def observe(runs: list[RunSummary]) -> list[Observation]:
    """Every observation the rules make about these runs, per run first, then across them.

    A run stopped before its first epoch ended has no numbers to judge and is left out.
    """
    runs = [run for run in runs if run.history]
    found = [rule(run) for run in runs for rule in (best_epoch, gap, underfitting)]
    found += [rule(runs) for rule in (smallest_gap, best_accuracy, regularisation)]
    return [observation for observation in found if observation is not None]
