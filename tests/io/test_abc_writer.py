"""The ABC a musician reads: tuplets, beaming by the beat, broken rhythm, kept fields, the
continuation mark, tempo in the beat; abc2midi reads every export without a warning."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from musicgen.io import read_melody, read_tune_book
from musicgen.io.abc_writer import melody_to_abc
from musicgen.melody import Key, Melody, Meter, Note

DATA = Path(__file__).resolve().parents[2] / "data"


def _melody(durations: list[int], meter: Meter = Meter(4, 4), **context: object) -> Melody:
    notes, at = [], 0
    for i, d in enumerate(durations):
        notes.append(Note((67, 69, 71, 72, 74)[i % 5], at, d))
        at += d
    return Melody.from_notes(notes, meter=meter, key=Key(7, "major"), **context)


def _body(text: str) -> str:
    return text.split("\nK:", 1)[1].split("\n", 1)[1]


def test_triplets_are_plain_three_note_groups() -> None:
    text = _body(melody_to_abc(_melody([4, 4, 4, 6, 6, 12, 12])))
    assert "(3GAB" in text and "(3:2" not in text


def test_reels_beam_in_fours_and_jigs_in_threes() -> None:
    reel = _body(melody_to_abc(_melody([6] * 8)))
    assert reel.split("|")[0].strip() == "GABc dGAB"
    jig = _body(melody_to_abc(_melody([6] * 6, Meter(6, 8))))
    assert jig.split("|")[0].strip() == "GAB cdG"


def test_broken_rhythm_uses_angle_brackets() -> None:
    text = _body(melody_to_abc(_melody([9, 3, 3, 9, 24])))
    assert "G>A" in text and "B<c" in text and "3/2" not in text


def test_header_fields_and_tempo_in_the_beat_survive() -> None:
    kesh = read_melody(DATA / "kesh-jig.abc")
    text = melody_to_abc(kesh)
    assert "R:jig" in text and "Q:3/8=110" in text
    assert ("rhythm", "jig") in kesh.metadata


def test_continuation_start_is_marked_and_ignored_on_reading(tmp_path: Path) -> None:
    melody = _melody([6] * 16).replace(seed_end_ticks=48)
    text = melody_to_abc(melody)
    assert text.count('"^continuation"') == 1
    path = tmp_path / "c.abc"
    path.write_text(text)
    assert read_melody(path).notes == melody.notes


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi is not installed")
def test_abc2midi_reads_exports_without_warnings(tmp_path: Path) -> None:
    melodies = [r.melody for r in read_tune_book(DATA / "tunebook.abc") if r.ok]
    melodies += [read_melody(DATA / "kesh-jig.abc"), _melody([4, 4, 4, 9, 3, 3, 9, 8, 4, 24])]
    for i, melody in enumerate(melodies):
        path = tmp_path / f"t{i}.abc"
        path.write_text(melody_to_abc(melody.replace(seed_end_ticks=melody.duration_ticks // 2)))
        out = subprocess.run(["abc2midi", str(path), "-o", str(tmp_path / "t.mid")],
                             capture_output=True, text=True, timeout=60)
        complaints = [ln for ln in (out.stdout + out.stderr).splitlines()
                      if "arning" in ln or "rror" in ln]
        assert not complaints, (melody.title, complaints)
