"""Designs in and out of the app: URL query parameters, JSON files and the layer table.

A teacher hands out a link such as
`/design?layers=512:relu:0.4:none,128:relu:0:none&optimizer=adam&epochs=20`; every
field of the spec has a parameter of its own name, and layers are
`units:activation:dropout:batch_norm` separated by commas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from mnist_dash.spec import ModelSpec, Problem, SpecError, brief, from_dict

MAX_JSON_BYTES = 100_000
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
        problems.append(Problem(field, f"must be {expected}, got {brief(text)}"))
        return None


def has_spec(query: Mapping[str, str]) -> bool:
    """Whether the query parameters carry any part of a design."""
    return any(key in query for key in QUERY_KEYS)


def from_query(query: Mapping[str, str], base: ModelSpec) -> ModelSpec:
    """The design in `query`, missing fields taken from `base`; SpecError lists every problem.

    Parameters that are not spec fields (the page's own) are ignored.
    """
    problems: list[Problem] = []
    data = base.to_dict()
    if "layers" in query:
        data["layers"] = []
        for i, part in enumerate(str(query["layers"]).split(",")):
            pieces = part.split(":")
            if not 1 <= len(pieces) <= 4 or not pieces[0]:
                hint = f"write a layer as units:activation:dropout:batch_norm, got {brief(part)}"
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
    """A spec from JSON text or bytes (an upload, a file); SpecError says what is wrong."""
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
    return from_dict(data)


def to_json(spec: ModelSpec) -> str:
    """The spec as a JSON document that `parse_spec_json` and the CLI read back."""
    return json.dumps(spec.to_dict(), indent=2)


def edited_name(name: str) -> str:
    """The name of a design after an edit: a preset's name marked as edited, once."""
    if not name or name.endswith(EDITED):
        return name
    return name[: 80 - len(EDITED)] + EDITED


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
