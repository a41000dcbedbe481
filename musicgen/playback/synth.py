"""The synthesizer: a Melody to mono float PCM, with note timings for a playhead.

Each pitched note is a waveform (see `voices`) shaped by a short attack and release inside the
note's own span, so consecutive notes never click and the audio lasts exactly as long as the melody
at its tempo. Rests are digital silence. Tempo is the melody's unless ``tempo_bpm`` overrides it
(quarter notes per minute, as `Melody.tempo_bpm`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from musicgen.errors import Cancelled, PlaybackError
from musicgen.progress import ProgressFn, StopFn, report
from musicgen.melody import TICKS_PER_QUARTER, Melody
from musicgen.playback.voices import Voice, Waveform, midi_to_hz, waveform_for

__all__ = [
    "DEFAULT_SAMPLE_RATE_HZ",
    "Envelope",
    "NoteTiming",
    "Rendering",
    "note_times",
    "render",
    "render_with_playhead",
    "float_to_int16",
]

DEFAULT_SAMPLE_RATE_HZ = 44100


@dataclass(frozen=True, slots=True)
class Envelope:
    """Attack and release ramps (raised cosine) and the overall level of every note."""

    attack_s: float = 0.012
    release_s: float = 0.04
    gain: float = 0.5  # peak level of a note in [0, 1]; headroom for int16 conversion


@dataclass(frozen=True, slots=True)
class NoteTiming:
    """Where one note or rest of a melody sounds, in seconds from the start of the audio."""

    index: int  # position in melody.notes
    pitch: int | None  # None for a rest
    onset_s: float
    end_s: float


@dataclass(frozen=True)
class Rendering:
    """Rendered audio plus the timing of every note, for drawing a playhead."""

    samples: np.ndarray  # float32, mono, in [-1, 1]
    sample_rate_hz: int
    timings: tuple[NoteTiming, ...]
    voice: str  # the voice actually used (a SOUNDFONT request may fall back to 'fiddle')

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate_hz

    def note_index_at(self, seconds: float) -> int | None:
        """Index (in melody.notes) of the note or rest sounding at `seconds`, None past the end."""
        onsets = [t.onset_s for t in self.timings]
        i = bisect.bisect_right(onsets, seconds) - 1
        if i < 0 or seconds >= self.timings[i].end_s:
            return None
        return self.timings[i].index

    def to_int16(self) -> np.ndarray:
        return float_to_int16(self.samples)


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """Float PCM in [-1, 1] to int16 (clipped); int16 input is returned unchanged."""
    if samples.dtype == np.int16:
        return samples
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def _seconds_per_tick(melody: Melody, tempo_bpm: float | None) -> float:
    bpm = melody.tempo_bpm if tempo_bpm is None else tempo_bpm
    if not bpm > 0:
        raise PlaybackError(f"Cannot play at a tempo of {bpm} bpm: the tempo must be above 0.")
    return 60.0 / (bpm * TICKS_PER_QUARTER)


def note_times(melody: Melody, *, tempo_bpm: float | None = None) -> tuple[NoteTiming, ...]:
    """Onset and end (seconds) of every note and rest, at the melody's tempo or `tempo_bpm`."""
    spt = _seconds_per_tick(melody, tempo_bpm)
    return tuple(
        NoteTiming(i, n.pitch, n.onset_ticks * spt, n.end_ticks * spt)
        for i, n in enumerate(melody.notes)
    )


def _envelope(n_samples: int, sample_rate_hz: int, env: Envelope) -> np.ndarray:
    """Raised-cosine attack and release fitted inside n samples (shortened for very short notes)."""
    attack = min(int(env.attack_s * sample_rate_hz), n_samples // 3)
    release = min(int(env.release_s * sample_rate_hz), n_samples // 2)
    shape = np.ones(n_samples, dtype=np.float32)
    if attack > 0:
        shape[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    if release > 0:
        ramp = np.pi * (np.arange(release) + 1) / release
        shape[n_samples - release :] = 0.5 + 0.5 * np.cos(ramp)
    return shape


def _resolve_voice(voice: Voice | str | Waveform) -> tuple[Waveform, str]:
    if callable(voice) and not isinstance(voice, (str, Voice)):
        return voice, getattr(voice, "__name__", type(voice).__name__)
    try:
        choice = Voice(voice)
    except ValueError as exc:
        names = ", ".join(v.value for v in Voice)
        raise PlaybackError(f"There is no voice called {voice!r}: choose one of {names}.") from exc
    fallback = Voice.FIDDLE if choice is Voice.SOUNDFONT else choice
    return waveform_for(fallback), fallback.value


def render_with_playhead(
    melody: Melody,
    *,
    voice: Voice | str | Waveform = Voice.FIDDLE,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    tempo_bpm: float | None = None,
    envelope: Envelope = Envelope(),
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Rendering:
    """Render a melody and return the audio with each note's timing.

    `voice` is a `Voice` name or any waveform callable. Voice.SOUNDFONT renders through fluidsynth
    when it and a General MIDI SoundFont are installed, and falls back to FIDDLE otherwise (the
    returned `Rendering.voice` says which). `on_progress(done, total, message)` counts notes; when
    `should_stop()` turns true between notes, `musicgen.errors.Cancelled` is raised.
    """
    if sample_rate_hz < 8000:
        raise PlaybackError(f"Cannot render at {sample_rate_hz} Hz: use at least 8000 Hz.")
    timings = note_times(melody, tempo_bpm=tempo_bpm)
    if voice is Voice.SOUNDFONT or voice == Voice.SOUNDFONT.value:
        from musicgen.playback.soundfont import render_soundfont

        audio = render_soundfont(melody, sample_rate_hz=sample_rate_hz, tempo_bpm=tempo_bpm)
        if audio is not None:
            report(on_progress, 1, 1, "rendering")
            return Rendering(audio, sample_rate_hz, timings, Voice.SOUNDFONT.value)
    waveform, name = _resolve_voice(voice)
    samples = _synthesize(timings, waveform, sample_rate_hz, envelope, on_progress, should_stop)
    return Rendering(samples, sample_rate_hz, timings, name)


def _synthesize(
    timings: tuple[NoteTiming, ...],
    waveform: Waveform,
    sample_rate_hz: int,
    envelope: Envelope,
    on_progress: ProgressFn | None,
    should_stop: StopFn | None,
) -> np.ndarray:
    total = round(timings[-1].end_s * sample_rate_hz) if timings else 0
    out = np.zeros(total, dtype=np.float32)
    for k, timing in enumerate(timings):
        if should_stop is not None and should_stop():
            raise Cancelled(f"Rendering stopped at note {k + 1} of {len(timings)}.")
        start = round(timing.onset_s * sample_rate_hz)
        stop = round(timing.end_s * sample_rate_hz)
        if timing.pitch is not None and stop > start:
            tone = np.asarray(waveform(midi_to_hz(timing.pitch), stop - start, sample_rate_hz))
            if tone.shape != (stop - start,):
                raise PlaybackError(
                    f"The waveform returned {tone.shape} samples for a note of {stop - start}."
                )
            shape = _envelope(stop - start, sample_rate_hz, envelope)
            out[start:stop] = tone * shape * envelope.gain
        report(on_progress, k + 1, len(timings), "rendering")
    return out


def render(
    melody: Melody,
    *,
    voice: Voice | str | Waveform = Voice.FIDDLE,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    tempo_bpm: float | None = None,
    envelope: Envelope = Envelope(),
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> np.ndarray:
    """Render a melody to mono float32 PCM in [-1, 1] (see `render_with_playhead`)."""
    return render_with_playhead(
        melody,
        voice=voice,
        sample_rate_hz=sample_rate_hz,
        tempo_bpm=tempo_bpm,
        envelope=envelope,
        on_progress=on_progress,
        should_stop=should_stop,
    ).samples
