"""Weights: every layer's weight distribution, epoch by epoch, labelled by layer; what each hidden unit looks for."""

import streamlit as st

from mnist_dash.jobs import TrainingJob
from mnist_dash.ui import runs_view, state
from mnist_dash.ui.weights_view import TICK_SECONDS, epoch_view, live_view, play_button, until_it_trains

st.title("Weights")
st.write(
    "How the network's weights change as it learns, epoch by epoch. **Distributions**: each violin is one "
    "layer's weights (a fixed sample of up to 2,000 of them, the same ones every epoch); watch them spread "
    "from their initial values. Batch-norm layers have their own scale (gamma) and shift (beta), and each kind "
    "of weight gets its own chart: their scales differ. **What each unit looks for**: the first hidden layer's "
    "units drawn as images of their weights, and which of them the deeper layers listen to."
)


job = state.current_job()
if isinstance(job, TrainingJob) and not job.done and job.weight_history() is None:
    st.info("Your job has not begun training yet: its weights appear here when it does.", icon=":material/schedule:")
    st.fragment(until_it_trains, run_every=2.0)(job)
elif isinstance(job, TrainingJob) and not job.done:
    st.info("Your job is training: its weights appear here as each epoch ends.", icon=":material/monitoring:")
    history = job.weight_history()
    playing = play_button(job.job_id, history.epochs)
    st.fragment(live_view, run_every=TICK_SECONDS if playing else 2.0)(job)
    st.stop()
run = runs_view.pick_run(runs_view.stored_runs(), key="weights_run")
history = runs_view.load_or_explain(runs_view.weight_history, run.run_id) if run else None
if history is not None:
    playing = play_button(run.run_id, history.epochs)
    st.fragment(epoch_view, run_every=TICK_SECONDS if playing else None)(run, history)
