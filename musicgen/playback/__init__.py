"""Playback: a Melody to sound, in pure numpy (no torch, no Qt).

API map:

- `render(melody, *, voice=, sample_rate_hz=44100, tempo_bpm=None, on_progress=, should_stop=)`
  -> float32 mono PCM in [-1, 1]; `render_with_playhead(...)` -> `Rendering` (samples + timings).
- `note_times(melody, *, tempo_bpm=None)` -> `NoteTiming` per note/rest (onset and end, seconds).
- `Voice` names the built-in tones (fiddle, flute, sine, pluck, soundfont); any callable
  ``(frequency_hz, n_samples, sample_rate_hz) -> samples`` is a voice too (`Waveform`).
- `write_wav(path, samples, sample_rate_hz)` writes 16-bit mono WAV atomically; `wav_bytes`
  builds one in memory.
  Importing this package registers `.wav` with `musicgen.io.write_melody`.
- `soundfont_available()` / `render_soundfont(...)`: the optional fluidsynth + General MIDI voice.
- `musicgen.playback.midi_port`: optional playback to a MIDI output port via mido.
- `musicgen.playback.analysis`: pitch and level measurement of rendered audio.
"""

from __future__ import annotations

from musicgen.playback.soundfont import find_soundfont, render_soundfont, soundfont_available
from musicgen.playback.synth import (
    DEFAULT_SAMPLE_RATE_HZ,
    Envelope,
    NoteTiming,
    Rendering,
    float_to_int16,
    note_times,
    render,
    render_with_playhead,
)
from musicgen.playback.voices import (
    AdditiveVoice,
    PluckedString,
    Voice,
    Waveform,
    midi_to_hz,
    waveform_for,
)
from musicgen.io import register_writer
from musicgen.playback.wav import melody_to_wav_bytes, wav_bytes, write_wav

__all__ = [
    "DEFAULT_SAMPLE_RATE_HZ",
    "Envelope",
    "NoteTiming",
    "Rendering",
    "render",
    "render_with_playhead",
    "note_times",
    "float_to_int16",
    "Voice",
    "Waveform",
    "AdditiveVoice",
    "PluckedString",
    "waveform_for",
    "midi_to_hz",
    "write_wav",
    "wav_bytes",
    "melody_to_wav_bytes",
    "soundfont_available",
    "find_soundfont",
    "render_soundfont",
]

register_writer(".wav", melody_to_wav_bytes)
