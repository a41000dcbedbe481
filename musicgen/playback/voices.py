"""Voices: the tone a synthesizer plays for one note, as injectable waveform callables.

A waveform is any callable ``(frequency_hz, n_samples, sample_rate_hz) -> float32 array`` whose
samples lie in [-1, 1]. The synthesizer shapes it with an attack/release envelope; a voice may
also shape itself (the plucked string decays on its own). `Voice` names the built-in choices so a
menu or a command-line flag can pick one without touching functions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = [
    "Waveform",
    "Voice",
    "AdditiveVoice",
    "PluckedString",
    "FIDDLE",
    "FLUTE",
    "SINE",
    "PLUCK",
    "waveform_for",
    "midi_to_hz",
]

Waveform = Callable[[float, int, int], np.ndarray]


def midi_to_hz(pitch: float) -> float:
    """Equal-tempered frequency of a MIDI pitch (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


@dataclass(frozen=True, slots=True)
class AdditiveVoice:
    """A sum of harmonics with optional delayed vibrato (a bowed or blown sustained tone).

    ``harmonics[k]`` is the amplitude of harmonic k+1. Vibrato is sinusoidal frequency modulation
    of ``vibrato_cents`` depth at ``vibrato_hz``, fading in after ``vibrato_delay_s``; its mean
    frequency is the note's, so the pitch a listener (or an FFT) hears is unchanged.
    """

    harmonics: tuple[float, ...]
    vibrato_hz: float = 0.0
    vibrato_cents: float = 0.0
    vibrato_delay_s: float = 0.2
    breath: float = 0.0  # amplitude of a soft noise component (flute air), 0 = none
    seed: int = 0

    def __call__(self, frequency_hz: float, n_samples: int, sample_rate_hz: int) -> np.ndarray:
        t = np.arange(n_samples) / sample_rate_hz
        phase = 2.0 * np.pi * frequency_hz * t
        if self.vibrato_cents and self.vibrato_hz:
            fade = np.clip((t - self.vibrato_delay_s) / 0.15, 0.0, 1.0)
            depth = frequency_hz * (2.0 ** (self.vibrato_cents / 1200.0) - 1.0)
            # Integral of depth*fade*sin(2 pi fv t): phase deviation, mean-zero frequency change.
            phase -= fade * depth / self.vibrato_hz * np.cos(2.0 * np.pi * self.vibrato_hz * t)
        nyquist = sample_rate_hz / 2.0
        tone = np.zeros(n_samples)
        for k, amplitude in enumerate(self.harmonics, start=1):
            if amplitude and frequency_hz * k < nyquist * 0.95:
                tone += amplitude * np.sin(k * phase)
        if self.breath:
            rng = np.random.default_rng(self.seed)
            tone += self.breath * rng.standard_normal(n_samples) * 0.3
        peak = sum(abs(a) for a in self.harmonics) + self.breath
        return (tone / max(peak, 1e-9)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class PluckedString:
    """Karplus-Strong plucked string, tuned with a fractional two-tap loop filter.

    The delay line holds ``floor(sr / f)`` samples; the loop filter ``(1-w) y[n-N] + w y[n-N-1]``
    adds a delay of about w samples, so the loop length is exactly sr / f and the pitch stays in
    tune at any frequency (the integer-only classic version is 17 cents out at 440 Hz).
    """

    decay: float = 0.996  # loop gain per period: lower is a shorter, duller note
    pluck_position: float = 0.2  # where along the string it is plucked, 0..1 (exclusive)
    noise: float = 0.15  # share of random noise in the excitation
    seed: int = 0

    def __call__(self, frequency_hz: float, n_samples: int, sample_rate_hz: int) -> np.ndarray:
        period = sample_rate_hz / frequency_hz
        n = int(period)
        w = period - n
        if n < 2:
            return np.zeros(n_samples, dtype=np.float32)
        rng = np.random.default_rng(self.seed)
        out = np.zeros(n_samples + n + 1)
        # Excitation: the string's shape when plucked at a fifth of its length (harmonics fall as
        # 1/k^2, a warm tone with a strong fundamental) plus a little noise for the attack.
        x = np.linspace(0.0, 1.0, n + 1)
        shape = np.where(x < self.pluck_position, x / self.pluck_position,
                         (1.0 - x) / (1.0 - self.pluck_position))
        burst = shape + self.noise * rng.uniform(-1.0, 1.0, n + 1)
        out[: n + 1] = burst - burst.mean()
        # Each block of n samples depends only on the previous block: vectorised per period.
        start = n + 1
        while start < out.size:
            stop = min(start + n, out.size)
            span = np.arange(start, stop)
            out[start:stop] = self.decay * ((1.0 - w) * out[span - n] + w * out[span - n - 1])
            start = stop
        tone = out[n + 1 : n + 1 + n_samples]
        peak = float(np.max(np.abs(tone))) if tone.size else 0.0
        return (tone / peak if peak > 0 else tone).astype(np.float32)


FIDDLE = AdditiveVoice(
    harmonics=(1.0, 0.55, 0.42, 0.3, 0.22, 0.16, 0.12, 0.08, 0.06, 0.04),
    vibrato_hz=5.5,
    vibrato_cents=6.0,
)
FLUTE = AdditiveVoice(harmonics=(1.0, 0.25, 0.08, 0.03), breath=0.04)
SINE = AdditiveVoice(harmonics=(1.0,))
PLUCK = PluckedString()


class Voice(str, enum.Enum):
    """The named voices a user can choose. SOUNDFONT uses fluidsynth when installed, else FIDDLE."""

    FIDDLE = "fiddle"
    FLUTE = "flute"
    SINE = "sine"
    PLUCK = "pluck"
    SOUNDFONT = "soundfont"


_BUILTIN: dict[Voice, Waveform] = {
    Voice.FIDDLE: FIDDLE,
    Voice.FLUTE: FLUTE,
    Voice.SINE: SINE,
    Voice.PLUCK: PLUCK,
}


def waveform_for(voice: Voice | str) -> Waveform:
    """The built-in waveform for a voice name (SOUNDFONT maps to its fallback, FIDDLE)."""
    choice = Voice(voice)
    return _BUILTIN.get(choice, FIDDLE)
