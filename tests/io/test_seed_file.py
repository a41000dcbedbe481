"""`read_seed_file`: what the app opens, on the command line's default track, with the reader's
notes worth showing (and none that say nothing)."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from musicgen.io import read_melody_with_report, read_seed_file
from tests.support import TUNE_BOOK_ABC, write_midi

M21 = Path(mido.__file__).resolve().parents[1] / "music21"
TWO_STAVES = M21 / "corpus" / "demos" / "two-parts.xml"


def test_midi_opens_on_the_fullest_pitched_track_like_the_cli(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "trio.mid", [[72, 74, 76], [48, 50, 52, 53, 55], [60, 62]])
    seed = read_seed_file(path)
    cli, report = read_melody_with_report(path)
    assert seed.melody.notes == cli.notes and seed.part == 2 and seed.kind == "track"
    assert seed.notes[0] == "Using track 2: Line 2" and report.source_part == "track 2: Line 2"
    other = read_seed_file(path, 3)
    assert other.part == 3 and other.melody.pitched_notes[0].pitch == 60
    assert other.notes[0] == "Using track 3: Line 3"


def test_tune_book_lists_tunes_without_a_using_note(tmp_path: Path) -> None:
    path = tmp_path / "book.abc"
    path.write_text(TUNE_BOOK_ABC)
    seed = read_seed_file(path, 2)
    assert seed.kind == "tune" and seed.parts[:2] == ("First Tune", "Second Tune")
    assert seed.melody.title == "Second Tune" and seed.notes == ()


def test_dropped_chord_symbols_are_said_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "chords.abc"
    path.write_text('X:1\nT:Chords\nM:4/4\nL:1/8\nK:G\n|:"G"GABc "Am"dcBA|"D7"G2A2 "G"B4:|\n')
    seed = read_seed_file(path)
    assert seed.report.chord_symbols_dropped == 4  # written once each, though played twice
    assert seed.notes == ("4 chord symbols were dropped: the models read melody only.",)


def test_sub_tick_rounding_is_no_note_but_playing_is(tmp_path: Path) -> None:
    exact = tmp_path / "odd-resolution.mid"  # triplet eighths at 100 ticks a quarter: 33, 67
    mid = mido.MidiFile(type=0, ticks_per_beat=100)
    track, now = mido.MidiTrack(), 0
    for pitch, on, off in [(60, 0, 33), (62, 33, 67), (64, 67, 100), (65, 100, 200)]:
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=on - now))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=off - on))
        now = off
    mid.tracks.append(track)
    mid.save(str(exact))
    seed = read_seed_file(exact)
    assert [n.duration_ticks for n in seed.melody.notes] == [4, 4, 4, 12]
    assert 0 < seed.report.max_shift_ticks < 0.5
    assert not any(n.startswith("Quantisation") for n in seed.notes)
    played = tmp_path / "played.mid"
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    track, now = mido.MidiTrack(), 0
    for i, (pitch, late) in enumerate(zip([60, 62, 64, 65, 67, 69, 71, 72], [0, 30, -20, 25, 0, -30, 20, 10])):
        on = max(0, i * 240 + late)
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=on - now))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=150))
        now = on + 150
    mid.tracks.append(track)
    mid.save(str(played))
    notes = read_seed_file(played).notes
    assert len(notes) == 1 and notes[0].startswith("Quantisation moved")


@pytest.mark.skipif(not TWO_STAVES.exists(), reason="music21's demo file is absent")
def test_two_staff_score_offers_its_staves_as_parts() -> None:
    seed = read_seed_file(TWO_STAVES)
    assert seed.kind == "part" and len(seed.parts) == 2 and seed.part == 1
    assert seed.notes[0].startswith("Using part 1:")
    low = read_seed_file(TWO_STAVES, 2)
    assert low.part == 2 and low.melody.pitch_range[1] < seed.melody.pitch_range[0]
