"""Corpora: folder corpora parsed for real, cached, split without leakage, reported."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import mido
import pytest

from musicgen.corpus import (
    Corpus,
    assign_splits,
    content_key,
    load_corpus,
    prepare_corpus,
    prepared_path,
)
from musicgen.errors import CorpusError
from musicgen.melody import Key, Melody, Meter

TUNE = """X:{n}
T:Tune number {n}
M:6/8
L:1/8
K:{key}
|:{a}{b}A GAB|cBA {a}2B|dcB AGF|G3 G3:|
"""


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))


def write_folder(root: Path, tunes: int = 12) -> Path:
    (root / "jigs").mkdir(parents=True)
    letters = "DEFGAB"
    book = "\n".join(TUNE.format(n=i + 1, key="G", a=letters[i % 6], b=letters[(i // 6) % 6])
                     for i in range(tunes))
    (root / "jigs" / "book.abc").write_text(book + "\nX:99\nT:Broken\nM:6/8\nK:G\n", encoding="utf-8")
    midi = mido.MidiFile(type=0, ticks_per_beat=96)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for pitch in (62, 64, 66, 67, 69, 71, 72, 74):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=96))
    midi.save(root / "played.mid")
    (root / "notes.txt").write_text("not a tune")
    return root


def test_folder_corpus_parses_splits_and_reports(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "mytunes")
    corpus = prepare_corpus(root, workers=1)
    assert len(corpus.tunes) == 13  # 12 ABC tunes + the MIDI file; the header-only tune is dropped
    assert corpus.report["failed"] == 1
    assert "Broken" in corpus.report["failed_tunes"][0]["title"] or "99" in corpus.report["failed_tunes"][0]["source"]
    assert {t.collection for t in corpus.tunes} == {"jigs", "mytunes"}
    assert all(corpus.split(s) for s in ("train", "val", "test"))
    jig = next(t for t in corpus.tunes if t.title == "Tune number 1")
    assert jig.melody.meter == Meter(6, 8) and jig.melody.key == Key(7, "major")
    assert jig.melody.bar_count == 8  # the repeat is expanded
    assert corpus.report["meters"]["6/8"] == 12


def test_second_prepare_reads_the_cache_and_is_byte_identical(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "mytunes")
    first = prepare_corpus(root, workers=1)
    blob = prepared_path(root).read_bytes()
    seen: list[tuple[int, int, str]] = []
    second = prepare_corpus(root, workers=1, on_progress=lambda d, n, message: seen.append((d, n, message)))
    assert seen[0] == (14, 14, "parsing tunes")  # every tune (13 read, 1 unreadable) came from the cache
    assert [m for _, _, m in seen[1:]] == ["checking and splitting the tunes"]
    assert prepared_path(root).read_bytes() == blob
    assert second.fingerprint == first.fingerprint
    assert load_corpus(root).tunes == first.tunes
    payload = json.loads(gzip.decompress(blob))
    assert payload["fingerprint"] == first.fingerprint


def test_changed_file_changes_the_fingerprint(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "mytunes")
    first = prepare_corpus(root, workers=1)
    with open(root / "jigs" / "book.abc", "a", encoding="utf-8") as fh:
        fh.write("\n" + TUNE.format(n=50, key="D", a="F", b="E"))
    again = load_corpus(root)
    assert again.fingerprint != first.fingerprint and len(again.tunes) == 14


def test_identical_tunes_in_other_keys_never_straddle_splits() -> None:
    base = Melody.from_pitches([62, 64, 66, 67, 69, 71], meter=Meter(3, 4), key=Key(2))
    others = [Melody.from_pitches([60 + i, 62, 64 + i % 3, 65], meter=Meter(4, 4)) for i in range(40)]
    melodies = others + [base, base.transposed(5), base.transposed(-3)]
    corpus = Corpus.from_melodies(melodies)
    copies = [t.split for t in corpus.tunes[-3:]]
    assert len(set(copies)) == 1
    assert content_key(base) == content_key(base.transposed(5))


def test_splits_are_deterministic_and_roughly_proportioned() -> None:
    keys = [f"{i:064x}" for i in range(0, 2**64, 2**64 // 4000)][:4000]
    import hashlib

    keys = [hashlib.sha256(k.encode()).hexdigest() for k in keys]
    first, second = assign_splits(keys), assign_splits(list(keys))
    assert first == second
    share = {s: first.count(s) / len(first) for s in ("train", "val", "test")}
    assert 0.85 < share["train"] < 0.95 and 0.03 < share["test"] < 0.07


def test_too_small_and_missing_corpora_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="at least 3"):
        Corpus.from_melodies([Melody.from_pitches([60, 62])] * 5)
    with pytest.raises(CorpusError, match="does not exist"):
        prepare_corpus(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no"):
        prepare_corpus(tmp_path / "empty")


def test_search_by_title_and_collection(tmp_path: Path) -> None:
    corpus = prepare_corpus(write_folder(tmp_path / "mytunes"), workers=1)
    assert [t.title for t in corpus.search("number 1", "jigs")][:1] == ["Tune number 1"]
    assert corpus.search("NUMBER 12")[0].title == "Tune number 12"
    assert corpus.search("", "mytunes")[0].source.startswith("played.mid")
