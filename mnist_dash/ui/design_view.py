"""The Design page's parts beside its inputs: the model summary, Keras's layers, the actions and the upload."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_dash import descriptions
from mnist_dash.codegen import file_name, keras_code
from mnist_dash.plan import count_params, layer_plan
from mnist_dash.plots.design import width_diagram
from mnist_dash.presets import PRESETS
from mnist_dash.share import parse_spec_json, to_json
from mnist_dash.spec import ModelSpec, Problem, SpecError
from mnist_dash.text import md
from mnist_dash.ui import charts, design_form, resources, state, tables
from mnist_dash.ui import teacher as teacher_ui


def _load_preset() -> None:
    if name := st.session_state.design_preset:
        state.set_design(PRESETS[name])


def preset_picker(spec: ModelSpec | None) -> None:
    """The presets; it shows the preset the design is, and none once it is edited."""
    st.session_state["design_preset"] = next(
        (name for name, preset in PRESETS.items() if spec is not None and preset == spec), None
    )
    st.selectbox(
        "Start from a preset",
        [None, *PRESETS],
        key="design_preset",
        on_change=_load_preset,
        format_func=lambda name: name or "— choose a preset —",
    )


def summary(spec: ModelSpec | None) -> None:
    """The parameter count (beside the teacher's challenge) and the network's widths."""
    st.subheader("Model summary")
    if spec is None:
        st.info("Fix the problems in the design to see the summary.", icon=":material/construction:")
        return
    counts = count_params(spec)
    st.metric("Parameters", f"{counts.total:,}")
    if (challenge := teacher_ui.challenge()) is not None:  # the teacher's budget, beside the count
        if beyond := challenge.problems(spec, counts.total):
            st.warning(f"**Beyond the challenge** ({challenge.describe()}): {'; '.join(beyond)}.")
        else:
            st.success(f"**Inside the challenge:** {challenge.describe()}.", icon=":material/flag:")
    st.caption(
        f"{counts.trainable:,} trainable · {counts.non_trainable:,} non-trainable (batch-norm moving statistics)"
    )
    words = descriptions.widths(spec, counts.total)
    charts.chart(width_diagram(spec), key="design_widths", alt=words, config=charts.NO_BAR)
    st.caption(
        "The layers from the 784 pixels to the 10 digits, each as wide as its units. Between two wide "
        "neighbours sit the most weights: that is where the parameters go."
    )


def keras_layers(spec: ModelSpec) -> None:
    st.subheader("Layers, as Keras builds them")
    rows = [
        {"layer": p.name, "type": p.kind, "output shape": str(p.output_shape), "parameters": p.params}
        for p in layer_plan(spec)
    ]
    with tables.table_area("design_layers", rows):
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={
                "layer": st.column_config.TextColumn(pinned=True),  # named while a phone scrolls the table sideways
                "parameters": st.column_config.NumberColumn(format="localized"),
            },
        )


def actions(spec: ModelSpec | None, problems: list[Problem]) -> None:
    """Train this design (or why not), download it, and the design as Keras code."""
    busy = state.job_active()
    blockers = state.start_blockers(spec) if spec is not None and not busy and not problems else []
    missing = resources.dataset() is None
    row = st.container(horizontal=True, key="design_actions")
    if row.button(
        "Train this design",
        type="primary",
        disabled=spec is None or busy or bool(problems) or bool(blockers) or missing,
        key="design_train",
        help="Fix the problems above first" if problems else None,
    ):
        # A design trained before: the Train page offers the finished run. Refused: the Train page says why.
        if state.cached_run(spec, resources.dataset()) is None:
            state.start_job(spec, resources.dataset())
        st.switch_page("app_pages/train.py")
    if spec is not None:
        row.download_button(
            "Download design (JSON)",
            to_json(spec),
            file_name="design.json",
            mime="application/json",
            key="design_download",
        )
    if busy:
        st.caption("A job is already training: see the Train page.")
    state.show_refusals(blockers)
    if missing:
        st.warning(
            "MNIST is missing on this server, so designs cannot be trained here yet (open Home to see why).",
            icon=":material/block:",
        )
    if spec is not None:
        st.caption("Or share this page's link: it holds the design.")
        with st.expander("This design as Keras code"):
            code = keras_code(spec)
            st.caption(
                "The same model the app trains (layers, names, seed), as a plain script: copy it or download it."
            )
            st.code(code, language="python")
            st.download_button(
                "Download (.py)", code, file_name=file_name(spec), mime="text/x-python", key="design_code"
            )


def upload() -> None:
    """A design from a JSON file; what is wrong with a file that is not one, said point by point."""
    uploaded = st.file_uploader("Upload a design (JSON)", type=["json"], key=design_form.widget_key("upload"))
    if uploaded is None:
        return
    try:
        state.set_design(parse_spec_json(uploaded.getvalue(), source=uploaded.name))
        st.rerun()
    except SpecError as error:
        st.error(
            "**This file is not a usable design:**\n" + "\n".join(f"- {md(str(p))}" for p in error.problems),
            icon=":material/description:",
        )
