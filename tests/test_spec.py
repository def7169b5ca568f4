import json
import math

import pytest

from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS, get_preset
from mnist_dash.spec import LayerSpec, ModelSpec, SpecError, check, field_label, from_dict, validate


def test_notebook_presets_train_like_the_notebook():
    for name in NOTEBOOK_PRESETS:
        spec = PRESETS[name]
        assert (spec.optimizer, spec.batch_size, spec.epochs, spec.validation) == ("adam", 128, 20, "test")


def test_every_preset_is_valid_and_named_as_its_key():
    for name, spec in PRESETS.items():
        assert validate(spec) == []
        assert spec.name == name


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(KeyError, match="notebook-2-hidden"):
        get_preset("nope")


@pytest.mark.parametrize("name", PRESETS)
def test_json_round_trip(name):
    spec = PRESETS[name]
    assert from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_missing_keys_take_defaults():
    spec = from_dict({"layers": [{"units": 64}]})
    assert spec == ModelSpec(layers=(LayerSpec(64),))


def test_every_problem_is_reported_at_once_with_its_field():
    data = {
        "layers": [{"units": 0, "dropout": 1.5, "activation": "softplus", "batch_norm": "middle"}],
        "learning_rate": 0,
        "batch_size": 4,
        "epochs": 500,
        "optimizer": "adagrad",
        "initializer": "zeros",
        "validation": "train",
    }
    with pytest.raises(SpecError) as caught:
        from_dict(data)
    fields = [p.field for p in caught.value.problems]
    assert fields == [
        "layers[0].units",
        "layers[0].activation",
        "layers[0].dropout",
        "layers[0].batch_norm",
        "optimizer",
        "learning_rate",
        "batch_size",
        "epochs",
        "initializer",
        "validation",
    ]
    assert "between 1 and 2,048" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"layers": [{"units": 8}], "colour": "red"}, "colour", "unknown key"),
        ({"layers": [{"units": 8, "size": 3}]}, "layers[0].size", "unknown key"),
        ({"layers": [{"units": "8"}]}, "layers[0].units", "whole number"),
        ({"layers": [{"units": 8.0}]}, "layers[0].units", "whole number"),
        ({"layers": [{"units": True}]}, "layers[0].units", "whole number"),
        ({"layers": [{"units": 8}], "learning_rate": math.nan}, "learning_rate", "finite"),
        ({"layers": [{"units": 8}], "learning_rate": math.inf}, "learning_rate", "finite"),
        ({"layers": [{"units": 8, "dropout": math.nan}]}, "layers[0].dropout", "finite"),
        ({"layers": [{"units": 8}], "learning_rate": "fast"}, "learning_rate", "number"),
        ({"layers": [{"units": 8}], "learning_rate": 1.5}, "learning_rate", "(0, 1]"),
        ({"layers": [{"units": 8}], "learning_rate": 10**400}, "learning_rate", "got 1000000000...0000000000"),
        ({"layers": [{"units": 8, "dropout": -(10**400)}]}, "layers[0].dropout", "[0, 0.9]"),
        ({"layers": [{"units": 8}], "epochs": 10**100}, "epochs", "got 1000000000...0000000000"),
        ({"layers": [{"units": 8}], "optimizer": "x" * 10_000}, "optimizer", "xxx...xxx"),
        ({"layers": [{"units": 8}], "optimizer": ["adam"]}, "optimizer", "one of"),
        ({"layers": [{"units": 8}], "name": 7}, "name", "text"),
        ({"layers": [{"dropout": 0.1}]}, "layers[0].units", "missing"),
        ({"layers": ["128"]}, "layers[0]", "object"),
        ({"layers": {"units": 8}}, "layers", "list"),
        ({}, "layers", "list"),
        ({"layers": []}, "layers", "at least one"),
        ({"layers": [{"units": 8}] * 11}, "layers", "at most 10"),
        ([1, 2], "spec", "JSON object"),
        ("layers", "spec", "JSON object"),
    ],
)
def test_bad_json_is_a_clear_error(data, field, words):
    with pytest.raises(SpecError) as caught:
        from_dict(data)
    matching = [p for p in caught.value.problems if p.field == field]
    assert matching, caught.value.problems
    assert words in matching[0].message


def test_check_accepts_a_valid_spec_and_rejects_an_invalid_one():
    good = ModelSpec(layers=(LayerSpec(10),))
    assert check(good) is good
    with pytest.raises(SpecError):
        check(good.replace(epochs=0))


def test_field_labels_read_as_words():
    assert field_label("layers[1].units") == "Layer 2 units"
    assert field_label("layers[0].batch_norm") == "Layer 1 batch norm"
    assert field_label("layers[3]") == "Layer 4"
    assert field_label("layers") == "Layers"
    assert field_label("learning_rate") == "Learning rate"


def test_messages_stay_short_whatever_the_value():
    with pytest.raises(SpecError) as caught:
        from_dict({"layers": [{"units": list(range(1000))}], "name": 3, "x" * 500: 1, "epochs": 10**5000})
    assert all(len(str(problem)) < 200 for problem in caught.value.problems)
    assert "got a value too large to show" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("x" * 81, "at most 80 characters, got 81"),
        ("a\nb", "printable"),
        ("tab\there", "printable"),
        ("bell\x07", "printable"),
        ("\u202eevil", "printable"),  # a right-to-left override would turn the rest of a line around
        (["a list"], "text"),
    ],
)
def test_a_name_is_short_printable_text(name, words):
    problems = validate(ModelSpec(layers=(LayerSpec(8),), name=name))
    assert [p.field for p in problems] == ["name"]
    assert words in problems[0].message


@pytest.mark.parametrize("name", ["", "x" * 80, "notebook-2-hidden (edited)", "Zoë's net 🔢", "[Log in](x) $y$"])
def test_printable_names_of_up_to_80_characters_are_fine(name):
    assert validate(ModelSpec(layers=(LayerSpec(8),), name=name)) == []
