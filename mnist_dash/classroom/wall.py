"""The class's digits on the wall: every digit of the class's handwriting against the class's best models.

Pure: given the class set's labels and each model's answers to it (one model per student, their
best on the board; the answers come from `predict`, NumPy from the stored weights, never Keras
in the server), `read_wall` says for each digit how many models read it wrongly and what each
answered; `order` sorts it hardest first (or in the order drawn); `describe` says it in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_dash.text import count


@dataclass(frozen=True)
class Wall:
    ids: np.ndarray  # the digits' ids in the class set, in the order drawn
    labels: np.ndarray  # what each digit is (its writer's label)
    models: tuple[str, ...]  # one per student: whose best model ("Ann's 2-layer")
    answers: np.ndarray  # (digits, models): what each model read

    @property
    def wrong(self) -> np.ndarray:
        """How many models read each digit wrongly."""
        return (self.answers != self.labels[:, None]).sum(axis=1)

    def answered(self, index: int) -> list[tuple[str, int, bool]]:
        """For one digit: (model, its answer, right?) for every model, the wrong ones first."""
        found = [
            (model, int(answer), int(answer) == int(self.labels[index]))
            for model, answer in zip(self.models, self.answers[index], strict=True)
        ]
        return sorted(found, key=lambda item: item[2])


def read_wall(ids: np.ndarray, labels: np.ndarray, answers: dict[str, np.ndarray]) -> Wall:
    """The wall of a class set (`ids`, `labels`) and each model's `answers` to it (model name -> one per digit)."""
    models = tuple(answers)
    matrix = np.stack([answers[model] for model in models], axis=1) if models else np.zeros((len(ids), 0), int)
    return Wall(np.asarray(ids), np.asarray(labels, dtype=int), models, matrix.astype(int))


def order(wall: Wall, hardest_first: bool = True) -> np.ndarray:
    """The digits' indices to show: most models wrong first (then as drawn), or simply as drawn."""
    if not hardest_first:
        return np.arange(len(wall.ids))
    return np.lexsort((np.arange(len(wall.ids)), -wall.wrong))


def describe(wall: Wall) -> str:
    """'40 class digits against 6 students' best models. Fooled every model: 2 (a 7, a 9). Read right by all: 31.'"""
    if not len(wall.ids):
        return "The class has no digits yet."
    if not wall.models:
        return f"{count(len(wall.ids), 'class digit')}, and no student has a finished model to read them yet."
    wrong, total = wall.wrong, len(wall.models)
    everyone = [int(label) for label, n in zip(wall.labels, wrong, strict=True) if n == total]
    whose = "1 student's best model" if total == 1 else f"{total} students' best models"
    said = f"{count(len(wall.ids), 'class digit')} against {whose}."
    if everyone:
        shown = ", ".join(f"a {label}" for label in everyone[:10]) + (", ..." if len(everyone) > 10 else "")
        said += f" Fooled every model: {len(everyone)} ({shown})."
    return said + f" Read right by all: {int((wrong == 0).sum())}."
