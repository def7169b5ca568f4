"""A stored run as Keras has it: its model rebuilt from its design and weights, the `.keras` file of it.

Only where Keras may load: the CLI, the folder store's export, tests, and a child process
the server starts when a student presses "Model (.keras)" (the server itself never imports
Keras: what its pages show of a model is `predict`'s NumPy). The child:

    python -m mnist_dash.keras_export keras-file RUN_ID OUT       the run's .keras file, written to OUT
    python -m mnist_dash.keras_export initial-kernel SPEC_JSON OUT the first layer's initial kernel (.npy)

reads the run store the server's environment names (MNIST_DASH_DB_URL, else MNIST_DASH_HOME).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mnist_dash.runs import DamagedRunError, RunStore
from mnist_dash.spec import ModelSpec, from_dict

CHILD_TIMEOUT_S = 120  # a child loads TensorFlow (several seconds on a busy server), builds, writes


def load_model(store, run_id: str):
    """The run's trained Keras model, rebuilt from its design and its stored weights (imports Keras).

    Raises RunNotFound, or DamagedRunError when the weights do not fit the design.
    """
    from mnist_dash.model import build_model

    run = store.get(run_id)
    weights = store.final_weights(run_id)
    model = build_model(run.spec)
    try:
        model.set_weights(weights)
    except ValueError as error:
        raise DamagedRunError(f"run {run_id} has final weights that do not fit its design: {error}") from None
    return model


def keras_file(store, run_id: str) -> bytes:
    """The run's model as a `.keras` file's bytes (built when asked for: the store keeps only the weights)."""
    model = load_model(store, run_id)
    model.optimizer.build(model.trainable_variables)  # a file Keras loads without warning of a missing optimizer
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{run_id}.keras"
        model.save(path)
        return path.read_bytes()


def initial_kernel(spec: ModelSpec) -> np.ndarray:
    """The first hidden layer's kernel as `spec`'s seed initialises it (`build_model` seeds every layer)."""
    from mnist_dash.model import build_model
    from mnist_dash.units import dense_kernels

    (_, kernel), *_ = dense_kernels(spec, build_model(spec).get_weights())
    return kernel


def _in_child(*args: str) -> bytes:
    """Run this module in a child interpreter (Keras loads there, never here); what it wrote."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        done = subprocess.run(
            [sys.executable, "-m", __name__, *args, str(out)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no word from it"])[-1]
            raise DamagedRunError(f"the model could not be built ({last[:300]})")
        return out.read_bytes()


def keras_file_in_child(run_id: str) -> bytes:
    """`keras_file` of the environment's store, built in a child process."""
    return _in_child("keras-file", run_id)


def initial_kernel_in_child(spec: ModelSpec) -> np.ndarray:
    """`initial_kernel`, computed in a child process."""
    import io

    return np.load(io.BytesIO(_in_child("initial-kernel", json.dumps(spec.to_dict()))), allow_pickle=False)


def main(argv: list[str]) -> int:
    command, argument, out = argv
    if command == "keras-file":
        Path(out).write_bytes(keras_file(RunStore(), argument))
    elif command == "initial-kernel":
        with open(out, "wb") as file:
            np.save(file, initial_kernel(from_dict(json.loads(argument))))
    else:
        raise SystemExit(f"unknown command {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
