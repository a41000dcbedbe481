"""The optional fluidsynth voice: found when installed, silently replaced by ours when not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from musicgen.melody import Melody
from musicgen.playback import Voice, render_with_playhead
from musicgen.playback.analysis import cents_between, estimate_frequency_hz
from musicgen.playback.soundfont import (
    find_soundfont,
    render_soundfont,
    soundfont_available,
)
from musicgen.playback.voices import midi_to_hz

MELODY = Melody.from_pitches([67, 71, 74], tempo_bpm=100.0)


def _no_program(name: str) -> str | None:
    return None


def test_missing_binary_or_soundfont_means_none(tmp_path: Path) -> None:
    (tmp_path / "piano.sf2").write_bytes(b"RIFF")
    assert find_soundfont([tmp_path / "absent", tmp_path]) == tmp_path / "piano.sf2"
    assert find_soundfont([tmp_path / "absent"]) is None
    assert not soundfont_available(dirs=[tmp_path], which=_no_program)
    assert not soundfont_available(dirs=[tmp_path / "absent"], which=shutil.which)
    assert render_soundfont(MELODY, dirs=[tmp_path], which=_no_program) is None


def test_known_general_midi_set_is_preferred(tmp_path: Path) -> None:
    for name in ("aaa.sf2", "TimGM6mb.sf2", "FluidR3_GM.sf2"):
        (tmp_path / name).write_bytes(b"RIFF")
    assert find_soundfont([tmp_path]) == tmp_path / "FluidR3_GM.sf2"


def test_soundfont_voice_falls_back_to_fiddle_without_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from musicgen.playback import soundfont

    monkeypatch.setattr(soundfont, "SOUNDFONT_DIRS", (tmp_path / "no-soundfonts-here",))
    assert not soundfont.soundfont_available()
    rendering = render_with_playhead(MELODY, voice=Voice.SOUNDFONT)
    assert rendering.voice == "fiddle"
    assert rendering.samples.size == round(3 * 0.6 * 44100)
    measured = estimate_frequency_hz(rendering.samples[3000:23000], 44100)
    assert measured is not None and abs(cents_between(measured, midi_to_hz(67))) < 10


@pytest.mark.skipif(
    not soundfont_available(), reason="fluidsynth or a .sf2 in /usr/share/sounds/sf2 is missing"
)
def test_fluidsynth_renders_the_notes_in_tune() -> None:
    rendering = render_with_playhead(MELODY, voice=Voice.SOUNDFONT)
    assert rendering.voice == "soundfont"
    assert rendering.samples.size == round(3 * 0.6 * 44100)
    for timing in rendering.timings:
        start, stop = int((timing.onset_s + 0.1) * 44100), int((timing.end_s - 0.05) * 44100)
        measured = estimate_frequency_hz(rendering.samples[start:stop], 44100)
        assert measured is not None
        assert abs(cents_between(measured, midi_to_hz(timing.pitch))) < 10
