"""The notebook's experiment: its three models trained for the same epochs, then compared.

Stored runs of the same design, seed and data are taken from the store (the result cache,
`RunStore.cached_run`), so after the first student the experiment is near-instant for a
class. The others start one by one as the owner's job limit lets them in: `advance` is
called on each redraw of the page and starts what it may, in the notebook's order.
"""

from __future__ import annotations

from collections.abc import Callable

from mnist_dash.jobs.cache import CachedRun
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import DamagedRunError, RunNotFound
from mnist_dash.spec import ModelSpec


def notebook_specs(epochs: int) -> list[ModelSpec]:
    """The notebook's three models, each for `epochs` epochs."""
    return [PRESETS[name].replace(epochs=epochs) for name in NOTEBOOK_PRESETS]


def still_to_train(epochs: int, store, data) -> int:
    """How many of the notebook's models the experiment would train (the others are in the store)."""
    return sum(run is None for run in store.cached_runs(notebook_specs(epochs), data))


class NotebookExperiment:
    """The experiment's items: a job (training, or a stored run standing in for one) or a spec still to start."""

    def __init__(self, epochs: int, store, data):
        specs = notebook_specs(epochs)
        runs = store.cached_runs(specs, data)
        self.items: list = [_cached_or_spec(store, spec, run) for spec, run in zip(specs, runs, strict=True)]

    def jobs(self) -> list:
        """The jobs started so far (and stored runs taken instead), in the notebook's order."""
        return [item for item in self.items if not isinstance(item, ModelSpec)]

    def waiting(self) -> list[ModelSpec]:
        """The models not started yet."""
        return [item for item in self.items if isinstance(item, ModelSpec)]

    def progress(self) -> tuple[bool, ...]:
        """Which jobs are still going, then one True per model still waiting: empty or all False when over.

        A page redraws whole when this changes (a model starts, a job ends).
        """
        return tuple(not job.done for job in self.jobs()) + (True,) * len(self.waiting())

    @property
    def active(self) -> bool:
        return any(self.progress())

    def advance(self, may_start: Callable[[ModelSpec], bool], start: Callable[[ModelSpec], object | None]) -> None:
        """Start the waiting models in order while `may_start` says yes; stop at the first `start` refuses (None)."""
        for index, item in enumerate(self.items):
            if isinstance(item, ModelSpec) and may_start(item):
                job = start(item)
                if job is None:
                    return
                self.items[index] = job


def _cached_or_spec(store, spec: ModelSpec, cached) -> CachedRun | ModelSpec:
    """The cached run as a finished job; the spec itself (to train) when there is none or it is damaged."""
    try:
        return CachedRun.from_store(store, cached) if cached else spec
    except (DamagedRunError, RunNotFound):
        return spec
