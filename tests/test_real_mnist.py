"""Known answers on the real MNIST (MNIST_DASH_DATA; required in CI)."""

import json

from mnist_dash.cli import main
from mnist_dash.data import load_mnist


def test_real_mnist_has_keras_layout(mnist_path):
    x_train, y_train, x_test, _y_test = load_mnist(mnist_path)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert sorted(set(y_train.tolist())) == list(range(10))


def test_one_epoch_of_notebook_2_hidden_reaches_96_percent(mnist_path, capsys):
    code = main(["train", "--preset", "notebook-2-hidden", "--epochs", "1", "--data", str(mnist_path), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["params_total"] == 468_874 and summary["epochs_run"] == 1
    assert summary["test_accuracy"] >= 0.96
