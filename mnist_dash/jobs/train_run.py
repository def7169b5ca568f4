"""One training run from start to stored result: check, fit, judge, evaluate, save.

Shared by every runner: a thread of this process (`TrainingJob(..., runner="thread")`),
a worker process (`mnist_dash.jobs.worker_loop`) and a Ray task (`mnist_dash.jobs.ray_remote`,
whose stand-in store hands the run back to the server to save). Imports Keras: load it only
where training happens.
"""

from __future__ import annotations

from mnist_dash import training
from mnist_dash.data import Mnist, fingerprint, validation_split
from mnist_dash.jobs.limits import Limits
from mnist_dash.jobs.progress import NOTHING_TO_SAVE, JobResult
from mnist_dash.owners import Owner
from mnist_dash.spec import ModelSpec


class NotAllowed(ValueError):
    """The design is beyond the limits it was admitted under (checked again where it trains)."""


def train_and_save(
    spec: ModelSpec,
    data: Mnist,
    live: training.LiveHistory,
    store=None,
    marker: str | None = None,
    callbacks=(),
    owner: Owner | None = None,
    limits: Limits | None = None,
) -> JobResult:
    """Train `spec` with `live` recording it, and store the run (finished, or stopped after an epoch).

    A diverged run is not saved (its last weights are NaN and no page could show them),
    nor one stopped before its first epoch ended (a model that learned nothing, and the
    largest file of a run: a class's Start-then-Stop would fill the store).
    """
    if limits is not None and (problems := limits.problems(spec)):
        raise NotAllowed("; ".join(problem.message for problem in problems))
    split = validation_split(data, spec.validation)
    model = training.train(spec, split, callbacks=[live, *callbacks])
    with live.lock:
        history, batches = list(live.epochs), list(live.batches)
    seconds = tuple(record["seconds"] for record in history)
    if live.diverged is not None:
        return JobResult("diverged", error=live.diverged.explain(spec), epoch_seconds=seconds)
    if not history:
        return JobResult("stopped", reason=NOTHING_TO_SAVE)
    stopped = len(history) < spec.epochs
    test_loss = test_accuracy = None
    if not stopped:
        test_loss, test_accuracy = training.evaluate(model, data.x_test, data.y_test)
    run_id = None
    if store is not None:
        run_id = store.save(
            spec=spec,
            status="stopped" if stopped else "finished",
            history=history,
            batch_history=batches,
            weights=live.weights.history,
            test_loss=test_loss,
            test_accuracy=test_accuracy,
            model=model,
            marker=marker,
            data_fingerprint=fingerprint(data),
            owner=owner,
        )
    return JobResult(
        "stopped" if stopped else "finished",
        test_loss=test_loss,
        test_accuracy=test_accuracy,
        run_id=run_id,
        epoch_seconds=seconds,
    )
