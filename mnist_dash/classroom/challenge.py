"""A teacher's challenge: a parameter budget, an epoch budget, and whether it is judged on the mean of 3 seeds.

The one place that decides whether a design or a run is inside the budget (`Challenge.problems`,
`Challenge.allows`) and what a run scores (`scores`): the board, Design and the entry
button all ask here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from mnist_dash.runs.records import RunInfo
from mnist_dash.spec import ModelSpec

SETTING = "challenge"  # the store's setting that keeps the class's challenge
SEED_CHOICES = (1, 3)
MAX_BUDGET = 100_000_000


class ChallengeError(ValueError):
    """A challenge setting that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Challenge:
    max_params: int | None = None  # at most this many parameters; None: no budget
    max_epochs: int | None = None  # at most this many epochs; None: no budget
    seeds: int = 1  # 3: a design scores the mean test accuracy of three seeds (seed, seed + 1, seed + 2)

    def __post_init__(self):
        for name in ("max_params", "max_epochs"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or not 1 <= value <= MAX_BUDGET):
                raise ChallengeError(f"{name} must be a whole number from 1 to {MAX_BUDGET:,} (got {value!r:.30})")
        if self.seeds not in SEED_CHOICES:
            raise ChallengeError(f"seeds must be 1 or 3 (got {self.seeds!r:.30})")

    def describe(self) -> str:
        """In words, as students read it: "best test accuracy under 100,000 parameters, in at most 10 epochs"."""
        parts = ["best test accuracy"]
        if self.max_params is not None:
            parts.append(f"with at most {self.max_params:,} parameters")
        if self.max_epochs is not None:
            parts.append(f"in at most {self.max_epochs} epoch" + ("" if self.max_epochs == 1 else "s"))
        if self.seeds > 1:
            parts.append(f"judged on the mean of {self.seeds} seeds")
        return ", ".join(parts)

    def problems(self, spec: ModelSpec, params: int) -> list[str]:
        """What puts a design (with `params` parameters) beyond the budget, in words; empty when inside."""
        found = []
        if self.max_params is not None and params > self.max_params:
            found.append(f"{params:,} parameters: the challenge allows at most {self.max_params:,}")
        if self.max_epochs is not None and spec.epochs > self.max_epochs:
            found.append(f"{spec.epochs} epochs: the challenge allows at most {self.max_epochs}")
        return found

    def allows(self, run: RunInfo) -> bool:
        """Whether a stored run is inside the budget (finished, as many epochs as it planned)."""
        return run.status == "finished" and not self.problems(run.spec, run.params_total)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Challenge:
        """The challenge `to_json` wrote; ChallengeError for anything else."""
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError) as error:
            raise ChallengeError(f"the stored challenge cannot be read ({error})") from None


def entry_seeds(seed: int, have: set[int], seeds: int) -> list[int]:
    """The seeds of the entry a run of `seed` belongs to, given the seeds of its design the owner has stored or in
    training (`have`): the window of `seeds` consecutive seeds holding `seed` with the most of them (then one that
    begins at a seed they have, then the one beginning at `seed`). A run of seed 5 whose owner entered seed 4
    (training 5 and 6) is part of the entry 4, 5, 6: it never offers to train 6 and 7."""
    windows = [list(range(base, base + seeds)) for base in range(max(0, seed - seeds + 1), seed + 1)]
    return max(windows, key=lambda window: (sum(s in have for s in window), window[0] in have, window[0] == seed))


def _design(spec: ModelSpec) -> str:
    """The design without its name and seed: an owner's runs of it are one entry's seeds."""
    return spec.replace(seed=0).design_key()


@dataclass(frozen=True)
class Score:
    run: RunInfo  # the run that represents the entry (the lowest seed)
    accuracy: float  # its test accuracy, or the mean over its seeds
    seeds: tuple[int, ...]  # the seeds it was judged on


def scores(runs: list[RunInfo], challenge: Challenge) -> list[Score]:
    """Each entry inside the budget with its score: one run, or (3 seeds) a design whose seeds s, s+1, s+2 all ran.

    For 3 seeds, an owner's runs of one design (name aside) are grouped by the design without
    its seed; a group scores the mean test accuracy of the first seed that has both next seeds.
    """
    inside = [run for run in runs if challenge.allows(run) and run.test_accuracy is not None]
    if challenge.seeds == 1:
        return [Score(run, run.test_accuracy, (run.spec.seed,)) for run in inside]
    groups: dict[tuple, dict[int, RunInfo]] = {}
    for run in sorted(inside, key=lambda run: run.created):
        groups.setdefault((run.owner, _design(run.spec)), {}).setdefault(run.spec.seed, run)
    found = []
    for by_seed in groups.values():
        for seed in sorted(by_seed):
            wanted = [seed + step for step in range(challenge.seeds)]
            if all(s in by_seed for s in wanted):
                mean = sum(by_seed[s].test_accuracy for s in wanted) / len(wanted)
                found.append(Score(by_seed[seed], mean, tuple(wanted)))
                break
    return found


@dataclass(frozen=True)
class Unfinished:
    """An entry still waiting for seeds: an owner's runs of one design inside the budget, short of a full entry."""

    run: RunInfo  # its lowest seed's run
    have: tuple[int, ...]  # the entry's seeds stored
    seeds: tuple[int, ...]  # the seeds it needs


def unfinished_entries(runs: list[RunInfo], challenge: Challenge) -> list[Unfinished]:
    """The entries of a several-seed challenge that `scores` cannot rank yet, oldest first (one per owner and
    design, and none for a design the owner has a full entry of)."""
    if challenge.seeds == 1:
        return []
    ranked = {(score.run.owner, _design(score.run.spec)) for score in scores(runs, challenge)}
    groups: dict[tuple, dict[int, RunInfo]] = {}
    for run in sorted(runs, key=lambda run: run.created):
        if challenge.allows(run) and run.test_accuracy is not None:
            groups.setdefault((run.owner, _design(run.spec)), {}).setdefault(run.spec.seed, run)
    found = []
    for key, by_seed in groups.items():
        if key in ranked:
            continue
        first = min(by_seed)
        wanted = tuple(entry_seeds(first, set(by_seed), challenge.seeds))
        found.append(Unfinished(by_seed[first], tuple(s for s in wanted if s in by_seed), wanted))
    return found


def read_challenge(store) -> Challenge | None:
    """The class's challenge, or None when none is set (or the stored one cannot be read: it is then ignored)."""
    return challenge_from(store.setting(SETTING))


def challenge_from(text: str | None) -> Challenge | None:
    try:
        return Challenge.from_json(text) if text else None
    except ChallengeError:
        return None


def set_challenge(store, challenge: Challenge | None) -> None:
    """Set the class's challenge (None clears it); every page reads it from the store."""
    store.set_setting(SETTING, "" if challenge is None else challenge.to_json())
