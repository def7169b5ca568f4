"""Design: pick a preset or build an MLP, see its summary, share it, and send it to training."""

import pandas as pd
import streamlit as st

from mnist_dash.codegen import file_name, keras_code
from mnist_dash.plan import count_params, layer_plan
from mnist_dash.plots import width_diagram
from mnist_dash.presets import PRESETS
from mnist_dash.share import parse_spec_json, to_json, to_query
from mnist_dash.spec import SpecError, from_dict
from mnist_dash.text import md
from mnist_dash.ui import design_form, state, tables
from mnist_dash.ui import owner as owner_ui
from mnist_dash.ui import teacher as teacher_ui

st.title("Design a network")
teacher_ui.pushed_offer()  # a design the teacher sent to the class, once
state.apply_locks()  # settings the teacher fixed take the teacher's values

limits = state.limits()
try:
    spec = from_dict(state.design())
    problems = limits.problems(spec)  # valid, but maybe too much for a shared server
except SpecError as error:
    spec, problems = None, limits.one_limit(state.design(), error.problems)


def _load_preset() -> None:
    if name := st.session_state.design_preset:
        state.set_design(PRESETS[name])


# Side by side where both fit (a laptop), the summary below where not (a projector's 1024 px with
# the sidebar, a phone): the inputs keep a width that shows every column of the layer table.
top = st.container(horizontal=True, gap="medium", key="design_top")
inputs, summary = top.container(width=520), top.container()
with inputs:
    # The picker shows the preset the design is, and none once it is edited.
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
    st.subheader("Hidden layers")
    design_form.layer_table(problems)
    st.subheader("Training")
    design_form.settings(problems)

with summary:
    st.subheader("Model summary")
    if spec is None:
        st.info("Fix the problems in the design to see the summary.", icon=":material/construction:")
    else:
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
        st.plotly_chart(width_diagram(spec), key="design_widths", config={"displayModeBar": False})
        st.caption(
            "The layers from the 784 pixels to the 10 digits, each as wide as its units. Between two wide "
            "neighbours sit the most weights: that is where the parameters go."
        )

if spec is not None:
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

st.divider()
if spec is not None:
    st.query_params.from_dict(owner_ui.keep_in_link(to_query(spec)))
busy = state.job_active()
blockers = state.start_blockers(spec) if spec is not None and not busy and not problems else []
if state.dataset() is None:
    blockers.append("MNIST is missing on this server, so designs cannot be trained here yet (open Home to see why).")
actions = st.container(horizontal=True, key="design_actions")
if actions.button(
    "Train this design",
    type="primary",
    disabled=spec is None or busy or bool(problems) or bool(blockers),
    key="design_train",
    help="Fix the problems above first" if problems else None,
):
    # A design trained before: the Train page offers the finished run. Refused: the Train page says why.
    if state.finished_twin(spec, state.dataset()) is None:
        state.start_job(spec, state.dataset())
    st.switch_page("app_pages/train.py")
if spec is not None:
    actions.download_button(
        "Download design (JSON)", to_json(spec), file_name="design.json", mime="application/json", key="design_download"
    )
if busy:
    st.caption("A job is already training: see the Train page.")
for reason in blockers:
    st.warning(md(reason), icon=":material/block:")
if spec is not None:
    st.caption("Or share this page's link: it holds the design.")
    with st.expander("This design as Keras code"):
        code = keras_code(spec)
        st.caption("The same model the app trains (layers, names, seed), as a plain script: copy it or download it.")
        st.code(code, language="python")
        st.download_button("Download (.py)", code, file_name=file_name(spec), mime="text/x-python", key="design_code")
uploaded = st.file_uploader("Upload a design (JSON)", type=["json"], key=design_form.widget_key("upload"))
if uploaded is not None:
    try:
        state.set_design(parse_spec_json(uploaded.getvalue(), source=uploaded.name))
        st.rerun()
    except SpecError as error:
        st.error(
            "**This file is not a usable design:**\n" + "\n".join(f"- {md(str(p))}" for p in error.problems),
            icon=":material/description:",
        )

state.warm_up_training()  # a training worker loads Keras in its own process meanwhile
