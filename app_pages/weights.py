"""Weights: every layer's weight distribution, epoch by epoch, labelled by layer."""

import streamlit as st

from mnist_dash.plots_model import weight_violins
from mnist_dash.ui import runs_view
from mnist_dash.weights import STAT_NAMES, stats_rows, violin_series

st.title("Weights")
st.write(
    "Each violin is one layer's weights (a fixed sample of up to 2,000 of them, the same ones every epoch). "
    "Watch them spread from their initial values as the network learns; batch-norm layers show their own "
    "scale (gamma) and shift (beta)."
)
run = runs_view.pick_run(runs_view.stored_runs(), key="weights_run")
history = runs_view.load_or_explain(runs_view.weight_history, run.run_id) if run else None
if history is not None:
    last = history.epochs - 1
    if last > 0:
        epoch = st.slider("Epoch (0 = the initial weights)", 0, last, last, key=f"weights_epoch_{run.run_id}")
    else:  # A run stopped in its first epoch has only the initial weights: nothing to slide through.
        epoch = 0
        st.caption("This run stopped before its first epoch ended: these are its initial weights.")
    frames = [violin_series(history, e) for e in range(history.epochs)]
    figure = weight_violins(frames[epoch], epoch, revision=run.run_id, frames=frames)
    st.plotly_chart(figure, key="weights_violins")
    st.subheader(f"Statistics at epoch {epoch}, over every weight")
    percent = st.column_config.NumberColumn(format="percent")
    columns = {name: st.column_config.NumberColumn(format="%.4f") for name in STAT_NAMES}
    columns |= {"near_zero": percent, "change": percent, "count": st.column_config.NumberColumn(format="localized")}
    st.dataframe(stats_rows(history, epoch), hide_index=True, width="stretch", column_config=columns)
    st.caption(
        "near_zero: share of weights with |w| < 0.01. change: ‖W − W₀‖ / ‖W₀‖, how far the layer moved "
        "from its initial weights (None for biases and beta, which start at zero)."
    )
