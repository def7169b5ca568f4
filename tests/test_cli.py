import json
import subprocess
import sys

import numpy as np
import pytest

from mnist_dash.cli import main
from mnist_dash.presets import PRESETS

from .conftest import make_digits


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnist_dash", *args], capture_output=True, text=True, timeout=120)


def test_presets_json_lists_counts_and_a_spec_that_validate_accepts(tmp_path):
    result = run_cli("presets", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["name"] for row in rows] == list(PRESETS)
    by_name = {row["name"]: row for row in rows}
    assert by_name["notebook-3-hidden-bn"]["params_total"] == 575_510
    assert by_name["notebook-3-hidden-bn"]["params_trainable"] == 574_710
    assert by_name["notebook-3-hidden-bn"]["params_non_trainable"] == 800
    for row in rows:
        path = tmp_path / f"{row['name']}.json"
        path.write_text(json.dumps(row["spec"]))
        assert run_cli("validate", str(path)).returncode == 0


def test_presets_and_validate_do_not_import_tensorflow_or_keras(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(PRESETS["notebook-2-hidden"].to_dict()))
    code = (
        "import sys\n"
        "from mnist_dash.cli import main\n"
        "main(['presets']); main(['validate', sys.argv[1]])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch'))\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_presets_text(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "notebook-5-hidden-bn" in out and "784,960" in out


def test_validate_valid_spec_prints_one_line(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"layers": [{"units": 64}], "epochs": 3}))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("valid:") and "50,890 params" in out[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"layers": [{"units": 0, "dropout": 1.5}], "optimizer": "adagrad"}', ["units", "dropout", "optimizer"]),
        ("{not json", ["not valid JSON"]),
        ("[1, 2]", ["JSON object"]),
        (None, ["file not found"]),
    ],
)
def test_validate_invalid_exits_2_with_one_line_per_problem(tmp_path, content, expected):
    path = tmp_path / "spec.json"
    if content is not None:
        path.write_text(content)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(expected) and "Traceback" not in result.stderr
    for line, words in zip(lines, expected, strict=True):
        assert line.startswith("invalid:") and words in line


def test_validate_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "spec.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "cannot be read" in result.stderr and "Traceback" not in result.stderr


def test_train_a_spec_file_saves_a_run_and_ends_with_json(tmp_path, capsys):
    x_train, y_train = make_digits(600)
    x_test, y_test = make_digits(100, seed=1)
    data = tmp_path / "digits.npz"
    np.savez(data, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"layers": [{"units": 32}], "batch_size": 32, "epochs": 5, "name": "cli"}))
    assert main(["train", "--spec", str(spec), "--epochs", "2", "--data", str(data), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[1].startswith("Epoch 1/2 - ") and "val_accuracy: " in out[1]
    assert out[2].startswith("Epoch 2/2 - ")
    assert any(line.startswith("Test accuracy: ") for line in out)
    summary = json.loads(out[-1])
    assert summary["epochs_run"] == 2 and len(summary["epoch_seconds"]) == 2
    assert summary["params_total"] == 784 * 32 + 32 + 330 and summary["test_accuracy"] > 0.8
    assert main(["runs"]) == 0
    assert summary["run_id"] in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--preset", "notebook-2-hidden", "--epochs", "0"], "epochs"),
        (["--preset", "notebook-2-hidden", "--data", "/nowhere/mnist.npz"], "MNIST file not found"),
    ],
)
def test_train_bad_input_exits_2_without_traceback(args, words):
    result = run_cli("train", *args)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_runs_on_an_empty_store(capsys):
    assert main(["runs"]) == 0
    assert "no runs in" in capsys.readouterr().out
