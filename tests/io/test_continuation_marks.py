"""Where the machine took over, in every format: a rehearsal mark in MusicXML, a marker in MIDI, an
annotation in ABC (tests/io/test_abc_writer.py); and real files read, written and read again in
every format come back with the same melody, mark or no mark."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from musicgen.io import read_melody, write_melody
from musicgen.io.midi_writer import CONTINUATION_MARKER
from musicgen.melody import TICKS_PER_QUARTER

DATA = Path(__file__).resolve().parents[2] / "data"
SUFFIXES = [".mid", ".abc", ".musicxml", ".mxl"]


def _kesh_with_mark():
    """The Kesh (a 6/8 jig), its continuation starting on the second eighth of bar 5."""
    kesh = read_melody(DATA / "kesh-jig.abc")
    return kesh.replace(seed_end_ticks=kesh.pickup_ticks + 4 * kesh.meter.bar_ticks + 6)


def test_musicxml_marks_the_continuation_with_a_rehearsal_mark(tmp_path: Path) -> None:
    from music21 import converter, expressions

    melody = _kesh_with_mark()
    path = tmp_path / "kesh.musicxml"
    write_melody(melody, path)
    assert path.read_text().count("<rehearsal") == 1
    score = converter.parse(str(path))
    marks = list(score.recurse().getElementsByClass(expressions.RehearsalMark))
    assert [m.content for m in marks] == ["continuation"]
    mark = marks[0]
    bar_start = (melody.seed_end_ticks - melody.pickup_ticks) // melody.meter.bar_ticks
    assert mark.measureNumber == bar_start + 1  # bars count from 1 after a pickup bar 0
    assert Fraction(mark.offset) == Fraction(6, TICKS_PER_QUARTER)  # the second eighth
    assert read_melody(path).notes == melody.notes  # the mark is no note


def test_midi_marks_the_continuation_with_a_marker(tmp_path: Path) -> None:
    import mido

    melody = _kesh_with_mark()
    path = tmp_path / "kesh.mid"
    write_melody(melody, path)
    midi = mido.MidiFile(str(path))
    found = []
    for track in midi.tracks:
        now = 0
        first_note = None
        for msg in track:
            now += msg.time
            if msg.type == "note_on" and first_note is None:
                first_note = now
            if msg.type == "marker":
                found.append((msg.text, now, first_note))
    assert len(found) == 1
    text, at, first_note = found[0]
    assert text == CONTINUATION_MARKER
    # the marker lies seed_end ticks (at the file's resolution) after the first note
    assert at - first_note == melody.seed_end_ticks * midi.ticks_per_beat // TICKS_PER_QUARTER
    assert read_melody(path).notes == melody.notes


@pytest.mark.parametrize("source", ["kesh-jig.abc", "kesh-jig.mid", "kesh-jig.musicxml",
                                    "examples/silver-spear-lstm.abc",
                                    "examples/si-bheag-transformer.mid"])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_real_file_read_write_read_keeps_the_melody(tmp_path: Path, source: str, suffix: str) -> None:
    first = read_melody(DATA / source)
    for marked in (first, first.replace(seed_end_ticks=first.duration_ticks // 2)):
        path = tmp_path / f"again{suffix}"
        write_melody(marked, path)
        back = read_melody(path)
        assert back.notes == first.notes
        assert (back.meter, back.key, back.pickup_ticks, back.title) == (
            first.meter, first.key, first.pickup_ticks, first.title)
        assert back.tempo_bpm == pytest.approx(first.tempo_bpm, abs=0.5)
