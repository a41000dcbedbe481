"""The pitch detector the audio tests rely on, checked against tones of known frequency."""

from __future__ import annotations

import numpy as np
import pytest

from musicgen.playback.analysis import (
    cents_between,
    estimate_frequency_hz,
    first_sound_index,
    hz_to_midi,
    rms,
)

SR = 44100


@pytest.mark.parametrize("frequency", [82.4, 196.0, 440.0, 523.25, 1318.5, 2093.0])
def test_pure_tone_within_a_cent(frequency: float) -> None:
    t = np.arange(int(0.2 * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * frequency * t + 0.7)
    measured = estimate_frequency_hz(tone, SR)
    assert measured is not None and abs(cents_between(measured, frequency)) < 1.0


def test_weak_fundamental_is_still_the_pitch() -> None:
    t = np.arange(int(0.3 * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) + 1.0 * np.sin(2 * np.pi * 440 * t)
    tone += 0.5 * np.sin(2 * np.pi * 660 * t)
    assert estimate_frequency_hz(tone, SR) == pytest.approx(220.0, rel=0.001)


def test_noise_and_helpers() -> None:
    assert estimate_frequency_hz(np.zeros(4096), SR) is None
    assert estimate_frequency_hz(np.ones(10), SR) is None
    assert hz_to_midi(440.0) == 69.0
    assert cents_between(880.0, 440.0) == pytest.approx(1200.0)
    assert rms(np.full(100, -0.5)) == pytest.approx(0.5)
    assert rms(np.full(10, 16384, dtype=np.int16)) == pytest.approx(0.5)
    assert first_sound_index(np.array([0.0, 0.001, 0.5, 0.0])) == 2
    assert first_sound_index(np.zeros(5)) is None
