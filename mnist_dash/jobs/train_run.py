"""One job's training, from start to stored run: check, fit, judge, evaluate, save.

Shared by every runner (`mnist_dash.jobs.runners`): on a thread of this process, in a
worker process, and in a Ray task (whose stand-in store hands the run back to the server
to save). Imports Keras: load it only where training happens.
"""

from __future__ import annotations

from mnist_dash.data import fingerprint, validation_split
from mnist_dash.jobs import training
from mnist_dash.jobs.contract import NOTHING_TO_SAVE, JobResult, TrainRequest


class NotAllowed(ValueError):
    """The design is beyond the limits it was admitted under (checked again where it trains)."""


def train_and_save(request: TrainRequest, live: training.LiveHistory, callbacks=()) -> JobResult:
    """Train `request.spec` with `live` recording it, and store the run (finished, or stopped after an epoch).

    A diverged run is not saved (its last weights are NaN and no page could show them),
    nor one stopped before its first epoch ended (a model that learned nothing, and the
    largest file of a run: a class's Start-then-Stop would fill the store).
    """
    spec, data, limits = request.spec, request.data, request.limits
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
    if request.store is not None:
        run_id = request.store.save(
            spec=spec,
            status="stopped" if stopped else "finished",
            history=history,
            batch_history=batches,
            weights=live.weights.history,
            test_loss=test_loss,
            test_accuracy=test_accuracy,
            model=model.get_weights(),
            marker=request.marker,
            data_fingerprint=fingerprint(data),
            owner=request.owner,
        )
    return JobResult(
        "stopped" if stopped else "finished",
        test_loss=test_loss,
        test_accuracy=test_accuracy,
        run_id=run_id,
        epoch_seconds=seconds,
    )
