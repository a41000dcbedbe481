"""Readers on the files musicians have: two-staff parts, tune books with inline and missing
fields, MIDI from other programs (named keys, other encodings), stray notes; regressions of
issue 14."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from musicgen.errors import SeedError
from musicgen.io import read_melody_with_report
from musicgen.io.fold import fold_outliers
from musicgen.io.keysig import key_from_text
from musicgen.melody import Key, Melody

M21 = Path(mido.__file__).resolve().parents[1] / "music21"
TWO_STAVES = M21 / "corpus" / "demos" / "two-parts.xml"


@pytest.mark.skipif(not TWO_STAVES.exists(), reason="music21's demo file is absent")
def test_two_staff_part_gives_the_top_staff_and_the_other_on_request() -> None:
    top, report = read_melody_with_report(TWO_STAVES)
    low, _ = read_melody_with_report(TWO_STAVES, track=2)
    assert top.note_count > 0 and report.source_part.startswith("part 1")
    assert "top staff" in report.part_names[0] and len(report.part_names) == 2
    assert low.pitch_range[1] < top.pitch_range[0]  # type: ignore[index]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_abc_without_meter_or_length_uses_the_standards_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.abc", "X:1\nT:No fields\nK:G\nGABc dedB|dedB dedB|\n")
    melody, report = read_melody_with_report(path)
    assert melody.notes[0].duration_ticks == 6  # L:1/8
    assert any("no meter" in w for w in report.warnings)


def test_inline_remark_is_not_a_chord(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.abc", "X:1\nT:t\nM:4/4\nL:1/8\nK:D\n|DFAF [r:remark] DFAF|\n")
    melody, report = read_melody_with_report(path)
    assert melody.note_count == 8 and report.chords_reduced == 0


def test_unreadable_line_is_named_by_its_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.abc", "X:1\nT:t\nM:4/4\nL:1/8\nK:D\nDFAF DFAF|\nDF [K:Q] ^^^^&&& |\n")
    try:
        read_melody_with_report(path)
    except SeedError as exc:
        assert "Traceback" not in str(exc) and "unpack" not in str(exc)


def test_abc_header_fields_are_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.abc", "X:1\nT:t\nR:reel\nC:J. Smith\nM:4/4\nL:1/8\nK:D\nDFAF DFAF|\n")
    melody, _ = read_melody_with_report(path)
    assert ("rhythm", "reel") in melody.metadata and ("composer", "J. Smith") in melody.metadata


def _midi(tmp_path: Path, title: bytes, pitches: list[int]) -> Path:
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=title.decode("latin-1")))
    for pitch in pitches:
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
    midi.tracks.append(track)
    path = tmp_path / "t.mid"
    midi.save(path)
    return path


def test_key_named_in_the_title_wins_over_estimation(tmp_path: Path) -> None:
    path = _midi(tmp_path, b"Minuet in G major", [60, 62, 64, 65, 67, 65, 64, 62, 60])
    melody, _ = read_melody_with_report(path)
    assert melody.key == Key(7, "major")
    assert key_from_text("Menuet in D minor") == Key(2, "minor")


def test_gbk_track_name_is_not_mojibake(tmp_path: Path) -> None:
    path = _midi(tmp_path, "钢琴旋律".encode("gbk"), [60, 62, 64])
    melody, report = read_melody_with_report(path)
    assert melody.title == "钢琴旋律" and report.source_part == "track 1: 钢琴旋律"


def test_stray_notes_fold_by_octaves() -> None:
    melody = Melody.from_pitches([60, 62, 64, 65, 67, 120, 62, 60])
    folded, moved = fold_outliers(melody, 49)
    assert moved == 1 and folded.pitch_range == (60, 108)  # 120 moved down an octave
