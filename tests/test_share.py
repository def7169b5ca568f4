import json

import pytest

from mnist_dash.presets import PRESETS
from mnist_dash.share import (
    MAX_JSON_BYTES,
    MAX_PROBLEMS,
    NEW_LAYER,
    apply_table_edits,
    edited_name,
    from_query,
    has_spec,
    layer_rows,
    parse_spec_json,
    problem_text,
    read_link,
    to_json,
    to_query,
)
from mnist_dash.spec import LayerSpec, SpecError, from_dict
from mnist_dash.text import md

DEFAULT = PRESETS["notebook-2-hidden"]


@pytest.mark.parametrize("name", PRESETS)
def test_query_round_trip(name):
    spec = PRESETS[name].replace(learning_rate=0.0003, seed=42)
    query = to_query(spec)
    assert all(isinstance(value, str) for value in query.values())
    assert from_query(query, base=DEFAULT) == spec


def test_query_reads_like_a_design():
    query = to_query(PRESETS["notebook-3-hidden-bn"])
    assert query["layers"] == "500:relu:0.4:none,300:relu:0.4:after,100:relu:0:after"
    assert query["epochs"] == "20" and query["optimizer"] == "adam"


def test_partial_query_fills_in_from_the_base_and_ignores_other_parameters():
    spec = from_query({"layers": "32,16:tanh", "epochs": "3", "page": "design"}, base=DEFAULT)
    assert spec.layers == (LayerSpec(32), LayerSpec(16, "tanh"))
    assert spec.epochs == 3 and spec.optimizer == DEFAULT.optimizer
    assert not has_spec({"page": "design"}) and has_spec({"epochs": "3"})


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"layers": "abc"}, "layers[0].units"),
        ({"layers": "32:relu:lots"}, "layers[0].dropout"),
        ({"layers": "32:relu:0:none:extra"}, "layers[0]"),
        ({"layers": ""}, "layers[0]"),
        ({"epochs": "ten"}, "epochs"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"epochs": "0"}, "epochs"),
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"layers": "0:relu:1.5"}, "layers[0].units"),
    ],
)
def test_bad_query_is_a_spec_error_naming_the_field(query, field):
    with pytest.raises(SpecError) as caught:
        from_query(query, base=DEFAULT)
    assert field in [p.field for p in caught.value.problems]


def test_json_round_trip_and_cli_form():
    spec = PRESETS["notebook-5-hidden-bn"]
    assert parse_spec_json(to_json(spec)) == spec
    assert parse_spec_json(to_json(spec).encode()) == spec
    assert json.loads(to_json(spec)) == spec.to_dict()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        (b'{"layers": [', "not valid JSON"),
        (b"[]", "JSON object"),
        (b" " * (MAX_JSON_BYTES + 1), "at most"),
        (b'{"layers": [{"units": 0}]}', "between 1 and 2,048"),
    ],
)
def test_bad_uploads_are_clear_errors(raw, words):
    with pytest.raises(SpecError) as caught:
        parse_spec_json(raw, source="upload.json")
    assert words in str(caught.value)


def test_table_edits_change_add_and_delete_rows():
    rows = layer_rows(PRESETS["notebook-3-hidden-bn"])
    edits = {
        "edited_rows": {"0": {"units": 256.0}, 2: {"dropout": 0.25, "activation": "tanh"}},
        "added_rows": [{"units": 32.0}, {}],
        "deleted_rows": [1],
    }
    result = apply_table_edits(rows, edits)
    assert [row["units"] for row in result] == [256, 100, 32, 64]
    assert isinstance(result[0]["units"], int)
    assert result[1]["activation"] == "tanh" and result[1]["dropout"] == 0.25
    assert result[3] == NEW_LAYER
    assert rows[0]["units"] == 500  # the input is not changed


def test_table_edits_keep_invalid_values_for_validation_to_report():
    result = apply_table_edits([dict(NEW_LAYER)], {"edited_rows": {0: {"units": None, "dropout": 1.5}}})
    with pytest.raises(SpecError) as caught:
        from_dict({"layers": result})
    messages = {p.field: p.message for p in caught.value.problems}
    assert messages["layers[0].units"].startswith("is empty")
    assert "[0, 0.9]" in messages["layers[0].dropout"]


def test_an_edited_preset_says_so_once():
    assert edited_name("notebook-2-hidden") == "notebook-2-hidden (edited)"
    assert edited_name("notebook-2-hidden (edited)") == "notebook-2-hidden (edited)"
    assert edited_name("") == ""
    assert len(edited_name("x" * 80)) == 80


def test_query_keeps_every_digit_a_number_needs():
    spec = DEFAULT.replace(learning_rate=0.00012345678, momentum=0.95, layers=(LayerSpec(8, dropout=0.123456789),))
    query = to_query(spec)
    assert query["learning_rate"] == "0.00012345678" and query["momentum"] == "0.95"
    assert from_query(query, base=DEFAULT) == spec


def test_a_link_with_thirteen_bad_fields_lists_ten_and_says_how_many_more():
    query = {"layers": ",".join(f"bad{i}:relu" for i in range(10)), "epochs": "x", "batch_size": "y", "seed": "z"}
    with pytest.raises(SpecError) as caught:
        from_query(query, base=DEFAULT)
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert [p.field for p in problems[:3]] == ["layers[0].units", "layers[1].units", "layers[2].units"]
    assert str(problems[-1]) == "the link: and 3 more problems"
    assert problem_text(problems).endswith(r"the link\: and 3 more problems")


def test_ten_problems_are_all_listed():
    with pytest.raises(SpecError) as caught:
        from_query({"layers": ",".join(f"bad{i}" for i in range(10))}, base=DEFAULT)
    assert len(caught.value.problems) == 10 and "more" not in str(caught.value)


def test_a_10_kb_value_is_echoed_as_a_short_excerpt():
    huge = "<b>" + "9" * 10_000
    for query in (
        {"epochs": huge},
        {"layers": f"{huge}:relu"},
        {"layers": f"8:relu:{huge}"},
        {"layers": f"{huge}:a:b:c:d"},
    ):
        with pytest.raises(SpecError) as caught:
            from_query(query, base=DEFAULT)
        assert len(str(caught.value)) < 200, query
        assert '"<b>99999' in str(caught.value) and "…" in str(caught.value)


def test_an_upload_with_many_problems_lists_ten_under_its_short_name():
    data = {"layers": [{"units": 0}] * 30, **{f"extra{i}": 1 for i in range(30)}}
    name = "[Log in again](https://example.invalid)" + "x" * 200 + ".json"
    with pytest.raises(SpecError) as caught:
        parse_spec_json(json.dumps(data), source=name)
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1].message.startswith("and ")
    assert problems[-1].field == name[:79] + "…"
    assert len(str(caught.value)) < 2_000


def test_problem_text_is_markdown_safe():
    with pytest.raises(SpecError) as caught:
        from_query({"epochs": "[Log in again](https://example.invalid)"}, base=DEFAULT)
    plain = 'epochs: must be a whole number, got "[Log in again](https://example.invalid)"'
    assert problem_text(caught.value.problems) == md(plain)
    assert "](" not in md(plain) and "https://" not in md(plain)


def test_a_link_name_with_a_line_break_is_a_problem_on_the_name():
    with pytest.raises(SpecError) as caught:
        from_query({"name": "two\nlines"}, base=DEFAULT)
    assert [p.field for p in caught.value.problems] == ["name"]


def test_read_link_keeps_the_good_fields_and_lists_every_problem():
    from mnist_dash.jobs.limits import Limits
    from mnist_dash.presets import PRESETS
    from mnist_dash.share import read_link

    base = PRESETS["notebook-2-hidden"]
    spec, problems = read_link({"layers": "abc", "epochs": "-5", "seed": "7", "optimizer": "sgd"}, base)
    assert {p.field for p in problems} == {"layers[0].units", "epochs"}
    assert (spec.seed, spec.optimizer, spec.epochs, spec.layers) == (7, "sgd", base.epochs, base.layers)
    assert spec.name == "notebook-2-hidden (edited)"
    spec, problems = read_link({"epochs": "100", "name": "mine"}, base, caps=Limits(max_epochs=30))
    assert spec.epochs == base.epochs and spec.name == "mine"
    assert [p.field for p in problems] == ["epochs"] and "at most 30 epochs" in problems[0].message
    assert read_link({"epochs": str(base.epochs)}, base) == (base, [])  # nothing changed: the preset's own name


def test_a_link_of_forty_thousand_layers_is_one_problem_not_forty_thousand_reads():
    """A 78 kB link of 40,000 bad layers cost the server about a second each time it was opened."""
    from mnist_dash.presets import PRESETS
    from mnist_dash.spec import MAX_LAYERS

    base = PRESETS["notebook-2-hidden"]
    spec, problems = read_link({"layers": ",".join(["x:nope"] * 40_000)}, base)
    assert spec.layers == base.layers
    assert [(p.field, p.message) for p in problems] == [
        ("layers", f"at most {MAX_LAYERS} hidden layers; this link has more")
    ]
    with pytest.raises(SpecError) as refused:
        from_dict(base.to_dict() | {"layers": [{"units": 8}] * 40_000})
    assert [p.message for p in refused.value.problems] == [f"at most {MAX_LAYERS} hidden layers, got 40,000"]
