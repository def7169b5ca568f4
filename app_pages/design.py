"""Design: pick a preset or build an MLP, see its summary, share it, and send it to training."""

import streamlit as st

from mnist_dash.share import to_query
from mnist_dash.spec import SpecError, from_dict
from mnist_dash.ui import design_form, design_view, resources, state
from mnist_dash.ui import teacher as teacher_ui

st.title("Design a network")
teacher_ui.pushed_offer()  # a design the teacher sent to the class, once
state.apply_locks()  # settings the teacher fixed take the teacher's values

limits = resources.limits()
try:
    spec = from_dict(state.design())
    problems = limits.problems(spec)  # valid, but maybe too much for a shared server
except SpecError as error:
    spec, problems = None, limits.one_limit(state.design(), error.problems)

# Side by side where both fit (a laptop), the summary below where not (a projector's 1024 px with
# the sidebar, a phone): the inputs keep a width that shows every column of the layer table.
top = st.container(horizontal=True, gap="medium", key="design_top")
inputs, summary = top.container(width=520), top.container()
with inputs:
    design_view.preset_picker(spec)
    st.subheader("Hidden layers")
    design_form.layer_table(problems)
    st.subheader("Training")
    design_form.settings(problems)
with summary:
    design_view.summary(spec)
if spec is not None:
    design_view.keras_layers(spec)

st.divider()
if spec is not None:
    st.query_params.from_dict(to_query(spec))  # a shared link never carries its student's name
design_view.actions(spec, problems)
design_view.upload()

resources.warm_up_training()  # a training worker loads Keras in its own process meanwhile
