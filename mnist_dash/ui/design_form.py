"""The Design page's inputs: the layer table and the training settings, kept in session state.

The design lives in `st.session_state["design"]` (its JSON form, possibly invalid),
not in widget state, so it survives page switches. Widget keys carry the design's
version, so loading a preset, a link or an upload rebuilds the widgets from it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_dash.share import NEW_LAYER, apply_table_edits, edited_name
from mnist_dash.spec import (
    ACTIVATIONS,
    BATCH_NORM_PLACEMENTS,
    INITIALIZERS,
    LR_SCHEDULES,
    OPTIMIZERS,
    VALIDATION_SOURCES,
    Problem,
    field_label,
)
from mnist_dash.text import md
from mnist_dash.ui import resources, state

# A new row starts complete (NEW_LAYER: 64 relu units, no dropout, no batch norm), never half empty.
# No fixed widths: each column is as wide as its header ("dropout" was cut to "dropou" in a small one).
LAYER_COLUMNS = {
    "units": st.column_config.NumberColumn(
        "units", help="neurons in the layer (1-2048)", step=1, format="%d", default=NEW_LAYER["units"]
    ),
    "activation": st.column_config.SelectboxColumn(
        "activation", options=ACTIVATIONS, required=True, default=NEW_LAYER["activation"]
    ),
    "dropout": st.column_config.NumberColumn(
        "dropout",
        help="share of units dropped in training (0-0.9)",
        step=0.05,
        default=NEW_LAYER["dropout"],
    ),
    "batch_norm": st.column_config.SelectboxColumn(
        "batch norm",
        options=BATCH_NORM_PLACEMENTS,
        required=True,
        help="before or after the activation, or none",
        default=NEW_LAYER["batch_norm"],
    ),
}


def widget_key(name: str) -> str:
    return f"design_{name}_{st.session_state['design_version']}"


def _apply_table(key: str) -> None:
    design = state.design()
    design["layers"] = apply_table_edits(design["layers"], st.session_state[key])
    design["name"] = edited_name(design["name"])
    st.session_state["design_version"] += 1  # the table restarts from the updated rows


def _copy_setting(field: str, key: str) -> None:
    design = state.design()
    design[field] = st.session_state[key]
    design["name"] = edited_name(design["name"])


def show_problems(problems: list[Problem], prefix: str) -> None:
    """Show the problems whose field starts with `prefix`, under the input they concern."""
    for problem in problems:
        if problem.field == prefix or problem.field.startswith(prefix + "[") or problem.field.startswith(prefix + "."):
            st.error(md(f"{field_label(problem.field)}: {problem.message}"), icon=":material/warning:")


def layer_table(problems: list[Problem]) -> None:
    key = widget_key("layers")
    frame = pd.DataFrame(state.design()["layers"], columns=list(LAYER_COLUMNS))
    frame.index = range(1, len(frame) + 1)
    locked = resources.limits().holds("layers")
    st.data_editor(
        frame,
        key=key,
        column_config=LAYER_COLUMNS,
        num_rows="fixed" if locked else "dynamic",
        disabled=locked,
        on_change=_apply_table,
        args=(key,),
        width="stretch",
    )
    if locked:
        st.caption(f"{LOCKED} Pick one of the presets above.")
    else:
        st.caption("Edit a cell, add a row at the bottom, or select rows and delete them. Input 784 → … → output 10.")
    show_problems(problems, "layers")


LOCKED = "Set by your teacher."


def _setting(widget, field: str, label: str, problems: list[Problem], **options) -> None:
    key = widget_key(field)
    if resources.limits().holds(field):
        options |= {"disabled": True, "help": LOCKED}
    widget(label, key=key, on_change=_copy_setting, args=(field, key), **options)
    show_problems(problems, field)


def _choice(
    field: str, label: str, choices: tuple[str, ...], problems: list[Problem], widget=st.selectbox, **options
) -> None:
    index = choices.index(state.design()[field])
    _setting(widget, field, label, problems, options=choices, index=index, **options)


def _number(field: str, label: str, problems: list[Problem], **options) -> None:
    _setting(st.number_input, field, label, problems, value=state.design()[field], **options)


# Short enough to read whole in a select box half the inputs wide (a long one was cut off there).
SCHEDULE_LABELS = {"constant": "constant", "cosine": "cosine, down to 0"}
SCHEDULE_HELP = "constant: the same rate every epoch. cosine: lowered along half a cosine, to 0 by the last epoch."
VALIDATION_LABELS = {"test": "the test set (as the notebook)", "holdout": "a held-out 1/6 of the training set"}


def settings(problems: list[Problem]) -> None:
    # Two columns, not three: a third of the inputs' width cut "glorot_uniform" and "adam" to "gl" and "ad".
    first, second = st.columns(2)
    with first:
        _choice("optimizer", "Optimizer", OPTIMIZERS, problems)
        _number("learning_rate", "Learning rate", problems, step=0.0001, format="%.4f")
        if state.design()["optimizer"] == "sgd":
            _number("momentum", "Momentum (SGD)", problems, step=0.05)
        _choice(
            "lr_schedule",
            "Learning-rate schedule",
            LR_SCHEDULES,
            problems,
            format_func=SCHEDULE_LABELS.get,
            help=SCHEDULE_HELP,
        )
    with second:
        _number("batch_size", "Batch size", problems, step=1)
        _number("epochs", "Epochs", problems, step=1)
        _choice("initializer", "Weight initializer", INITIALIZERS, problems)
        _number("seed", "Seed", problems, step=1)
    _choice(
        "validation",
        "Validate on",
        VALIDATION_SOURCES,
        problems,
        widget=st.radio,
        horizontal=True,
        format_func=VALIDATION_LABELS.get,
    )
