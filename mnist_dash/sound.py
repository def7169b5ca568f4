"""A loss curve you can hear: one tone per epoch, pitch following the loss, as a WAV file. NumPy only.

For a student who cannot see the chart, and for anyone whose eyes are elsewhere. Each epoch
is two notes, the two voices: a short soft one for training loss (a pure tone, on the left)
then a longer bright one for validation loss (with overtones, on the right). A higher loss
is a higher note, on a log scale shared by both voices (a loss halving is the same step down
wherever it happens), so a curve that learns falls in pitch, and overfitting is heard as the
bright notes climbing while the soft ones keep falling.
"""

from __future__ import annotations

import io
import math
import wave

import numpy as np

RATE = 22_050  # samples a second: plenty for tones under 1 kHz, and half the bytes of CD rate
LOW, HIGH = 220.0, 880.0  # Hz: the lowest loss is A3, the highest two octaves up (A5)
LONGEST = 20.0  # seconds: past this, each epoch's notes get shorter, so a 100-epoch run is still short
EPOCH = 0.6  # seconds an epoch takes at most: training note, validation note, and a breath
TRAIN_SHARE, VALIDATION_SHARE = 0.3, 0.5  # of an epoch's time; the rest is silence between epochs
VOLUME = 0.3  # of full scale: two voices never clip


def pitches(train: list[float], validation: list[float]) -> tuple[list[float | None], list[float | None]]:
    """Each loss as a frequency in Hz, on one log scale for both voices (LOW the lowest, HIGH the highest loss).

    A loss that is not a positive finite number (NaN, a diverged epoch) has no pitch: None, a silence.
    """
    usable = [v for v in (*train, *validation) if math.isfinite(v) and v > 0]
    if not usable:
        return [None] * len(train), [None] * len(validation)
    low, high = math.log(min(usable)), math.log(max(usable))

    def pitch(value: float) -> float | None:
        if not (math.isfinite(value) and value > 0):
            return None
        share = 0.5 if high == low else (math.log(value) - low) / (high - low)
        return LOW * (HIGH / LOW) ** share

    return [pitch(v) for v in train], [pitch(v) for v in validation]


def _tone(frequency: float | None, seconds: float, bright: bool) -> np.ndarray:
    """A note with a soft start and end (no clicks); `bright` adds two overtones. Silence for None."""
    t = np.arange(int(RATE * seconds)) / RATE
    if frequency is None:
        return np.zeros_like(t)
    wave_ = np.sin(2 * np.pi * frequency * t)
    if bright:
        wave_ = (wave_ + 0.5 * np.sin(4 * np.pi * frequency * t) + 0.25 * np.sin(6 * np.pi * frequency * t)) / 1.75
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)  # 20 ms in and out
    return wave_ * fade


def curve_wav(history: list[dict], metric: str = "loss") -> bytes:
    """The per-epoch `metric` of training and validation as a stereo 16-bit WAV (train left, validation right)."""
    train, validation = pitches([h[metric] for h in history], [h[f"val_{metric}"] for h in history])
    epoch = min(EPOCH, LONGEST / max(1, len(history)))
    left, right = [], []
    for low_voice, high_voice in zip(train, validation, strict=True):
        first, second = int(RATE * epoch * TRAIN_SHARE), int(RATE * epoch * VALIDATION_SHARE)
        rest = int(RATE * epoch) - first - second
        note = _tone(low_voice, first / RATE, bright=False)
        left.append(np.concatenate([note, np.zeros(second + rest)]))
        right.append(np.concatenate([np.zeros(first), _tone(high_voice, second / RATE, bright=True), np.zeros(rest)]))
    samples = np.stack([np.concatenate(left or [np.zeros(0)]), np.concatenate(right or [np.zeros(0)])], axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((samples * VOLUME * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


HOW_TO_LISTEN = (
    "Each epoch plays two notes: a short soft one for training loss (left), then a longer bright one for "
    "validation loss (right). Higher notes mean higher loss, so learning sounds like notes falling. When the "
    "bright notes climb while the soft ones keep falling, the network has started to memorise its training digits."
)
