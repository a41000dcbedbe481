"""The synthesizer: pitch of every note measured from the audio, silent rests, tempo, callbacks."""

from __future__ import annotations

import numpy as np
import pytest

from musicgen.errors import Cancelled, PlaybackError
from musicgen.melody import TICKS_PER_QUARTER, Melody, Note
from musicgen.playback import (
    AdditiveVoice,
    Voice,
    note_times,
    render,
    render_with_playhead,
)
from musicgen.playback.analysis import cents_between, estimate_frequency_hz, rms
from musicgen.playback.voices import midi_to_hz

Q = TICKS_PER_QUARTER
SR = 44100


def scale_with_rest_and_held_note() -> Melody:
    """D major scale up, a quarter rest, then a held (dotted half) high D; 100 bpm."""
    pitches = [62, 64, 66, 67, 69, 71, 73]
    notes = [Note(p, i * Q, Q) for i, p in enumerate(pitches)]
    notes.append(Note(None, 7 * Q, Q))
    notes.append(Note(74, 8 * Q, 3 * Q))
    return Melody(tuple(notes), tempo_bpm=100.0)


def _inner(samples: np.ndarray, onset_s: float, end_s: float, margin_s: float = 0.05) -> np.ndarray:
    return samples[int((onset_s + margin_s) * SR) : int((end_s - margin_s) * SR)]


@pytest.mark.parametrize("voice", [Voice.FIDDLE, Voice.FLUTE, Voice.SINE, Voice.PLUCK])
def test_every_note_has_its_pitch_and_rests_are_silent(voice: Voice) -> None:
    melody = scale_with_rest_and_held_note()
    rendering = render_with_playhead(melody, voice=voice)
    assert rendering.voice == voice.value
    for timing in rendering.timings:
        segment = _inner(rendering.samples, timing.onset_s, timing.end_s)
        if timing.pitch is None:
            whole = rendering.samples[int(timing.onset_s * SR) : int(timing.end_s * SR)]
            assert rms(whole) < 1e-4, "a rest must be silent"
            continue
        assert rms(segment) > 0.05, f"note {timing.index} is too quiet"
        measured = estimate_frequency_hz(segment, SR)
        assert measured is not None
        assert abs(cents_between(measured, midi_to_hz(timing.pitch))) < 10.0


def test_duration_follows_melody_tempo_and_override() -> None:
    melody = scale_with_rest_and_held_note()  # 11 quarters
    assert render(melody).size == round(11 * 60.0 / 100.0 * SR)
    assert render(melody, tempo_bpm=150.0).size == round(11 * 60.0 / 150.0 * SR)
    assert render(melody, sample_rate_hz=22050, tempo_bpm=60.0).size == 11 * 22050


def test_note_times_give_onsets_in_seconds() -> None:
    melody = scale_with_rest_and_held_note()
    timings = note_times(melody, tempo_bpm=120.0)
    assert [t.onset_s for t in timings] == pytest.approx([0.5 * i for i in range(9)])
    assert timings[7].pitch is None
    assert timings[-1].end_s == pytest.approx(5.5)
    assert note_times(melody)[1].onset_s == pytest.approx(0.6)


def test_sound_starts_at_each_onset_and_notes_do_not_click() -> None:
    melody = Melody.from_pitches([69, 69, 69], tempo_bpm=120.0)
    samples = render(melody, voice=Voice.SINE)
    for onset in (0, SR // 2, SR):
        # Attack: starts from silence, reaches full level within ~15 ms.
        assert abs(samples[onset]) < 0.01
        assert rms(samples[onset + int(0.015 * SR) : onset + int(0.05 * SR)]) > 0.3
    # Largest sample-to-sample step stays that of a smooth 440 Hz sine (no discontinuity).
    assert np.max(np.abs(np.diff(samples))) < 0.5 * 2 * np.pi * 440 / SR * 1.05


def test_playhead_maps_time_to_note_index() -> None:
    rendering = render_with_playhead(scale_with_rest_and_held_note(), tempo_bpm=60.0)
    assert rendering.note_index_at(0.0) == 0
    assert rendering.note_index_at(2.5) == 2
    assert rendering.note_index_at(7.2) == 7  # the rest
    assert rendering.note_index_at(10.9) == 8  # the held note
    assert rendering.note_index_at(11.0) is None
    assert rendering.duration_s == pytest.approx(11.0)


def test_injected_waveform_is_used() -> None:
    calls: list[tuple[float, int, int]] = []

    def square(frequency_hz: float, n_samples: int, sample_rate_hz: int) -> np.ndarray:
        calls.append((frequency_hz, n_samples, sample_rate_hz))
        t = np.arange(n_samples) / sample_rate_hz
        return np.sign(np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)

    samples = render(Melody.from_pitches([57, None, 69]), voice=square, sample_rate_hz=16000)
    assert [round(c[0], 3) for c in calls] == [220.0, 440.0]
    assert calls[0][1:] == (8000, 16000)
    assert estimate_frequency_hz(samples[1000:7000], 16000) == pytest.approx(220.0, rel=0.005)

    def wrong_length(frequency_hz: float, n_samples: int, sample_rate_hz: int) -> np.ndarray:
        return np.zeros(n_samples + 1)

    with pytest.raises(PlaybackError):
        render(Melody.from_pitches([60]), voice=wrong_length)


def test_progress_and_stop_between_notes() -> None:
    melody = Melody.from_pitches([60, 62, None, 64])
    progress: list[float] = []
    render(melody, on_progress=lambda done, total, message: progress.append(done / total))
    assert progress == pytest.approx([0.25, 0.5, 0.75, 1.0])
    asked: list[int] = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(Cancelled):
        render(melody, should_stop=stop_after_two)
    assert len(asked) == 3


def test_empty_melody_and_bad_settings() -> None:
    assert render(Melody(())).size == 0
    with pytest.raises(PlaybackError):
        render(Melody.from_pitches([60]), tempo_bpm=0.0)
    with pytest.raises(PlaybackError):
        render(Melody.from_pitches([60]), sample_rate_hz=100)
    with pytest.raises(PlaybackError, match="banjo"):
        render(Melody.from_pitches([60]), voice="banjo")


def test_additive_voice_stays_in_range_and_skips_harmonics_above_nyquist() -> None:
    voice = AdditiveVoice(harmonics=(1.0, 0.5, 0.5))
    tone = voice(5000.0, 8000, 16000)  # harmonics 2 and 3 are above 8 kHz: dropped
    assert np.max(np.abs(tone)) <= 1.0
    assert estimate_frequency_hz(tone, 16000, max_hz=7900) == pytest.approx(5000.0, rel=0.001)
    assert rms(tone) == pytest.approx(np.sqrt(0.5) / 2.0, rel=0.01)  # only the fundamental left


def test_playback_stays_light() -> None:
    """Importing playback loads no torch, no Qt and no music21 (the app plays before they load)."""
    import subprocess
    import sys

    code = (
        "import sys, musicgen.playback, musicgen.playback.midi_port, musicgen.playback.analysis; "
        "print(sorted(m for m in ('torch', 'PySide6', 'music21') if m in sys.modules))"
    )
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
