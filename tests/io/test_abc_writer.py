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


def _abcm2ps_complaints(path: Path, tmp_path: Path) -> list[str]:
    out = subprocess.run(["abcm2ps", "-O", str(tmp_path / "t.ps"), str(path)],
                         capture_output=True, text=True, timeout=60)
    lines = (out.stdout + out.stderr).splitlines()
    return [ln for ln in lines if "warning" in ln.lower() or "error" in ln.lower()] + (
        [f"exit status {out.returncode}"] if out.returncode else [])


def _m21_corpus_tunes(count: int) -> list[Melody]:
    """Tunes of music21's O'Neill 1850 collection: real tune-book ABC nobody here wrote."""
    import music21

    book = Path(music21.__file__).parent / "corpus" / "oneills1850" / "0001-0050.abc"
    return [r.melody for r in read_tune_book(book)[:count] if r.ok]


def _odd_lengths() -> list[Melody]:
    """Every tick length 1..60 in one tune (B5, 9/2, 17-tick notes: what abcm2ps refused), and a
    random tune of tick lengths, with rests."""
    import random

    rng = random.Random(14)
    durations = list(range(1, 61))
    mixed = [rng.choice([1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 27, 30, 33, 45])
             for _ in range(80)]
    out = []
    for lengths in (durations, mixed):
        notes, at = [], 0
        for i, d in enumerate(lengths):
            notes.append(Note(None if i % 7 == 6 else 60 + (i * 5) % 14, at, d))
            at += d
        out.append(Melody.from_notes(notes, meter=Meter(4, 4), key=Key(2, "major")))
    return out


@pytest.mark.skipif(shutil.which("abcm2ps") is None, reason="abcm2ps is not installed")
def test_abcm2ps_reads_every_export_without_a_warning(tmp_path: Path) -> None:
    """The data/ tunes and examples, continuations the shipped models wrote, tunes of a real tune
    book, and every odd length: abcm2ps engraves each without an error or a warning."""
    from musicgen.pipeline import GenerationConfig, continue_melody, load_generator

    melodies = [r.melody for r in read_tune_book(DATA / "tunebook.abc") if r.ok]
    melodies += [read_melody(DATA / "kesh-jig.abc")]
    melodies += [read_melody(p) for p in sorted((DATA / "examples").glob("*.abc"))]
    seed = read_melody(DATA / "kesh-jig.abc").first_bars(4)
    for model in ("transformer", "lstm"):
        melodies += continue_melody(seed, load_generator(model),
                                    GenerationConfig(bars=8, variations=2, rng_seed=14))
    melodies += _m21_corpus_tunes(25) + _odd_lengths()
    assert len(melodies) >= 40
    for i, melody in enumerate(melodies):
        if melody.seed_end_ticks is None:
            melody = melody.replace(seed_end_ticks=melody.duration_ticks // 2)
        path = tmp_path / f"t{i}.abc"
        path.write_text(melody_to_abc(melody))
        assert not _abcm2ps_complaints(path, tmp_path), (melody.title, path.read_text())


def test_no_length_needs_more_than_two_dots() -> None:
    """``B5`` (a half tied to an eighth) and ``B9/2`` are no note value: they are written tied."""
    body = _body(melody_to_abc(_melody([30, 15, 3, 27, 21])))
    assert body.replace(" ", "").startswith("G4-GA2-A/B/|c4-c/d7/2")
    assert "5" not in body and "9/2" not in body


def test_sparse_tunes_get_longer_lines() -> None:
    """Four bars of long notes leave a line too empty for abcm2ps (8 or 16 a line then), four bars
    of sixteenths crowd it (2 a line); reels keep four."""
    def bars_in_first_line(melody: Melody) -> int:
        return len(_body(melody_to_abc(melody)).splitlines()[0].split("|")) - 1

    assert bars_in_first_line(_melody([24] * 32, Meter(2, 4))) == 16  # a half note a bar
    assert bars_in_first_line(_melody([12] * 64, Meter(2, 4))) == 8  # two quarters a bar
    assert bars_in_first_line(_melody([6] * 64)) == 4
    assert bars_in_first_line(_melody([3] * 128)) == 2
