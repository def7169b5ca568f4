"""The engine on Keras's other backends: a quick training run in a process of its own.

Keras picks its backend once per process (KERAS_BACKEND), so each backend gets a fresh
interpreter that trains the tiny model on synthetic digits through a TrainingJob, saves
the run and loads it back, then stops a second job after its first epoch, and reports
what it saw as one JSON line. TensorFlow, the default, is what the rest of the suite
runs on.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys, time
import keras
import numpy as np
from mnist_dash.data import validate_arrays
from mnist_dash.jobs import TrainingJob
from mnist_dash.jobs import JobQueue
from mnist_dash.keras_export import load_model
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.conftest import make_digits
from tests.patience import patience

store = RunStore(sys.argv[1])
spec = ModelSpec(layers=(LayerSpec(32, dropout=0.1), LayerSpec(16, batch_norm="after")), batch_size=64, epochs=3)
# Whole batches only: on JAX every new batch shape costs a compilation of seconds.
data = validate_arrays(*make_digits(1280, seed=1), *make_digits(320, seed=2), source="synthetic")
done = TrainingJob(spec, data, store=store, queue=JobQueue(1)).start().wait(timeout=patience(300))
model = load_model(store, done.run_id)
predicted = np.argmax(keras.ops.convert_to_numpy(model(data.x_test, training=False)), axis=1)

# Stopped once a point of its second epoch is out, as the Stop button does.
long_data = validate_arrays(*make_digits(12800, seed=4), *make_digits(320, seed=5), source="synthetic")
job = TrainingJob(spec.replace(epochs=20), long_data, store=store, queue=JobQueue(1)).start()
while not any(point["epoch"] > 1.0 for point in job.snapshot().batch_history) and not job.done:
    time.sleep(0.01)
job.stop()
stopped = job.wait(timeout=patience(300))
print(json.dumps({
    "backend": keras.backend.backend(),
    "status": [str(done.status), str(stopped.status)],
    "errors": [done.error, stopped.error],
    "losses": [record["loss"] for record in done.history],
    "point_epochs": [[point["epoch"] for point in snap.batch_history] for snap in (done, stopped)],
    "test_accuracy": done.test_accuracy,
    "reloaded_accuracy": float(np.mean(predicted == data.y_test)),
    "weight_epochs": store.weights(done.run_id).epochs,
    "stopped_epochs_run": store.get(stopped.run_id).epochs_run,
}))
"""


# JAX is in requirements-dev.txt, so CI runs this on it. PyTorch passes the same script too
# (checked in a separate environment with torch's CPU build, see the README's Backends), but it
# is not installed here: a 192 MB wheel for a backend that is slower on a CPU.
@pytest.mark.parametrize("backend", ["jax"])
def test_quick_training_on_another_backend(backend, tmp_path):
    assert importlib.util.find_spec(backend) is not None, f"{backend} is missing: pip install -r requirements-dev.txt"
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "home")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    assert result["status"] == ["finished", "stopped"], result["errors"]
    losses = result["losses"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert result["test_accuracy"] > 0.9  # the bars are easy: far above the 0.1 of chance
    assert result["reloaded_accuracy"] == pytest.approx(result["test_accuracy"], abs=0.01)
    assert result["weight_epochs"] == 4  # initial weights + 3 epochs
    assert 1 <= result["stopped_epochs_run"] < 20  # the stopped job kept its whole epochs
    for points in result["point_epochs"]:
        assert points and points == sorted(points)  # the live chart's points arrive in order
