"""Weights page, "What each hidden unit looks for": the first layer's units as images, and deeper units' inputs.

For a stored run or this session's training job alike: the first layer's images come from
the run's weight snapshots (`WeightHistory.unit_kernels`), one set per epoch; the deeper
layers' inputs from its final weights, or a job's newest.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_dash import descriptions
from mnist_dash.jobs import TrainingJob
from mnist_dash.keras_export import initial_kernel_in_child
from mnist_dash.plan import layer_plan
from mnist_dash.plots.units import input_grid, unit_grid
from mnist_dash.runs import DamagedRunError, RunInfo
from mnist_dash.spec import ModelSpec
from mnist_dash.text import md
from mnist_dash.ui import charts, resources, runs_view
from mnist_dash.units import (
    PIXELS,
    SHOWN_MOST,
    UnitGrid,
    deeper_units,
    dense_kernels,
    most_changed,
    strongest_units,
)
from mnist_dash.weights import WeightHistory

COUNTS = (16, 24, 32, 40, 48, 56, 64)  # how many first-layer units the grid may show
DEEPER_SHOWN = 8  # a deeper hidden layer's units shown, strongest incoming weights first (the output: all 10)
INPUTS_SHOWN = 5


@st.cache_resource(max_entries=8, ttl=1800, show_spinner=False)  # released when idle for 30 min
def final_weights(run_id: str) -> list[np.ndarray]:
    return resources.store().final_weights(run_id)


@st.cache_resource(max_entries=8, ttl=1800, show_spinner="Rebuilding the run's initial weights (a few seconds)…")
def _grid_from_final_weights(run_id: str, spec: ModelSpec) -> UnitGrid:
    """The grid of a run stored before unit images were kept: its initial and final images only.

    The initial weights are not stored, but the design and its seed rebuild them exactly
    (`build_model` seeds each layer's initializer): Keras does that in a child process, once
    a run, never in the server.
    """
    (layer, final), *_ = dense_kernels(spec, final_weights(run_id))
    initial = initial_kernel_in_child(spec)
    ids = most_changed(final, initial, SHOWN_MOST)
    return UnitGrid.of(layer, ids, np.stack([initial[:, ids].T, final[:, ids].T]))


def _first_layer(history: WeightHistory) -> str:
    return next(key.split("/")[0] for key, shape in history.shapes.items() if len(shape) == 2 and shape[0] == PIXELS)


def _offered(key: str, options: list, default) -> None:
    """Keep a choice only while it is offered: another run may have fewer units or other layers."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def _grid(history: WeightHistory, epoch: int, source: RunInfo | TrainingJob) -> tuple[UnitGrid, int, int] | None:
    """(grid, its index for `epoch`, the epoch it shows); None, said on the page, when it cannot be had."""
    if history.unit_ids is not None:
        return UnitGrid.of(_first_layer(history), history.unit_ids, history.unit_kernels), epoch, epoch
    if isinstance(source, TrainingJob):  # a job records them from its first snapshot: not yet
        st.caption("The units' images appear here when the job's first snapshot arrives.")
        return None
    try:
        grid = _grid_from_final_weights(source.run_id, source.spec)
    except (DamagedRunError, ValueError) as error:
        st.error(f"This run's units cannot be shown: {md(str(error))}", icon=":material/broken_image:")
        return None
    st.info(
        "This run was stored before unit images were kept: these are its units after its last epoch, "
        "from its final weights, whatever the epoch chosen above.",
        icon=":material/history:",
    )
    return grid, 1, source.epochs_run


def section(history: WeightHistory, epoch: int, source: RunInfo | TrainingJob) -> None:
    """The first layer's units at `epoch` (the page's slider), then a deeper layer's units and their inputs."""
    found = _grid(history, epoch, source)
    if found is not None:
        grid, index, shown = found
        offered = [n for n in COUNTS if n < grid.ids.size] + [min(grid.ids.size, COUNTS[-1])]
        count = offered[0]
        if len(offered) > 1:
            _offered("weights_units_count", offered, 32 if 32 in offered else offered[-1])
            count = st.select_slider("Units shown", offered, key="weights_units_count")
        when = f"after epoch {shown}" if shown else "at the start"
        st.markdown(f"**{grid.layer}: the {count} units that moved most, {when}**")
        changes = grid.changes(index)[:count]
        labels = [f"unit {unit} (moved {change:.1f})" for unit, change in zip(grid.ids[:count], changes, strict=True)]
        rows = descriptions.unit_rows(grid.images[index, :count], labels)
        words = descriptions.units(grid.images[index, :count], labels)
        _halves(unit_grid(grid, index, count), "weights_units_chart", words, rows)
        st.caption(
            f"Each image is one {grid.layer} unit's 784 incoming weights, one per pixel: red pixels excite the "
            "unit, blue inhibit it. Above each, the unit's number · how far its weights have moved from their "
            "start (‖w − w₀‖); the units that moved most by the last epoch come first. Move the epoch to watch "
            "strokes of digits form out of the initial noise."
        )
    weights = _weights(source)
    _deeper(source.spec, weights[1] if weights else None, weights[0] if weights else None, epoch)


def _halves(figures, key: str, words: str, rows: list[dict] | None = None) -> None:
    """Two halves of a grid side by side; on a phone Streamlit stacks the columns, the first half on top.

    One text for both halves (`words`, with `rows` as its table), read once, under the second half.
    """
    for number, (column, figure) in enumerate(zip(st.columns(2), figures, strict=True)):
        half = "first" if number == 0 else "second"
        column.plotly_chart(figure, key=f"{key}_{number}", config=charts.NO_BAR, alt=f"The {half} half of: {words}")
    charts.read_as_table(key, words, rows or [])


def _weights(source: RunInfo | TrainingJob) -> tuple[int, list[np.ndarray]] | None:
    """(epoch, the model's weights then): a run's final ones, a job's newest (None before its first epoch)."""
    if isinstance(source, TrainingJob):
        return source.latest_weights()
    weights = runs_view.load_or_explain(final_weights, source.run_id)  # damaged: said, and None
    return None if weights is None else (source.epochs_run, weights)


def _deeper(spec: ModelSpec, weights: list[np.ndarray] | None, epoch: int | None, chosen: int) -> None:
    names = [planned.name for planned in layer_plan(spec) if planned.kind == "Dense"]
    if len(names) < 2:
        return  # no hidden layer: the grid above is the output layer itself
    _offered("weights_units_layer", names[1:], names[1])
    layer = st.selectbox("Deeper layer", names[1:], key="weights_units_layer")
    if weights is None:
        st.caption("A deeper layer's inputs appear here when the first epoch ends.")
        return
    try:
        kernels = [kernel for _, kernel in dense_kernels(spec, weights)]
    except ValueError as error:
        st.error(f"This run's final weights do not fit its design: {md(str(error))}", icon=":material/broken_image:")
        return
    index = names.index(layer)
    below = names[index - 1]
    if layer == "output":
        units, rows = range(kernels[index].shape[1]), "digit"
    else:
        units = strongest_units(kernels[index], DEEPER_SHOWN)
        rows = f"of the {len(units)} {layer} units with the strongest incoming weights"
    st.markdown(f"**What {layer}'s {'digits' if layer == 'output' else 'units'} listen to in {below}**")
    deeper = deeper_units(kernels, index, units, INPUTS_SHOWN)
    head = "digit" if layer == "output" else "unit"
    table = [
        {head: int(unit.unit), f"from {below} unit": int(source), "weight": float(weight)}
        for unit in deeper
        for source, weight in zip(unit.inputs, unit.weights, strict=True)
    ]
    _halves(input_grid(layer, deeper), "weights_inputs_chart", descriptions.inputs(layer, deeper), table)
    if index == 1:
        pictures = f"{below}'s pictures are its kernel columns, as in the grid above."
    else:  # the product of kernels: what is drawn is not what the unit computes
        pictures = (
            f"{below}'s pictures are the kernels from the pixels up to it multiplied together, as if the "
            "layers between had no activation or batch norm: a sketch of what those units look for."
        )
    # Only the final weights are kept whole (snapshots sample the deeper layers): say so when the slider asks
    # for another epoch, rather than seem to follow it.
    if chosen != epoch:
        st.info(
            f"The deeper layers are drawn from the weights after epoch {epoch} only (the last kept whole), "
            f"not epoch {chosen}: the epoch slider moves the first layer's units above.",
            icon=":material/info:",
        )
    st.caption(
        f"Weights after epoch {epoch}. Each row is one {rows} and the {INPUTS_SHOWN} {below} units it listens "
        "to most, each labelled with its number and the weight from it: + adds that unit's picture, − subtracts "
        f"it. {pictures}"
    )
