"""Preparing a corpus can be stopped and resumed, says how long is left, and keeps header fields:
a real folder of ABC tune books parsed by the real worker processes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from musicgen.corpus import load_corpus, prepare_corpus, prepared_path
from musicgen.corpus.codec import melody_from_json
from musicgen.corpus.parse import CHUNK_TUNES, remaining_text
from musicgen.errors import Cancelled
from tests.support import write_abc_corpus

REEL = "X:1\nT:The Silver Spear\nR:reel\nC:Trad.\nO:Ireland\nM:4/4\nL:1/8\nK:D\n|:FA A2 BAFA|dfed BddB:|\n"
JIG = "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the data and cache folders somewhere new; returns a function that does it again."""
    def use(name: str) -> Path:
        monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / name / "data"))
        monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / name / "cache"))
        return tmp_path / name / "cache"
    use("first")
    return use


def corpus_folder(root: Path) -> Path:
    """A big book (three pieces of CHUNK_TUNES tunes at most) and two small files."""
    write_abc_corpus(root / "books", count=2 * CHUNK_TUNES + 10, seed=5)
    (root / "reels").mkdir(parents=True)
    (root / "reels" / "silver.abc").write_text(REEL, encoding="utf-8")
    (root / "jigs").mkdir()
    (root / "jigs" / "kesh.abc").write_text(JIG, encoding="utf-8")
    return root


def test_a_stopped_preparation_keeps_its_work_and_resumes_to_the_same_corpus(tmp_path, user_dirs):
    root = corpus_folder(tmp_path / "tunes")
    seen: list[tuple[float, float, str]] = []

    def stop_after_a_batch() -> bool:
        return any(m.startswith("parsing tunes, about") for _, _, m in seen)

    with pytest.raises(Cancelled, match="kept: it resumes from there"):
        prepare_corpus(root, workers=1, on_progress=lambda *a: seen.append(a),
                       should_stop=stop_after_a_batch)
    parsed_before = max(d for d, _, _ in seen)
    assert 0 < parsed_before < seen[0][1]  # stopped part-way
    assert not prepared_path(root).exists()
    cache = tmp_path / "first" / "cache" / "parsed"
    assert list(cache.glob("*.part0.json.gz"))  # the big book's first piece is kept on its own

    resumed: list[tuple[float, float, str]] = []
    corpus = prepare_corpus(root, workers=1, on_progress=lambda *a: resumed.append(a))
    first = resumed[0]
    assert first[2] == f"resuming: {int(first[0]):,} of {int(first[1]):,} tunes parsed before"
    assert first[0] >= parsed_before and first[1] == 2 * CHUNK_TUNES + 12
    assert not list(cache.glob("*.part*"))  # merged into the book's cache
    assert len(corpus.tunes) == 2 * CHUNK_TUNES + 12

    resumed_blob = prepared_path(root).read_bytes()
    user_dirs("fresh")  # the same corpus prepared in one go, elsewhere: the very same bytes
    assert not prepared_path(root).exists()
    prepare_corpus(root, workers=1)
    assert prepared_path(root).read_bytes() == resumed_blob


def test_progress_says_how_long_is_left():
    assert remaining_text(50, 100, 25, 10.0) == "about 0:20 left"
    assert remaining_text(40, 13000, 40, 1.0) == "about 5:24 left"
    assert remaining_text(0, 100, 0, 0.0) == "" and remaining_text(100, 100, 50, 5.0) == ""


def test_header_fields_are_kept_and_an_old_prepared_corpus_is_rebuilt(tmp_path, user_dirs):
    root = corpus_folder(tmp_path / "tunes")
    corpus = prepare_corpus(root, workers=1)
    silver = next(t for t in corpus.tunes if t.title == "The Silver Spear")
    assert dict(silver.melody.metadata) == {"rhythm": "reel", "composer": "Trad.", "origin": "Ireland"}
    assert dict(next(t for t in corpus.tunes if t.title == "The Kesh").melody.metadata) == {"rhythm": "jig"}

    # A corpus prepared by an older parser: another fingerprint, and records without fields.
    path = prepared_path(root)
    payload = json.loads(gzip.decompress(path.read_bytes()))
    for tune in payload["tunes"]:
        tune["melody"].pop("fields", None)
    payload["fingerprint"] = "0123456789abcdef"
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    old = melody_from_json(payload["tunes"][0]["melody"])  # read gracefully: no fields, same music
    assert old.metadata == () and old.notes
    again = load_corpus(root)
    assert again.fingerprint == corpus.fingerprint  # rebuilt (from the parse cache)
    assert dict(next(t for t in again.tunes if t.title == "The Silver Spear").melody.metadata)["rhythm"] == "reel"


def test_a_tune_over_the_read_budget_is_reported_and_its_batch_mates_still_parse(tmp_path, user_dirs,
                                                                                 monkeypatch):
    monkeypatch.setenv("MUSICGEN_READ_SECONDS", "0.3")  # the worker processes inherit it
    long_tune = "X:3\nT:Endless\nM:4/4\nL:1/8\nK:D\n" + "FA A2 BAFA|dfed BddB|" * 400 + "\n"
    root = tmp_path / "tunes"
    root.mkdir()
    air = "X:4\nT:Short Air\nM:3/4\nL:1/4\nK:G\nGAB|c2B|A3|G3|]\n"
    (root / "book.abc").write_text("\n".join([REEL, JIG.replace("X:1", "X:2"), long_tune, air]),
                                   encoding="utf-8")
    corpus = prepare_corpus(root, workers=1)
    assert sorted(t.title for t in corpus.tunes) == ["Short Air", "The Kesh", "The Silver Spear"]
    [failed] = corpus.report["failed_tunes"]
    assert failed["title"] == "Endless" and "too complex to read" in failed["reason"]
    assert "0.3 s limit" in failed["reason"]


def test_the_round_trip_check_runs_in_the_workers_and_is_redone_for_another_vocabulary(tmp_path, user_dirs):
    from musicgen.corpus.tunes import vocabulary_key

    root = corpus_folder(tmp_path / "tunes")
    first = prepare_corpus(root, workers=1)
    cached = sorted((tmp_path / "first" / "cache" / "parsed").glob("*.json.gz"))
    records = [r for path in cached for r in json.loads(gzip.decompress(path.read_bytes()))]
    assert records and all(r["round_trip"] == [vocabulary_key(), None] for r in records)

    for path in cached:  # verdicts from another vocabulary: not trusted, checked again
        recs = json.loads(gzip.decompress(path.read_bytes()))
        for r in recs:
            r["round_trip"] = ["another-vocab", "notes differ after encode/decode"]
        path.write_bytes(gzip.compress(json.dumps(recs).encode()))
    prepared_path(root).unlink()
    again = prepare_corpus(root, workers=1)
    assert again.report["not_representable"] == 0 and len(again.tunes) == len(first.tunes)
