"""Designs in and out of the app: URL query parameters, JSON files and the layer table.

A teacher hands out a link such as
`/design?layers=512:relu:0.4:none,128:relu:0:none&optimizer=adam&epochs=20`; every
field of the spec has a parameter of its own name, and layers are
`units:activation:dropout:batch_norm` separated by commas.

A link or an upload can hold anything, and a class shares what it shows: a bad value is
echoed as a short excerpt, a SpecError from here lists at most ten problems, and
`problem_text` is what a page puts in a warning (escaped for markdown).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from mnist_dash.spec import MAX_LAYERS, MAX_NAME, ModelSpec, Problem, SpecError, from_dict
from mnist_dash.text import excerpt, md

MAX_JSON_BYTES = 100_000
MAX_PROBLEMS = 10  # a warning longer than this is not read, and a 10 kB link could make thousands
_INT_FIELDS = ("batch_size", "epochs", "seed")
_FLOAT_FIELDS = ("learning_rate", "momentum")
_TEXT_FIELDS = ("optimizer", "lr_schedule", "initializer", "validation", "name")
QUERY_KEYS = ("layers", *_INT_FIELDS, *_FLOAT_FIELDS, *_TEXT_FIELDS)
EDITED = " (edited)"
NEW_LAYER = {"units": 64, "activation": "relu", "dropout": 0.0, "batch_norm": "none"}


def _float_text(value: float) -> str:
    # Short ("0.4", "1e-05") where that reads back exactly, else every digit the value needs.
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def to_query(spec: ModelSpec) -> dict[str, str]:
    """The spec as query parameters (all fields, so a link means the same design later)."""
    layers = ",".join(f"{x.units}:{x.activation}:{_float_text(x.dropout)}:{x.batch_norm}" for x in spec.layers)
    query = {"layers": layers}
    for key in (*_INT_FIELDS, *_FLOAT_FIELDS, *_TEXT_FIELDS):
        value = getattr(spec, key)
        query[key] = _float_text(value) if isinstance(value, float) else str(value)
    return query


def _number(problems: list[Problem], field: str, text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        expected = "a whole number" if kind is int else "a number"
        problems.append(Problem(field, f'must be {expected}, got "{excerpt(text)}"'))
        return None


def has_spec(query: Mapping[str, str]) -> bool:
    """Whether the query parameters carry any part of a design."""
    return any(key in query for key in QUERY_KEYS)


def _at_most_ten(problems: list[Problem], source: str) -> SpecError:
    if len(problems) <= MAX_PROBLEMS:
        return SpecError(problems)
    more = Problem(source, f"and {len(problems) - MAX_PROBLEMS:,} more problems")
    return SpecError([*problems[:MAX_PROBLEMS], more])


def problem_text(problems: list[Problem]) -> str:
    """The problems as one line for a page's warning, escaped for markdown (each a user's value may echo)."""
    return md("; ".join(str(problem) for problem in problems))


def from_query(query: Mapping[str, str], base: ModelSpec, source: str = "the link") -> ModelSpec:
    """The design in `query`, missing fields taken from `base`.

    Parameters that are not spec fields (the page's own) are ignored. A SpecError lists
    the first ten problems and then how many more there are, under `source`.
    """
    try:
        return _from_query(query, base)
    except SpecError as error:
        raise _at_most_ten(error.problems, source) from None


def read_link(query: Mapping[str, str], base: ModelSpec, caps=None) -> tuple[ModelSpec, list[Problem]]:
    """The design in a link with every good field kept, and the problems of the fields that were not.

    A field that cannot be read, is out of range, or (given the server's `caps`, a `Limits`)
    goes beyond what the server allows keeps `base`'s value; its problems are reported,
    at most ten. A design changed from `base` without a name of its own is `base`'s name
    marked as edited, so its runs are not taken for the preset's.
    """
    data, problems = base.to_dict(), []
    for key in (key for key in QUERY_KEYS if key in query):
        try:
            candidate = _from_query({key: query[key]}, from_dict(data))
        except SpecError as error:
            problems += caps.one_limit(query, error.problems) if caps is not None else error.problems
            continue
        beyond = [p for p in (caps.problems(candidate) if caps is not None else ()) if p.field == key]
        if beyond:
            problems += beyond
            continue
        data = candidate.to_dict()
    if "name" not in query and data != base.to_dict():
        data["name"] = edited_name(base.name)
    return from_dict(data), _at_most_ten(problems, "the link").problems if problems else []


def _from_query(query: Mapping[str, str], base: ModelSpec) -> ModelSpec:
    problems: list[Problem] = []
    data = base.to_dict()
    parts = str(query["layers"]).split(",", MAX_LAYERS + 1) if "layers" in query else []
    if len(parts) > MAX_LAYERS:  # a link of 40,000 layers: said in one line, not read layer by layer
        raise SpecError([Problem("layers", f"at most {MAX_LAYERS} hidden layers; this link has more")])
    if "layers" in query:
        data["layers"] = []
        for i, part in enumerate(parts):
            pieces = part.split(":")
            if not 1 <= len(pieces) <= 4 or not pieces[0]:
                hint = f'write a layer as units:activation:dropout:batch_norm, got "{excerpt(part)}"'
                problems.append(Problem(f"layers[{i}]", hint))
                continue
            layer = dict(NEW_LAYER, units=_number(problems, f"layers[{i}].units", pieces[0], int))
            if len(pieces) > 1:
                layer["activation"] = pieces[1]
            if len(pieces) > 2:
                layer["dropout"] = _number(problems, f"layers[{i}].dropout", pieces[2], float)
            if len(pieces) > 3:
                layer["batch_norm"] = pieces[3]
            data["layers"].append(layer)
    for key in _INT_FIELDS + _FLOAT_FIELDS:
        if key in query:
            data[key] = _number(problems, key, str(query[key]), int if key in _INT_FIELDS else float)
    for key in _TEXT_FIELDS:
        if key in query:
            data[key] = str(query[key])
    if problems:
        raise SpecError(problems)
    return from_dict(data)


def parse_spec_json(raw: bytes | str, source: str = "the file") -> ModelSpec:
    """A spec from JSON text or bytes (an upload, a file) named `source`.

    A SpecError says what is wrong: the first ten problems, then how many more there are.
    `source` is cut to 80 characters there (an upload's name is the student's text).
    """
    source = excerpt(source, 80)
    if len(raw) > MAX_JSON_BYTES:
        raise SpecError([Problem(source, f"is {len(raw):,} bytes; a design is at most {MAX_JSON_BYTES:,}")])
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text)
    except UnicodeDecodeError:
        raise SpecError([Problem(source, "cannot be read: it is not UTF-8 text (is it a JSON design file?)")]) from None
    except json.JSONDecodeError as error:
        raise SpecError([Problem(source, f"is not valid JSON: {error.msg} at line {error.lineno}")]) from None
    except ValueError:  # Python reads at most 4,300 digits of a whole number.
        raise SpecError([Problem(source, "holds a number with too many digits to be a design")]) from None
    except RecursionError:
        raise SpecError([Problem(source, "nests lists or objects too deeply to be a design")]) from None
    try:
        return from_dict(data)
    except SpecError as error:
        raise _at_most_ten(error.problems, source) from None


def to_json(spec: ModelSpec) -> str:
    """The spec as a JSON document that `parse_spec_json` and the CLI read back."""
    return json.dumps(spec.to_dict(), indent=2)


def edited_name(name: str) -> str:
    """The name of a design after an edit: a preset's name marked as edited, once."""
    if not name or name.endswith(EDITED):
        return name
    return name[: MAX_NAME - len(EDITED)] + EDITED


def _cell(value):
    # The table's number cells come back as floats; a whole float is meant as an int.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def apply_table_edits(rows: list[dict], edits: Mapping) -> list[dict]:
    """Apply a `st.data_editor` change set (edited, added, deleted rows) to layer rows.

    Added rows start as NEW_LAYER; `units` cells that hold whole floats become ints.
    """
    result = [dict(row) for row in rows]
    for index, changes in (edits.get("edited_rows") or {}).items():
        position = int(index)
        if 0 <= position < len(result):
            result[position].update({key: _cell(value) for key, value in changes.items()})
    for added in edits.get("added_rows") or []:
        result.append(dict(NEW_LAYER) | {key: _cell(value) for key, value in added.items() if value is not None})
    deleted = {int(index) for index in edits.get("deleted_rows") or []}
    return [row for position, row in enumerate(result) if position not in deleted]


def layer_rows(spec: ModelSpec) -> list[dict]:
    """The spec's layers as table rows."""
    return [
        {"units": x.units, "activation": x.activation, "dropout": x.dropout, "batch_norm": x.batch_norm}
        for x in spec.layers
    ]
