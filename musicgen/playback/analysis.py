"""Measuring audio: the pitch and loudness of a stretch of samples (used to check renderings).

`estimate_frequency_hz` finds the fundamental from a Hann-windowed, zero-padded FFT (the
strongest peak, or a strong peak at a whole fraction of it), refined by parabolic interpolation
of the log magnitude. It is accurate to
well under a cent on steady tones of a tenth of a second or more.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["estimate_frequency_hz", "hz_to_midi", "cents_between", "rms", "first_sound_index"]


def hz_to_midi(frequency_hz: float) -> float:
    """Fractional MIDI pitch of a frequency (440 Hz = 69.0)."""
    return 69.0 + 12.0 * math.log2(frequency_hz / 440.0)


def cents_between(frequency_hz: float, reference_hz: float) -> float:
    """Signed distance in cents from `reference_hz` to `frequency_hz`."""
    return 1200.0 * math.log2(frequency_hz / reference_hz)


def rms(samples: np.ndarray) -> float:
    """Root mean square of float samples (int16 is scaled to [-1, 1] first); 0.0 for none."""
    data = np.asarray(samples, dtype=np.float64)
    if np.asarray(samples).dtype == np.int16:
        data = data / 32768.0
    return float(np.sqrt(np.mean(data**2))) if data.size else 0.0


def first_sound_index(samples: np.ndarray, threshold: float = 0.02) -> int | None:
    """Index of the first sample whose magnitude passes `threshold`, or None if all is quiet."""
    data = np.abs(np.asarray(samples, dtype=np.float64))
    if np.asarray(samples).dtype == np.int16:
        data = data / 32768.0
    hits = np.flatnonzero(data > threshold)
    return int(hits[0]) if hits.size else None


def estimate_frequency_hz(
    samples: np.ndarray,
    sample_rate_hz: int,
    *,
    min_hz: float = 50.0,
    max_hz: float = 4000.0,
    relative_threshold: float = 0.25,
) -> float | None:
    """Fundamental frequency of a steady tone, or None when there is no clear peak.

    The strongest spectral peak in [min_hz, max_hz] is found first; if a peak of at least
    `relative_threshold` of its magnitude lies near a whole fraction of it (1/2 .. 1/8), the lowest
    such fraction is the fundamental. So a bright tone whose second harmonic is louder than its
    first still reads at its true pitch, and vibrato sidebands are never mistaken for it.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.size < 64:
        return None
    data = data - data.mean()
    size = 1 << max(16, int(math.ceil(math.log2(data.size))) + 2)
    spectrum = np.abs(np.fft.rfft(data * np.hanning(data.size), n=size))
    lo = max(1, int(min_hz * size / sample_rate_hz))
    hi = min(spectrum.size - 2, int(max_hz * size / sample_rate_hz))
    if hi - lo < 3 or spectrum[lo : hi + 1].max() <= 1e-9:
        return None
    peak = lo + int(np.argmax(spectrum[lo : hi + 1]))
    for divisor in range(8, 1, -1):
        centre = peak / divisor
        left, right = max(lo, int(centre * 0.97)), min(hi, int(math.ceil(centre * 1.03)))
        if right - left < 2:
            continue
        k = left + int(np.argmax(spectrum[left : right + 1]))
        is_local_max = left < k < right
        if is_local_max and spectrum[k] >= relative_threshold * spectrum[peak]:
            return _interpolated_bin(spectrum, k) * sample_rate_hz / size
    return _interpolated_bin(spectrum, peak) * sample_rate_hz / size


def _interpolated_bin(spectrum: np.ndarray, k: int) -> float:
    """Peak position between bins from a parabola through the log magnitudes around bin k."""
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    denominator = a - 2.0 * b + c
    return k + (0.5 * (a - c) / denominator if denominator else 0.0)
