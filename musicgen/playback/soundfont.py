"""The optional better voice: a General MIDI SoundFont played by the `fluidsynth` program.

Nothing here is required. When the ``fluidsynth`` binary or a ``.sf2`` SoundFont is missing,
`render_soundfont` returns None and the caller uses the built-in synthesizer instead. The binary
renders offline (``-F``), so no sound server is needed. The search folders and the ``which``
lookup are parameters so tests can exercise the fallback on a machine that has both.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from musicgen.errors import PlaybackError
from musicgen.melody import TICKS_PER_QUARTER, Melody

__all__ = [
    "SOUNDFONT_DIRS",
    "GM_VIOLIN",
    "GM_FLUTE",
    "find_soundfont",
    "find_fluidsynth",
    "soundfont_available",
    "render_soundfont",
]

# Debian installs SoundFonts here (fluid-soundfont-gm, timgm6mb-soundfont, musescore-general).
SOUNDFONT_DIRS: tuple[Path, ...] = (Path("/usr/share/sounds/sf2"), Path("/usr/share/soundfonts"))
_PREFERRED = ("FluidR3_GM.sf2", "default-GM.sf2", "MuseScore_General.sf2", "TimGM6mb.sf2")
GM_VIOLIN = 40  # General MIDI programs, zero-based
GM_FLUTE = 73
_TICKS_PER_BEAT = 480


def find_soundfont(dirs: Sequence[Path] | None = None) -> Path | None:
    """The best General MIDI .sf2 in `dirs` (default SOUNDFONT_DIRS), full GM sets first."""
    dirs = SOUNDFONT_DIRS if dirs is None else dirs
    for folder in dirs:
        for name in _PREFERRED:
            if (folder / name).is_file():
                return folder / name
    for folder in dirs:
        if folder.is_dir():
            found = sorted(folder.glob("*.sf2"))
            if found:
                return found[0]
    return None


def find_fluidsynth(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Path of the fluidsynth program, or None."""
    return which("fluidsynth")


def soundfont_available(
    *, dirs: Sequence[Path] | None = None, which: Callable[[str], str | None] = shutil.which
) -> bool:
    """True when both the fluidsynth program and a SoundFont are installed."""
    return find_fluidsynth(which) is not None and find_soundfont(dirs) is not None


def _write_midi(melody: Melody, path: Path, tempo_bpm: float | None, program: int) -> None:
    import mido

    from musicgen.playback.midi_port import melody_to_messages

    bpm = melody.tempo_bpm if tempo_bpm is None else tempo_bpm
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    previous = 0
    for seconds, message in melody_to_messages(melody, tempo_bpm=bpm, program=program):
        tick = round(seconds * bpm / 60.0 * _TICKS_PER_BEAT)
        track.append(message.copy(time=tick - previous))
        previous = tick
    midi = mido.MidiFile(ticks_per_beat=_TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(path)


def _read_wav_mono(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        channels, frames = wav.getnchannels(), wav.readframes(wav.getnframes())
    data = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return data.reshape(-1, channels).mean(axis=1) if channels > 1 else data


def render_soundfont(
    melody: Melody,
    *,
    sample_rate_hz: int = 44100,
    tempo_bpm: float | None = None,
    program: int = GM_VIOLIN,
    dirs: Sequence[Path] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> np.ndarray | None:
    """Mono float32 PCM of the melody played by fluidsynth, or None when it is not installed.

    The audio is cut or padded to the melody's exact length so note timings match the built-in
    synthesizer. A fluidsynth that is installed but fails raises PlaybackError.
    """
    binary, soundfont = find_fluidsynth(which), find_soundfont(dirs)
    if binary is None or soundfont is None:
        return None
    bpm = melody.tempo_bpm if tempo_bpm is None else tempo_bpm
    total = round(melody.duration_ticks * 60.0 / (bpm * TICKS_PER_QUARTER) * sample_rate_hz)
    with tempfile.TemporaryDirectory(prefix="musicgen-fluid-") as tmp:
        midi_path, wav_path = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        _write_midi(melody, midi_path, bpm, program)
        command = [binary, "-ni", "-q", "-g", "0.8", "-r", str(sample_rate_hz), "-T", "wav",
                   "-O", "s16", "-F", str(wav_path), str(soundfont), str(midi_path)]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=120)
            audio = _read_wav_mono(wav_path)
        except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as exc:
            raise PlaybackError(f"fluidsynth could not render with {soundfont}: {exc}.") from exc
    fitted = np.zeros(total, dtype=np.float32)
    fitted[: min(total, audio.size)] = audio[:total]
    fade = min(total, int(0.05 * sample_rate_hz))
    if fade:
        fitted[total - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return fitted
