"""Bad input everywhere: whatever a file, a link or a hand-written dict holds, parsing ends in a valid
spec or a SpecError whose problems name a field, never another exception."""

import dataclasses
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_dash import spec as spec_module
from mnist_dash.presets import PRESETS
from mnist_dash.share import QUERY_KEYS, from_query, parse_spec_json, to_json, to_query
from mnist_dash.spec import LayerSpec, ModelSpec, SpecError, from_dict, validate

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = PRESETS["notebook-2-hidden"]
SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(ModelSpec))
LAYER_FIELDS = tuple(f.name for f in dataclasses.fields(LayerSpec))
SOURCE = "upload.json"
LINK = "the link"  # where from_query files the "and N more problems" line
# What str.isprintable() accepts: no control, format, private or unassigned characters, no separator but " ".
printable_names = st.text(st.characters(exclude_categories=("C", "Zl", "Zp", "Zs")) | st.just(" "), max_size=80)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=12)
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
# Values near the valid ones, so the fuzzing reaches past the first check.
plausible = {
    "units": st.integers(-5, 3000),
    "activation": st.sampled_from(spec_module.ACTIVATIONS),
    "dropout": st.floats(-0.5, 1.5),
    "batch_norm": st.sampled_from(spec_module.BATCH_NORM_PLACEMENTS),
    "optimizer": st.sampled_from(spec_module.OPTIMIZERS),
    "learning_rate": st.floats(0, 2),
    "momentum": st.floats(0, 1),
    "lr_schedule": st.sampled_from(spec_module.LR_SCHEDULES),
    "batch_size": st.integers(0, 10_000),
    "epochs": st.integers(0, 300),
    "seed": st.integers(-1, 2**32),
    "initializer": st.sampled_from(spec_module.INITIALIZERS),
    "validation": st.sampled_from(spec_module.VALIDATION_SOURCES),
    "name": st.text(max_size=100),
}
layer_dicts = st.fixed_dictionaries({}, optional={k: plausible[k] | json_like for k in LAYER_FIELDS})
spec_dicts = st.fixed_dictionaries(
    {},
    optional={"layers": st.lists(layer_dicts | json_like, max_size=12) | json_like}
    | {k: plausible[k] | json_like for k in SPEC_FIELDS if k != "layers"},
)


def ends_well(parse, *args, source="spec") -> ModelSpec | None:
    """Run a parser: a valid spec, or None after a SpecError whose every problem names a field."""
    try:
        result = parse(*args)
    except SpecError as error:
        assert error.problems
        for problem in error.problems:
            root = problem.field.split("[")[0].split(".")[0]
            assert problem.field in ("spec", source) or root in SPEC_FIELDS or "unknown key" in problem.message, problem
            assert problem.message and len(str(problem)) < 400, problem  # readable, whatever was sent
        if source in (SOURCE, LINK):  # an upload or a link lists ten problems, then how many more
            assert len(error.problems) <= 11, error.problems
        return None
    assert isinstance(result, ModelSpec) and validate(result) == []
    return result


@FUZZ
@given(json_like | spec_dicts)
def test_from_dict_takes_anything(data):
    ends_well(from_dict, data)


@FUZZ
@given(st.sampled_from(sorted(PRESETS)), st.data())
def test_mutated_presets_are_valid_or_clear_errors(name, draw):
    data = json.loads(json.dumps(PRESETS[name].to_dict()))
    for _ in range(draw.draw(st.integers(1, 3))):
        target, layers = data, data.get("layers")
        if isinstance(layers, list) and layers and isinstance(layers[-1], dict) and draw.draw(st.booleans()):
            target = layers[-1]
        key = draw.draw(st.sampled_from(sorted(target)) | st.text(max_size=6))
        if draw.draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw.draw(plausible.get(key, json_like) | json_like)
    ends_well(from_dict, data)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_uploads_of_any_bytes(raw):
    ends_well(parse_spec_json, raw, SOURCE, source=SOURCE)


@FUZZ
@given(json_like | spec_dicts)
def test_uploads_of_any_json(data):
    raw = json.dumps(data).encode()  # NaN and Infinity too, as Python writes them
    ends_well(parse_spec_json, raw, SOURCE, source=SOURCE)


def test_uploads_that_nest_too_deeply_or_hold_endless_numbers():
    for raw in ("[" * 50_000, '{"layers": [{"units": ' + "1" * 5000 + "}]}", '{"name": ' + "[" * 900 + "]" * 900 + "}"):
        assert ends_well(parse_spec_json, raw, SOURCE, source=SOURCE) is None


texts = st.text(max_size=30) | st.sampled_from(["", "nan", "inf", "-1", "1e400", "1" * 5000, "0x10", " 7 ", "٣"])
layer_texts = st.lists(
    st.lists(texts | st.sampled_from(["32", "relu", "0.2", "after"]), max_size=5).map(":".join), max_size=4
).map(",".join)


@FUZZ
@given(st.dictionaries(st.sampled_from(QUERY_KEYS) | st.text(max_size=8), texts, max_size=6), layer_texts)
def test_links_with_any_parameters(query, layers):
    ends_well(from_query, query, BASE, source=LINK)
    ends_well(from_query, query | {"layers": layers}, BASE, source=LINK)


@FUZZ
@given(st.lists(texts, min_size=8, max_size=60).map(",".join), st.dictionaries(st.sampled_from(QUERY_KEYS), texts))
def test_long_links_list_ten_problems_at_most(layers, query):
    ends_well(from_query, query | {"layers": layers}, BASE, source=LINK)


valid_layers = st.builds(
    LayerSpec,
    units=st.integers(1, spec_module.MAX_UNITS),
    activation=st.sampled_from(spec_module.ACTIVATIONS),
    dropout=st.floats(0, spec_module.MAX_DROPOUT),
    batch_norm=st.sampled_from(spec_module.BATCH_NORM_PLACEMENTS),
)
valid_specs = st.builds(
    ModelSpec,
    layers=st.lists(valid_layers, min_size=1, max_size=spec_module.MAX_LAYERS).map(tuple),
    optimizer=st.sampled_from(spec_module.OPTIMIZERS),
    learning_rate=st.floats(0, 1, exclude_min=True),
    momentum=st.floats(0, 0.999),
    lr_schedule=st.sampled_from(spec_module.LR_SCHEDULES),
    batch_size=st.integers(*spec_module.BATCH_SIZE_RANGE),
    epochs=st.integers(*spec_module.EPOCHS_RANGE),
    seed=st.integers(*spec_module.SEED_RANGE),
    initializer=st.sampled_from(spec_module.INITIALIZERS),
    validation=st.sampled_from(spec_module.VALIDATION_SOURCES),
    name=printable_names,
)


@FUZZ
@given(valid_specs)
def test_every_valid_spec_survives_json_and_links_unchanged(spec):
    assert validate(spec) == []
    assert from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert parse_spec_json(to_json(spec).encode()) == spec
    assert from_query(to_query(spec), BASE) == spec
    assert all(math.isfinite(float(v)) for k, v in to_query(spec).items() if k in ("learning_rate", "momentum"))
