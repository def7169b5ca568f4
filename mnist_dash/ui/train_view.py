"""What the Train page draws for a job's snapshot: progress, live curves, the epoch log, results."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from mnist_dash import descriptions
from mnist_dash.jobs import JobSnapshot, JobStatus, replay
from mnist_dash.keras_export import keras_file_in_child
from mnist_dash.plots.training import training_curves
from mnist_dash.runs import DamagedRunError, RunNotFound, history_csv
from mnist_dash.runs.spool import spooled
from mnist_dash.share import to_json
from mnist_dash.text import count, duration, md
from mnist_dash.ui import charts, resources, runs_view, state, tables
from mnist_dash.ui import teacher as teacher_ui


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."


def progress(snap: JobSnapshot) -> None:
    if snap.replay:
        st.info(
            f"**Replay**: {md(snap.replay)}. Nothing is training: these curves were recorded when the run trained, "
            "and they stream as they did then.",
            icon=":material/replay:",
        )
    wait = f", about {duration(snap.wait)}" if snap.wait is not None else ""
    if snap.status == JobStatus.QUEUED:
        st.info(
            f"Queued: **#{snap.queue_position}** in line{wait} to wait. The class's jobs take turns an epoch at a "
            "time, and a first epoch goes before anyone's next one; press Stop to leave the line.",
            icon=":material/hourglass_top:",
        )
        return
    if snap.status == JobStatus.WAITING:
        st.info(
            f"**Waiting for its next turn**{wait}. The class's jobs take turns an epoch at a time; yours keeps "
            f"everything it learned, and Draw and Weights already have its model after epoch {snap.epoch}.",
            icon=":material/hourglass_top:",
        )
    text = f"Epoch {min(snap.epoch + 1, snap.spec.epochs)} of {snap.spec.epochs}"
    if snap.replay and not snap.done:
        text = f"Replaying epoch {min(snap.epoch + 1, snap.spec.epochs)} of {snap.spec.epochs}"
    if snap.status == JobStatus.RUNNING and snap.phase and snap.phase != "training":  # set-up, testing, saving
        text += f" · {snap.phase}…"
    elif snap.status == JobStatus.RUNNING and snap.batches_per_epoch:
        text += f" · batch {snap.batch} of {snap.batches_per_epoch}"
    text += f" · {duration(snap.elapsed)} elapsed"
    if snap.eta is not None:
        text += f" · about {duration(snap.eta)} left"
    if snap.done:
        done = f"{snap.epoch} of {count(snap.spec.epochs, 'epoch')}"
        text = f"{str(snap.status).capitalize()} after {done} in {duration(snap.elapsed)}"
    st.progress(snap.progress, text=text)
    if snap.reason:
        st.info(md(_sentence(snap.reason)), icon=":material/info:")


def curves(snap: JobSnapshot) -> None:
    loss, accuracy = st.columns(2)
    for column, metric in ((loss, "loss"), (accuracy, "accuracy")):
        figure = training_curves(
            snap.history, snap.batch_history, metric, epochs=snap.spec.epochs, revision=snap.job_id
        )
        stopped = snap.status == JobStatus.STOPPED
        words = descriptions.curves(list(snap.history), metric, snap.spec.epochs, stopped)
        rows = [
            {"epoch": h["epoch"], f"train {metric}": h[metric], f"validation {metric}": h[f"val_{metric}"]}
            for h in snap.history
        ]
        charts.chart(figure, key=f"train_{metric}_chart", alt=words, table=rows, where=column)
    st.caption(
        "Dashed: training, solid: validation, thin: the running value within the epoch in progress. Validation "
        "loss turning up while training loss keeps falling is the network memorising instead of learning."
    )


def epoch_log(snap: JobSnapshot) -> None:
    if not snap.history:
        return
    frame = pd.DataFrame(snap.history).set_index("epoch")
    with tables.table_area("train_epochs", snap.history):
        st.dataframe(
            frame.style.format({"seconds": "{:.1f}"} | {c: "{:.4f}" for c in frame.columns if c != "seconds"}),
            width="stretch",
            height=min(400, 38 + 35 * len(frame)),
        )


def results(snap: JobSnapshot) -> None:
    if snap.status == JobStatus.FAILED:
        st.error(
            f"Training failed: {md(snap.error.rstrip('.'))}. The app is still usable: change the design and try again.",
            icon=":material/error:",
        )
        return
    if snap.status == JobStatus.DIVERGED:
        st.warning(f"Training diverged: {md(snap.error)} The run was not saved.", icon=":material/trending_up:")
        return
    if snap.test_accuracy is not None:
        st.subheader("On the test set")
        with st.container(horizontal=True, gap="large"):
            st.metric(
                "Test accuracy",
                f"{snap.test_accuracy:.2%}",
                help="share of the test digits it got right",
                width="content",
            )
            st.metric(
                "Test loss",
                f"{snap.test_loss:.4f}",
                help="cross-entropy on the test set: lower is better",
                width="content",
            )
        # Under the metrics, not beside them: a third of the page cut the notebook's long numbers off.
        st.code(f"Test score: {snap.test_loss}\nTest accuracy: {snap.test_accuracy}", language=None)
        st.caption("As the notebook prints them.")
    if snap.run_id is None:
        return
    if snap.replay:  # somebody's stored run, played back: not this student's to enter or to call saved
        st.caption(f"That was {md(snap.replay)}: run `{snap.run_id}`, on Compare, Weights and Draw too.")
        return
    try:
        resources.store().get(snap.run_id)
    except (RunNotFound, DamagedRunError, SQLAlchemyError) as error:  # SQLAlchemyError: the database is away
        if snap.spooled and snap.run_id in spooled(resources.store()):
            st.info(
                f"Your run `{snap.run_id}` is saved on the server: the run store's database did not answer when "
                "it ended. It goes into the database when the database answers again (the server tries every few "
                "seconds); then its downloads appear here and it shows on every page.",
                icon=":material/cloud_off:",
            )
        elif isinstance(error, SQLAlchemyError):
            st.caption(f"Saved as run `{snap.run_id}`; its downloads come back when the database answers again.")
        else:
            st.caption("This run has since been deleted from the store.")
        return
    teacher_ui.challenge_entry(snap.run_id)
    downloads = st.container(horizontal=True)
    run_id = snap.run_id
    downloads.download_button(  # built when pressed, by Keras in a child process: the server never loads Keras
        "Model (.keras)",
        lambda: keras_file_in_child(run_id),
        file_name=f"{run_id}.keras",
        key="train_download_model",
    )
    downloads.download_button(
        "History (CSV)",
        history_csv(list(snap.history)),
        file_name=f"{snap.run_id}.csv",
        mime="text/csv",
        key="train_download_history",
    )
    downloads.download_button(
        "Design (JSON)",
        to_json(snap.spec),
        file_name=f"{snap.run_id}.json",
        mime="application/json",
        key="train_download_design",
    )
    st.caption(f"Saved as run `{snap.run_id}`.")


def left_the_queue(snap: JobSnapshot) -> bool:
    """A job that ended before it began training: say so, instead of empty charts."""
    if snap.status != JobStatus.STOPPED or snap.epoch or snap.batch_history or snap.elapsed:
        return False
    if snap.reason:
        st.info(f"**Your job left the queue.** {md(_sentence(snap.reason))}", icon=":material/logout:")
    else:
        st.info("**You left the queue** before your job began. Press Start to queue again.", icon=":material/logout:")
    return True


def render(snap: JobSnapshot) -> None:
    if left_the_queue(snap):
        return
    progress(snap)
    if snap.status == JobStatus.QUEUED:
        return  # nothing to draw yet, and a class's worth of empty charts each second would cost the server
    curves(snap)
    epoch_log(snap)
    if snap.done:
        listen(snap)
        results(snap)


def listen(snap: JobSnapshot) -> None:
    """The loss curve as sound, once there is a curve and it is not moving (finished, or waiting for a turn)."""
    if len(snap.history) > 1:
        charts.listen(list(snap.history), snap.spec.name or "your design")


def replay_offer(spec, blockers: list) -> None:
    """When the server will not train (replay mode, a full queue): replay a stored run of this design instead."""
    if spec is None or not replay.offers_replay(blockers):
        return
    runs = replay.same_design(resources.store().list().runs, spec)
    if not runs:
        st.info(
            "No finished run of this design is stored to replay. The notebook's presets (on Design) have runs "
            "shipped with the app.",
            icon=":material/replay:",
        )
        return
    with st.container(border=True, key="train_replay"):
        st.markdown("**Replay a stored run of this design** while the server cannot train it")
        chosen = st.selectbox(
            "Run to replay",
            runs,
            format_func=lambda run: f"{run.owner_name or 'nobody'}: {runs_view.label(run)}",
            key="train_replay_run",
        )
        speed = st.segmented_control(
            "Speed",
            replay.SPEEDS,
            default=replay.SPEEDS[0],
            format_func=lambda n: "as recorded" if n == 1 else f"{n}× faster",
            key="train_replay_speed",
        )
        st.button("Replay", type="primary", key="train_replay_start", on_click=state.start_replay, args=(chosen, speed))
