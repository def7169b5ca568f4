"""Draw: a digit on a canvas (or an uploaded image), what the model sees, and what it says."""

import streamlit as st

from mnist_dash import descriptions
from mnist_dash.canvas import BadUpload, EmptyDrawing, to_mnist
from mnist_dash.data import enlarge
from mnist_dash.plots.model import probability_history
from mnist_dash.presets import PRESETS
from mnist_dash.text import md
from mnist_dash.ui import charts, class_set, draw_canvas, draw_explain, draw_keys, resources, runs_view, state

st.title("Draw a digit")
job = state.current_job()
training = draw_explain.training_model(job)  # after its first epoch, a job's model is there to draw for
runs = ([training] if training else []) + [run for run in runs_view.stored_runs() if run.has_model]
if not runs:
    busy = state.job_active()
    st.info(
        "Your job's model appears here once its first epoch ends."
        if busy
        else "There is no trained model yet. Train a quick one (notebook-2-hidden, 2 epochs, about a minute)."
    )
    quick = PRESETS["notebook-2-hidden"].replace(epochs=2, name="quick-model")
    blockers = [] if busy else state.start_blockers(quick)
    pressed = st.button("Train a quick model", type="primary", disabled=busy or bool(blockers), key="draw_quick")
    if pressed and state.start_job(quick, resources.dataset()) is not None:
        st.rerun()
    state.show_refusal()
    state.show_refusals(blockers)
    if busy:

        @st.fragment(run_every=2.0)
        def until_its_first_epoch() -> None:
            if job.done or job.latest_weights() is not None:
                st.rerun()  # its model (or its stored run) is there: the canvas now
            st.caption(md(f"Training: {job.snapshot().status_line}"))

        until_its_first_epoch()
    st.stop()


@st.fragment(run_every=2.0)
def while_training(job, image) -> None:
    """Under the answer, while the student's job trains: its answer to this digit after each epoch."""
    from mnist_dash.predict import EpochPredictions

    if job.done:
        st.rerun()  # the page again, without this chart: the job is a stored run now
    latest = job.latest_weights()
    if latest is None:
        st.caption(f"{md(job.spec.name or 'Your design')} is training: its answer appears here after each epoch.")
        return
    tracker = st.session_state.setdefault(f"draw_live_{job.job_id}", EpochPredictions(job.spec))
    tracker.update(image, latest)
    st.markdown(f"**{md(job.spec.name or 'Your design')}, {job.snapshot().status_line}: its answer after each epoch**")
    charts.chart(
        probability_history(tracker.epochs, tracker.probabilities),
        key="draw_live_chart",
        alt=descriptions.probability_history(tracker.epochs, tracker.probabilities),
        where=st.container(key="draw_live"),
        config=charts.NO_BAR,
    )
    st.caption("One line per digit: its probability after each epoch. Watch the answer settle as it learns.")


# A short label: the picker is on every phone that draws, and a run's whole label was cut off there.
run = st.selectbox(
    "Model",
    runs,
    index=0 if training else runs_view.default_index(runs),
    key="draw_run",
    format_func=lambda choice: choice.label if choice is training else runs_view.short_label(choice, accuracy=True),
)

# Canvas, answer, then what the model sees, in a row that wraps (columns squeezed the canvas on a
# projector); the upload last. On a phone each gets a row (240 px leave the answer too little room
# beside the image), and the answer comes right under the canvas, on the screen.
row = st.container(horizontal=True, key="draw_row")
canvas_col, answer_col, seen_col = (
    row.container(width=draw_canvas.SIZE, gap=None),  # no gaps: the canvas keeps room for its toolbar
    row.container(key="draw_answer"),
    row.container(width=240),
)
with canvas_col:
    drawing = draw_keys.canvas_or_grid()
uploaded = st.file_uploader("…or upload a photo of a digit", type=["png", "jpg", "jpeg"], key="draw_upload")
image = None
try:
    kind = draw_canvas.newest_input(drawing, uploaded)  # the drawing or the upload, whichever came last
    if kind == "upload":
        image = to_mnist(draw_canvas.uploaded_image(uploaded.getvalue(), uploaded.name))
    elif kind == "drawing":
        image = to_mnist(drawing)
except (BadUpload, EmptyDrawing) as problem:
    answer_col.info(md(str(problem)), icon=":material/draw:")
if image is None:
    answer_col.markdown("Draw a digit and the model's answer appears here.")
else:
    with seen_col:
        st.markdown("**What the model sees** (28 × 28)")
        st.image(enlarge(image, 6), width=168, alt="your drawing as the model sees it: 28 by 28 grey pixels")
    explained = training.network if run is training else runs_view.load_or_explain(runs_view.network, run.run_id)
    if explained is not None:
        explanation = explained.explain(image)
        with answer_col:
            digit = draw_explain.answer(explanation, image)
            if job is not None and not job.done:  # its answer after each epoch, right under the answer
                while_training(job, image)
        with seen_col:  # beside the answer: which pixels it rests on
            draw_explain.saliency(explanation, image, digit)
    class_set.offer_add(image)
    if explained is not None:
        draw_explain.inside(explanation)
