"""The design as Keras code: the script builds, compiles and fits the model the app trains."""

import ast
import dataclasses

import keras
import numpy as np
import pytest

from mnist_dash import __version__
from mnist_dash.cli import main
from mnist_dash.codegen import file_name, keras_code
from mnist_dash.model import build_model
from mnist_dash.presets import PRESETS
from mnist_dash.spec import LayerSpec, ModelSpec, SpecError
from tests.support import open_page

from .conftest import make_digits

DESIGNS = [
    PRESETS["notebook-3-hidden-bn"],
    ModelSpec(
        layers=(LayerSpec(24, "tanh", 0.1, "before"), LayerSpec(12, "elu")),
        optimizer="sgd",
        momentum=0.8,
        learning_rate=0.05,
        lr_schedule="cosine",
        batch_size=64,
        epochs=3,
        seed=11,
        initializer="he_normal",
        validation="holdout",
        name="my net! (v2)",
    ),
]


def run_script(code: str, monkeypatch) -> dict:
    """Execute the script on small synthetic digits, with `fit` and `evaluate` recorded instead of run."""
    x_train, y_train = make_digits(120, seed=1)
    x_test, y_test = make_digits(30, seed=2)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x_train, y_train), (x_test, y_test)))
    calls = {}
    monkeypatch.setattr(keras.Model, "fit", lambda self, *args, **kwargs: calls.setdefault("fit", (args, kwargs)))
    monkeypatch.setattr(keras.Model, "evaluate", lambda self, *args, **kwargs: [0.1, 0.9])
    monkeypatch.setattr(keras.Model, "summary", lambda self: None)
    namespace = {"__name__": "__main__"}
    exec(compile(code, "design.py", "exec"), namespace)
    return namespace | {"calls": calls, "x_train": x_train}


@pytest.mark.parametrize("spec", DESIGNS, ids=lambda spec: spec.name)
def test_the_script_builds_the_apps_model_with_the_same_names_counts_and_initial_weights(spec, monkeypatch):
    namespace = run_script(keras_code(spec), monkeypatch)
    model = namespace["model"]  # bound at the top level before fit, as a plain script does
    keras.utils.set_random_seed(spec.seed)  # as `training.train` does before building
    expected = build_model(spec)
    assert [layer.name for layer in model.layers] == [layer.name for layer in expected.layers]
    assert model.count_params() == expected.count_params() and model.name == expected.name
    for ours, theirs in zip(model.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    args, kwargs = namespace["calls"]["fit"]
    assert kwargs["batch_size"] == spec.batch_size and kwargs["epochs"] == spec.epochs
    assert type(model.optimizer).__name__.lower() == spec.optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(spec.learning_rate)
    if spec.validation == "holdout":
        assert len(args[0]) == 100 and len(kwargs["validation_data"][0]) == 20  # the last sixth held out
    if spec.lr_schedule == "cosine":
        schedule = kwargs["callbacks"][0].schedule
        assert schedule(0) == pytest.approx(spec.learning_rate) and schedule(spec.epochs) == pytest.approx(0)


def test_the_script_is_plain_python_that_says_which_version_wrote_it():
    code = keras_code(PRESETS["notebook-2-hidden"])
    ast.parse(code)
    assert f"# Written by mnist_dash {__version__}." in code
    assert "import math" not in code  # only a schedule needs it
    assert file_name(DESIGNS[1]) == "mlp_my_net___v2_.py"


def test_an_invalid_design_has_no_code():
    with pytest.raises(SpecError):
        keras_code(ModelSpec(layers=(LayerSpec(0),)))


def test_the_cli_prints_the_same_code_for_a_preset_and_a_spec_file(tmp_path, capsys):
    assert main(["code", "--preset", "notebook-2-hidden"]) == 0
    assert capsys.readouterr().out == keras_code(PRESETS["notebook-2-hidden"])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text('{"layers": [{"units": 5}], "name": "five"}')
    assert main(["code", "--spec", str(spec_file)]) == 0
    assert "keras.layers.Dense(5," in capsys.readouterr().out
    spec_file.write_text('{"layers": []}')
    assert main(["code", "--spec", str(spec_file)]) == 2
    assert "error:" in capsys.readouterr().err


def test_design_shows_the_code_and_offers_it_as_a_file():

    app = open_page("design", {"layers": "32:relu:0.2:after", "name": "tiny"})
    shown = [block.value for block in app.code if "keras.Sequential" in block.value]
    assert shown and 'keras.layers.Dense(32, activation="relu"' in shown[0]
    assert not app.exception


HOSTILE_NAMES = [
    'x"""; open("pwned","w").write("ran"); """',
    "x'''; open('pwned','w').write('ran'); '''",
    "a \\ b \\\\ \\",
    "\\N{LATIN SMALL LETTER A} \\x41 \\u0041 {spec} {{}}",
    'it"\\"; import os; os.system("x") #',
    "🙂 ᏗᏋ ünïcödé",
]


def _shape(tree: ast.AST) -> str:
    """The module's statements and expressions with every constant's value blanked: what the code does."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree, include_attributes=False)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_design_name_stays_a_string_in_the_generated_code(name, tmp_path):
    """A design's name reaches classmates (the board's "Try this one", links, the teacher's "send my design"):
    in the script it is a literal, never code. Names with line breaks are refused before code is written."""
    spec = dataclasses.replace(DESIGNS[1], name=name)
    expected = keras_code(dataclasses.replace(DESIGNS[1], name="plain"))
    code = keras_code(spec)
    tree = ast.parse(code)
    assert _shape(ast.parse(code)) == _shape(ast.parse(expected)), "the name changed the script's statements"
    assert ast.get_docstring(tree) == f"{name}: an MLP on MNIST, as mnist_dash trains it."
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert calls <= {"print", "len"}, calls  # and keras.*, math.cos: no open, exec or os
    compile(code, file_name(spec), "exec")  # and it is a valid script
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", ["two\nlines", "carriage\rreturn", "tab\there", "line\u2028separator", "\u202eevil"])
def test_a_name_with_a_line_break_has_no_code_at_all(name):
    with pytest.raises(SpecError, match="printable"):
        keras_code(dataclasses.replace(DESIGNS[1], name=name))
