"""Draw's answer and "why this answer": the probability bars (a click picks a digit), its saliency
map over what the model sees, the most active first-layer units, and each hidden layer's activity.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

from mnist_dash import descriptions
from mnist_dash.evaluation import clicked_digit
from mnist_dash.plots.explain import layer_activity, saliency_overlay, unit_tiles
from mnist_dash.plots.model import probability_bars
from mnist_dash.predict import Explanation, Network
from mnist_dash.ui import charts
from mnist_dash.units import unit_images


@dataclass(frozen=True)
class TrainingModel:
    """This session's job's model after its newest epoch: Draw offers it before the job has a stored run."""

    job_id: str
    epoch: int
    network: Network
    label: str


def training_model(job) -> TrainingModel | None:
    """The model of `job` (a job in training, after an epoch) as Draw's first choice; None before its first epoch."""
    latest = job.latest_weights() if job is not None and not job.done else None
    if latest is None:
        return None
    key = f"draw_training_{job.job_id}"
    kept = st.session_state.get(key)
    if kept is None or kept.epoch != latest[0]:  # one network per epoch, not one per stroke
        label = f"{job.spec.name or 'your design'} · your job in training, after epoch {latest[0]}"
        kept = st.session_state[key] = TrainingModel(job.job_id, latest[0], Network(job.spec, latest[1]), label)
    return kept


CLICKS = "draw_bar_clicks"  # a new chart key per click: clicking the same bar again picks it again
CHOSEN = "draw_saliency_for"  # (the drawing's bytes, the digit whose saliency is shown)
UNITS = 8


def _pick_clicked_bar(chart_key: str, image_key: bytes) -> None:
    digit = clicked_digit(st.session_state[chart_key].selection.points)
    if digit is not None:
        st.session_state[CHOSEN] = (image_key, digit)
        st.session_state[CLICKS] = st.session_state.get(CLICKS, 0) + 1


def chosen_digit(image: np.ndarray, answer: int) -> int:
    """The digit whose saliency shows: the one last clicked for this drawing, else the answer."""
    key, digit = st.session_state.get(CHOSEN, (None, None))
    return digit if key == image.tobytes() else answer


def answer(explanation: Explanation, image: np.ndarray) -> int:
    """The answer, its certainty and the clickable bars; the digit whose saliency to show."""
    probabilities = explanation.probabilities
    chosen = chosen_digit(image, explanation.answer)
    st.markdown(  # compact: on a phone it stays on the screen, under the canvas
        f"<div style='font-size:4.5rem;line-height:1;font-weight:700'>{explanation.answer}</div>",
        unsafe_allow_html=True,
    )
    st.caption(f"{probabilities.max():.1%} sure")
    chart_key = f"draw_probabilities_{st.session_state.get(CLICKS, 0)}"
    charts.chart(
        probability_bars(probabilities, outlined=chosen),
        key=chart_key,
        alt=descriptions.probabilities(probabilities),
        table=[{"digit": digit, "probability": float(p)} for digit, p in enumerate(probabilities)],
        where=st.container(key="draw_bars"),  # one name for the chart, whatever its key
        on_select=partial(_pick_clicked_bar, chart_key, image.tobytes()),
        selection_mode="points",
        config=charts.NO_BAR,
    )
    st.caption(
        "Its probability for each digit: one tall bar, a confident answer; two close bars, a doubt. "
        "Click a bar to see what would make it that digit."
    )
    return chosen


def saliency(explanation: Explanation, image: np.ndarray, digit: int) -> None:
    """The saliency map for `digit` over what the model sees."""
    with st.container(key="draw_saliency"):
        which = "its answer" if digit == explanation.answer else "the bar you clicked"
        st.markdown(f"**What makes it a {digit}** ({which})")
        words = descriptions.saliency(explanation.saliency[digit], digit)
        charts.chart(
            saliency_overlay(image, explanation.saliency[digit], digit),
            key="draw_saliency_chart",
            alt=words,
            table=descriptions.saliency_rows(explanation.saliency[digit]),
            config=charts.NO_BAR,
        )
        st.caption(
            f"The pixels the probability of {digit} depends on most: red where more ink would raise it, "
            "blue where more ink would lower it."
        )


def inside(explanation: Explanation) -> None:
    """Inside the network for this drawing: the most active first-layer units, each hidden layer's activity."""
    st.subheader("Inside the network, for this drawing")
    active = explanation.most_active(UNITS)
    if active:
        with st.container(key="draw_units", width=520):  # 4 across: readable on a phone too
            st.markdown(f"**The most active units of {explanation.first_layer}**")
            images = unit_images(explanation.first_kernel, [unit for unit, _ in active])
            labels = [f"unit {unit}: {value:.2f}" for unit, value in active]
            words, table = descriptions.units(images, labels), descriptions.unit_rows(images, labels)
            charts.chart(
                unit_tiles(images, labels), key="draw_units_chart", alt=words, table=table, config=charts.NO_BAR
            )
            st.caption(
                "Each unit's 784 incoming weights as a 28 × 28 image, with its output for your drawing: "
                "red pixels excite it, blue inhibit it. A unit fires when your ink falls on its red."
            )
    if explanation.layers:
        layers = st.container(key="draw_layers")
        layers.markdown("**Each hidden layer**")
        figure = layer_activity(explanation.layers)
        table = [
            {"layer": layer.name, "unit": unit, "output": float(value)}
            for layer in explanation.layers
            for unit, value in enumerate(layer.values)
        ]
        words = descriptions.activity(explanation.layers)
        charts.chart(figure, key="draw_layers_chart", alt=words, table=table, where=layers, config=charts.NO_BAR)
        layers.caption(
            "One bar per unit: what it passes to the next layer for your drawing (dropout is off, as in prediction). "
            "Tall bars are the units that fire; draw another digit and see a different set light up."
        )
