"""The loss curve as sound: known frequencies for a known curve, read back from the WAV itself."""

import io
import math
import wave

import numpy as np
import pytest

from mnist_dash import sound


def history(train, validation):
    return [{"epoch": i + 1, "loss": t, "val_loss": v} for i, (t, v) in enumerate(zip(train, validation, strict=True))]


def read(wav: bytes) -> tuple[int, np.ndarray]:
    with wave.open(io.BytesIO(wav)) as source:
        assert (source.getnchannels(), source.getsampwidth()) == (2, 2)
        frames = np.frombuffer(source.readframes(source.getnframes()), "<i2").reshape(-1, 2)
        return source.getframerate(), frames.astype(float)


def loudest(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency of `samples`, in Hz (to within a hertz: zero-padded to a second)."""
    spectrum = np.abs(np.fft.rfft(samples, n=max(rate, len(samples))))
    return float(np.fft.rfftfreq(max(rate, len(samples)), 1 / rate)[np.argmax(spectrum)])


def test_a_loss_ten_times_lower_is_one_octave_down_on_a_scale_both_voices_share():
    train, validation = sound.pitches([1.0, 0.1], [1.0, 0.01])
    assert train == pytest.approx([880.0, 440.0])  # the highest loss is A5; a tenth of it, halfway in log: A4
    assert validation == pytest.approx([880.0, 220.0])  # the lowest loss of both voices is A3


def test_a_flat_curve_sits_in_the_middle_and_a_diverged_epoch_is_silent():
    assert sound.pitches([0.5, 0.5], [0.5, 0.5]) == (pytest.approx([440.0] * 2), pytest.approx([440.0] * 2))
    assert sound.pitches([0.5, math.nan], [0.2, 0.0])[1][1] is None
    assert sound.pitches([math.nan], [math.inf]) == ([None], [None])


def test_the_wav_plays_one_training_note_left_then_one_validation_note_right_for_each_epoch():
    rate, frames = read(sound.curve_wav(history([1.0, 0.1, 0.1], [1.0, 0.01, 0.1])))
    epoch = int(rate * sound.EPOCH)
    assert rate == sound.RATE and len(frames) == 3 * epoch
    first, second = int(epoch * sound.TRAIN_SHARE), int(epoch * sound.VALIDATION_SHARE)
    expected_train, expected_validation = [880, 440, 440], [880, 220, 440]
    for number in range(3):
        start = number * epoch
        left, right = frames[start : start + epoch, 0], frames[start : start + epoch, 1]
        assert loudest(left[:first], rate) == pytest.approx(expected_train[number], abs=1.5)
        assert loudest(right[first : first + second], rate) == pytest.approx(expected_validation[number], abs=1.5)
        assert not right[:first].any() and not left[first:].any()  # one voice at a time: heard apart on one speaker


def test_a_long_run_is_shortened_to_the_longest_a_listener_waits_and_never_clips():
    rate, frames = read(sound.curve_wav(history([1 / (i + 1) for i in range(200)], [2 / (i + 1) for i in range(200)])))
    assert len(frames) / rate == pytest.approx(sound.LONGEST, abs=0.05)
    assert np.abs(frames).max() <= 32767 * sound.VOLUME + 1


def test_no_epochs_is_an_empty_but_valid_wav():
    rate, frames = read(sound.curve_wav([]))
    assert rate == sound.RATE and len(frames) == 0
