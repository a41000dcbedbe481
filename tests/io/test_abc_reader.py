"""ABC reading through music21: tune books, reductions, repeats, voices, encodings, real tunes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from musicgen.errors import SeedError
from musicgen.io import (
    abc_text_to_melody,
    read_melody,
    read_melody_with_report,
    read_tune_book,
    read_tunes,
)
from musicgen.melody import Key, Meter

BOOK = """%abc-2.1
% a small tune book
X: 3
T: First Tune
M: 4/4
L: 1/8
K: G
GABc d2 B2 | c2 A2 G4 |]

X: 7
T: Second Tune
M: 6/8
L: 1/8
K: Ador
A | EAA cBA | B2A G3 |]

X: 9
T: Third Tune
M: 3/4
L: 1/4
K: D
D E F | A3 |]
"""


def write(tmp_path: Path, text: str, name: str = "tune.abc", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def single(body: str, header: str = "M:4/4\nL:1/8\nK:C") -> str:
    return f"X:1\nT:Test\n{header}\n{body}\n"


def pitches(melody) -> list[int | None]:
    return [n.pitch for n in melody.notes]


def durations(melody) -> list[int]:
    return [n.duration_ticks for n in melody.notes]


def test_tune_book_lists_and_picks_tunes(tmp_path: Path) -> None:
    path = write(tmp_path, BOOK, "book.abc")
    tunes = read_tunes(path)
    assert [(t.index, t.title, t.number) for t in tunes] == [
        (1, "First Tune", 3), (2, "Second Tune", 7), (3, "Third Tune", 9)]
    second = read_melody(path, tune=2)
    assert second.title == "Second Tune"
    assert second.meter == Meter(6, 8)
    assert second.key == Key(9, "dorian")
    assert second.pickup_ticks == 6
    assert pitches(second)[:4] == [69, 64, 69, 69]
    first = read_melody(path)
    assert first.title == "First Tune" and first.key == Key(7, "major")
    assert first.pickup_ticks == 0 and first.bar_count == 2
    third = read_melody(path, tune=3)
    assert durations(third) == [12, 12, 12, 36]
    with pytest.raises(SeedError, match="book.abc.*no tune 4"):
        read_melody(path, tune=4)


def test_read_tune_book_keeps_going_past_a_bad_tune(tmp_path: Path) -> None:
    text = BOOK.replace("D E F | A3 |]", "")  # tune 3 loses its body
    results = read_tune_book(write(tmp_path, text, "book.abc"))
    assert [r.ok for r in results] == [True, True, False]
    assert "book.abc, tune 3" in results[2].error
    assert results[1].melody.title == "Second Tune"


def test_chords_grace_notes_and_ties(tmp_path: Path) -> None:
    body = '"Am"[CEA]2 {g}B2 c2- c2 | d4- d4 |]'
    melody, report = read_melody_with_report(write(tmp_path, single(body)))
    assert pitches(melody) == [69, 71, 72, 74]
    assert durations(melody) == [12, 12, 24, 48]
    assert report.chords_reduced == 1
    assert report.grace_notes_dropped == 1
    assert report.ties_merged == 2


def test_triplets_and_broken_rhythm_keep_exact_durations(tmp_path: Path) -> None:
    body = "(3CDE F>G A<B c2 | (3c/d/e/ z3 C4 |]"
    melody = read_melody(write(tmp_path, single(body)))
    assert durations(melody) == [4, 4, 4, 9, 3, 3, 9, 12, 2, 2, 2, 18, 24]
    assert pitches(melody)[11] is None
    assert melody.duration_ticks == 2 * 48


def test_repeats_and_endings_are_expanded(tmp_path: Path) -> None:
    body = "|: C2 D2 E2 F2 |1 G8 :|2 A8 |]"
    melody, report = read_melody_with_report(write(tmp_path, single(body)))
    assert report.repeats_expanded
    assert pitches(melody) == [60, 62, 64, 65, 67, 60, 62, 64, 65, 69]


def test_double_repeat_bar_plays_aabb(tmp_path: Path) -> None:
    body = "C4 D4 | G8 :|: E4 F4 | A8 :|]"
    assert pitches(read_melody(write(tmp_path, single(body)))) == [
        60, 62, 67, 60, 62, 67, 64, 65, 69, 64, 65, 69]


def test_inline_key_and_meter_changes(tmp_path: Path) -> None:
    body = "F2 G2 A2 B2 | [K:F] B2 A2 [M:3/4] G2 F2 | E2 D2 C2 |]"
    melody, report = read_melody_with_report(write(tmp_path, single(body)))
    assert pitches(melody) == [65, 67, 69, 71, 70, 69, 67, 65, 64, 62, 60]
    assert melody.meter == Meter(4, 4) and melody.key == Key(0, "major")
    assert any("meter changes" in w for w in report.warnings)


def test_two_voices_take_the_first_and_say_so(tmp_path: Path) -> None:
    text = "X:1\nT:Duet\nM:4/4\nL:1/4\nV:1\nV:2\nK:C\n[V:1] c d e f |]\n[V:2] C D E F |]\n"
    path = write(tmp_path, text)
    with pytest.warns(UserWarning, match="first"):
        melody = read_melody(path)
    assert pitches(melody) == [72, 74, 76, 77]
    assert pitches(read_melody(path, track=2)) == [60, 62, 64, 65]
    with pytest.raises(SeedError, match="tune.abc.*no part 3"):
        read_melody(path, track=3)


@pytest.mark.parametrize("encoding,prefix,newline", [
    ("latin-1", b"", "\n"), ("utf-8", b"\xef\xbb\xbf", "\n"), ("utf-8", b"", "\r\n")])
def test_encodings_and_line_ends(tmp_path: Path, encoding: str, prefix: bytes, newline: str) -> None:
    text = single("C D E F | G4 |]").replace("T:Test", "T:Caoineadh Uí Néill")
    path = tmp_path / "enc.abc"
    path.write_bytes(prefix + text.replace("\n", newline).encode(encoding))
    melody = read_melody(path)
    assert melody.title == "Caoineadh Uí Néill"
    assert pitches(melody) == [60, 62, 64, 65, 67]


@pytest.mark.parametrize("field,expected", [
    ("G", Key(7, "major")), ("Em", Key(4, "minor")), ("Ador", Key(9, "dorian")),
    ("Dmix", Key(2, "mixolydian")), ("Bb", Key(10, "major")), ("F#m", Key(6, "minor"))])
def test_key_fields_and_modes(field: str, expected: Key) -> None:
    melody = abc_text_to_melody(single("C D E F |]", f"M:4/4\nL:1/4\nK:{field}"))
    assert melody.key == expected


def test_pasted_text_tempo_and_pickup() -> None:
    text = "X:1\nT:Paste\nM:6/8\nL:1/8\nQ:3/8=100\nK:D\nAB|d2d d2e|f3 e3|]\n"
    melody = abc_text_to_melody(text)
    assert melody.tempo_bpm == pytest.approx(150.0)
    assert melody.pickup_ticks == 12
    assert melody.bar_count == 3
    with pytest.raises(SeedError, match="pasted ABC"):
        abc_text_to_melody("X:1\nT:Nothing\nK:C\n")


def _music21_corpus() -> Path:
    import music21

    return Path(os.path.dirname(music21.__file__)) / "corpus"


def test_real_oneills_tunes_read() -> None:
    path = _music21_corpus() / "oneills1850" / "0001-0050.abc"
    tunes = read_tunes(path)
    assert len(tunes) == 50 and tunes[0].title == "The Enchanted Valley"
    results = read_tune_book(path)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    first = results[0].melody
    assert first.meter == Meter(2, 4) and first.key == Key(7, "minor")
    assert first.note_count > 100
    assert all(not any("meter changes" in w for w in r.report.warnings) for r in results[:5])


def test_real_essen_tune_reads() -> None:
    path = _music21_corpus() / "essenFolksong" / "altdeu10.abc"
    melody = read_melody(path, tune=1)
    assert melody.title == "Das Hildebrandslied"
    assert melody.note_count == 60
    assert melody.pitch_range is not None and 55 <= melody.pitch_range[0] < melody.pitch_range[1] <= 84


# --- read as written (expand_repeats=False) --------------------------------------------------------
def test_repeats_can_be_read_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, single("|: C2 D2 E2 F2 |1 G8 :|2 A8 |]"))
    melody, report = read_melody_with_report(path, expand_repeats=False)
    assert not report.repeats_expanded
    assert pitches(melody) == [60, 62, 64, 65, 67, 69]  # each written bar once, both endings
    assert durations(melody) == [12, 12, 12, 12, 48, 48]
    played = read_melody(path)
    assert len(played.notes) == 10 and played.notes[5:] != melody.notes[5:]


def test_double_repeat_bar_read_as_written_keeps_each_part_once(tmp_path: Path) -> None:
    body = "C4 D4 | G8 :|: E4 F4 | A8 :|]"
    assert pitches(read_melody(write(tmp_path, single(body)), expand_repeats=False)) == [60, 62, 67, 64, 65, 69]


def test_written_reading_keeps_the_pickup_and_reaches_books_and_pasted_text(tmp_path: Path) -> None:
    text = "X:1\nT:Jig\nM:6/8\nL:1/8\nK:G\nD|:GAG GAB|ABA ABd|edd gdB|AGF G2D:|\n|:gfg dBG|AGF G3:|\n"
    melody = abc_text_to_melody(text, expand_repeats=False)
    part_a, part_b = 6 + 6 + 6 + 5, 6 + 4  # notes written in each part
    assert melody.pickup_ticks == 6 and melody.note_count == 1 + part_a + part_b
    played = abc_text_to_melody(text)
    assert played.pickup_ticks == 6 and played.note_count == 1 + 2 * part_a + 2 * part_b
    path = write(tmp_path, BOOK + "\n" + text.replace("X:1", "X:12"), "book.abc")
    book = read_tune_book(path, expand_repeats=False)
    assert [r.melody.note_count for r in book] == [9, 10, 4, melody.note_count]
    assert read_tune_book(path)[3].melody.note_count == played.note_count


def test_tunes_without_repeats_read_the_same_either_way(tmp_path: Path) -> None:
    path = write(tmp_path, single("CDEF GABc | c2 B2 A2 G2 |]"))
    assert read_melody(path, expand_repeats=False) == read_melody(path)
