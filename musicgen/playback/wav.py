"""WAV files: 16-bit mono PCM written atomically with the standard library's `wave` module."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import numpy as np

from musicgen.errors import WriteError
from musicgen.io.atomic import atomic_write_bytes
from musicgen.melody import Melody
from musicgen.playback.synth import DEFAULT_SAMPLE_RATE_HZ, float_to_int16, render

__all__ = ["wav_bytes", "write_wav", "melody_to_wav_bytes"]


def wav_bytes(samples: np.ndarray, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ) -> bytes:
    """A complete 16-bit mono WAV file in memory (float input in [-1, 1] or int16)."""
    pcm = np.asarray(samples)
    if pcm.ndim != 1:
        raise WriteError(f"Cannot write WAV audio of shape {pcm.shape}: only mono is supported.")
    if pcm.dtype != np.int16 and not np.issubdtype(pcm.dtype, np.floating):
        raise WriteError(f"Cannot write WAV audio of type {pcm.dtype}: use float or int16 samples.")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate_hz))
        wav.writeframes(float_to_int16(pcm).astype("<i2").tobytes())
    return buffer.getvalue()


def write_wav(
    path: str | os.PathLike[str],
    samples: np.ndarray,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
) -> Path:
    """Write mono PCM to `path` atomically: the old file survives any failure. Returns the path."""
    return atomic_write_bytes(path, wav_bytes(samples, sample_rate_hz))


def melody_to_wav_bytes(melody: Melody, path: Path | None = None) -> bytes:
    """The melody rendered (default voice, its own tempo, 44.1 kHz) as WAV file bytes.

    This is the `.wav` writer registered with `musicgen.io.write_melody` (`path` is unused).
    """
    return wav_bytes(render(melody), DEFAULT_SAMPLE_RATE_HZ)
