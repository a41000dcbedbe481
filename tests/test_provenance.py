"""Provenance: bars keyed blind to transposition; a tune planted in a corpus is found, in any key,
with its bar numbers, and flagged when four bars or more match in a row; the index is cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from musicgen.corpus import Corpus
from musicgen.melody import Key, Melody, Meter, Note
from musicgen.provenance import BarIndex, bar_keys, corpus_index, index_path
from tests.support import training_melodies, write_abc_corpus

# A distinctive 8-bar tune in 4/4 with a pickup (eighths and a dotted figure): the one planted.
PLANTED_BARS = [
    [(64, 6)],  # the pickup
    [(69, 6), (72, 6), (76, 6), (72, 6), (74, 9), (72, 3), (71, 6), (69, 6)],
    [(68, 6), (71, 6), (74, 6), (71, 6), (76, 12), (75, 6), (76, 6)],
    [(81, 6), (79, 6), (77, 6), (76, 6), (74, 6), (72, 6), (71, 6), (74, 6)],
    [(72, 6), (69, 6), (72, 6), (76, 6), (81, 18), (80, 6)],
    [(81, 6), (76, 6), (72, 6), (76, 6), (77, 9), (76, 3), (74, 6), (72, 6)],
    [(71, 6), (68, 6), (71, 6), (74, 6), (77, 12), (76, 6), (74, 6)],
    [(72, 6), (76, 6), (74, 6), (71, 6), (69, 6), (68, 6), (69, 12)],
    [(69, 36), (None, 6)],
]


def melody_of(bars: list[list[tuple]], shift: int = 0, title: str = "", pickup: int = 6) -> Melody:
    notes, tick = [], 0
    for bar in bars:
        for pitch, length in bar:
            notes.append(Note(None if pitch is None else pitch + shift, tick, length))
            tick += length
    return Melody.from_notes(notes, meter=Meter(4, 4), key=Key((9 + shift) % 12, "minor"),
                             title=title, pickup_ticks=pickup)


PLANTED = melody_of(PLANTED_BARS, title="The Planted Reel")


@pytest.fixture(scope="module")
def index() -> BarIndex:
    tunes = training_melodies(40) + [PLANTED]
    corpus = Corpus.from_melodies(tunes, name="planted", collections=["figures"] * 40 + ["mine"])
    return BarIndex.build(corpus)


def test_bar_keys_ignore_transposition_and_tell_rhythm_apart():
    keys, up = bar_keys(PLANTED), bar_keys(PLANTED.transposed(5))
    assert [k[:2] for k in keys] == [k[:2] for k in up]
    assert [k[2] + 5 for k in keys if k[2] >= 0] == [k[2] for k in up if k[2] >= 0]
    retimed = melody_of([[(69, 12), (72, 6), (76, 6), (72, 6), (74, 6), (72, 6), (71, 6)]], pickup=0)
    plain = melody_of([[(69, 6), (72, 6), (76, 6), (72, 6), (74, 6), (72, 6), (71, 6), (69, 6)]],
                      pickup=0)
    assert bar_keys(retimed)[0][0] != bar_keys(plain)[0][0]  # rhythm differs: not exact
    assert len(keys) == 9 and keys[0][3]  # the one-note pickup is too common to search by


def test_a_planted_tune_is_found_in_another_key_with_its_bar_numbers(index):
    # Four bars of other music, then bars 2-7 of the planted tune a fourth higher, then more.
    filler = training_melodies(3, seed=99)[0].first_bars(4)
    borrowed = melody_of(PLANTED_BARS[2:8], shift=5, pickup=0)
    melody = filler.replace(key=Key(2, "minor")).concatenated(borrowed)
    melody = melody.replace(seed_end_ticks=filler.duration_ticks)
    note_index = next(i for i, n in enumerate(melody.notes)
                      if n.onset_ticks >= filler.duration_ticks + 2 * 48)  # in bar 7
    matches = index.search(melody, note_index)
    best = matches[0]
    assert best.tune.title == "The Planted Reel" and best.tune.collection == "mine"
    assert best.known and best.run_bars == 6 and best.transposition == 5
    assert best.tune_bars == (2, 7)  # the pickup is bar 0, as a musician counts
    assert best.melody_bars == (5, 10)
    assert best.matched_bars == 6 and best.similar_bars >= 6


def test_a_run_must_pass_through_the_notes_bar(index):
    """Bars copied from the planted tune next to new ones: a note in a new bar is not flagged."""
    new_bar = [(60, 12), (62, 12), (63, 12), (65, 12)]
    melody = melody_of(PLANTED_BARS[:6] + [new_bar, new_bar])
    note_index = len(melody.notes) - 2  # in the last (new) bar
    flagged = [m for m in index.search(melody, note_index) if m.known]
    assert flagged == []
    inside = index.search(melody, 8)
    assert inside[0].known and inside[0].tune.title == "The Planted Reel"


def test_nothing_shared_finds_nothing_known(index):
    melody = melody_of([[(60, 6), (61, 6), (66, 6), (59, 6), (70, 6), (58, 6), (71, 6), (57, 6)]] * 3,
                       pickup=0)
    assert not any(m.known for m in index.search(melody, 3))


def test_the_index_is_saved_without_pickle_and_read_back(index, tmp_path: Path):
    path = tmp_path / "index.npz"
    path.write_bytes(index.to_bytes({"prepared": "x"}))
    again, stamp = BarIndex.from_file(path)
    assert stamp == {"prepared": "x"} and again.tunes == index.tunes
    assert (again.exact == index.exact).all() and again.bar_count == index.bar_count
    melody = melody_of(PLANTED_BARS[1:6], pickup=0)
    assert again.search(melody, 10)[0] == index.search(melody, 10)[0]


def test_a_corpus_index_is_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_abc_corpus(tmp_path / "tunes", count=6)
    built = corpus_index(str(folder))
    assert index_path(str(folder)).is_file() and len(built.tunes) == 6

    def no_rebuild(*_args, **_kwargs):
        raise AssertionError("the index was built again")

    monkeypatch.setattr(BarIndex, "build", classmethod(no_rebuild))
    cached = corpus_index(str(folder))
    assert cached.fingerprint == built.fingerprint and cached.bar_count == built.bar_count


def test_an_unprepared_corpus_is_not_prepared_behind_the_users_back(tmp_path, monkeypatch):
    from musicgen.errors import CorpusError

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(CorpusError, match="not prepared yet"):
        corpus_index("folk", prepare=False)
    assert not (tmp_path / "data").exists()
