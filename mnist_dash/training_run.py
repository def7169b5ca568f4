"""One training run from start to stored result: fit, judge, evaluate, save.

Shared by the two places a job can train: a thread of this process
(`TrainingJob(..., runner="thread")`) and a worker process (`mnist_dash.worker`).
Imports Keras: load it only where training happens.
"""

from __future__ import annotations

from mnist_dash import training
from mnist_dash.data import Mnist, fingerprint, validation_split
from mnist_dash.spec import ModelSpec


def train_and_save(
    spec: ModelSpec, data: Mnist, live: training.LiveHistory, store=None, marker: str | None = None, callbacks=()
) -> dict:
    """Train `spec` with `live` recording it; the result as a dict for `TrainingJob`.

    Keys: status ("finished", "stopped" or "diverged"), error (for diverged), test_loss
    and test_accuracy (finished only), run_id (when saved), epoch_seconds.
    A diverged run is not saved: its last weights are NaN and no page could show them.
    """
    split = validation_split(data, spec.validation)
    model = training.train(spec, split, callbacks=[live, *callbacks])
    with live.lock:
        history, batches = list(live.epochs), list(live.batches)
    seconds = [record["seconds"] for record in history]
    if live.diverged is not None:
        return {"status": "diverged", "error": live.diverged.explain(spec), "epoch_seconds": seconds}
    stopped = len(history) < spec.epochs
    result = {"status": "stopped" if stopped else "finished", "epoch_seconds": seconds}
    if not stopped:
        result["test_loss"], result["test_accuracy"] = training.evaluate(model, data.x_test, data.y_test)
    if store is not None:
        result["run_id"] = store.save(
            spec=spec,
            status=result["status"],
            history=history,
            batch_history=batches,
            weights=live.weights.history,
            test_loss=result.get("test_loss"),
            test_accuracy=result.get("test_accuracy"),
            model=model,
            marker=marker,
            data_fingerprint=fingerprint(data),
        )
    return result
