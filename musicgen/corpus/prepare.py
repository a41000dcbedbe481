"""Prepare a corpus once (parse, split, report, write one gzip JSON file) and load it in seconds.

The prepared file is written byte for byte the same for the same sources (sorted keys, gzip mtime 0),
and its fingerprint changes whenever the tunes it holds could change: sources, parser, vocabulary,
split fractions, split version. `split_version` 2 (the family split, `tunes`) is prepared into a file
of its own (``folk-split2.json.gz``) with its own fingerprint; version 1 keeps today's file and
fingerprint, so the shipped models' test set does not move.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

from musicgen.corpus.codec import melody_from_json, melody_to_json, read_gzip_json, write_gzip_json
from musicgen.corpus.parse import parse_sources
from musicgen.corpus.sources import PARSER_VERSION, folder_sources, folk_sources
from musicgen.corpus.tunes import DEFAULT_SPLIT_VERSION, SPLIT_FRACTIONS, SPLIT_VERSIONS, Corpus, CorpusTune, \
    assign_splits, corpus_stats, round_trip_problem, split_keys, vocabulary_key
from musicgen.errors import CorpusError
from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn, check_stop
from musicgen.progress import report as report_progress
from musicgen.userdirs import cache_dir, data_dir

__all__ = ["FORMAT_VERSION", "prepared_path", "prepare_corpus", "load_corpus"]

FORMAT_VERSION = 1


def _corpus_id(name_or_dir: str | os.PathLike) -> tuple[str, Path | None]:
    if str(name_or_dir) == "folk":
        return "folk", None
    root = Path(name_or_dir).expanduser().resolve()
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return f"{root.name}-{digest}", root


def prepared_path(name_or_dir: str | os.PathLike = "folk", split_version: int = DEFAULT_SPLIT_VERSION) -> Path:
    """The prepared-corpus file for the folk corpus or a folder (one per split version)."""
    corpus_id, _ = _corpus_id(name_or_dir)
    suffix = "" if split_version == 1 else f"-split{split_version}"
    return data_dir() / "corpora" / f"{corpus_id}{suffix}.json.gz"


def _check_split_version(split_version: int) -> None:
    if split_version not in SPLIT_VERSIONS:
        raise CorpusError(f"unknown split version {split_version}: use 1 (by content) or 2 (by family)")


def prepare_corpus(
    name_or_dir: str | os.PathLike = "folk",
    *,
    workers: int | None = None,
    split_version: int = DEFAULT_SPLIT_VERSION,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Corpus:
    """Parse (or read from cache) every source, split, report, and write the prepared file."""
    _check_split_version(split_version)
    corpus_id, root = _corpus_id(name_or_dir)
    sources = folk_sources() if root is None else folder_sources(root)
    records = parse_sources(
        sources, cache_dir(), workers=workers, on_progress=on_progress, should_stop=should_stop
    )
    fingerprint = _fingerprint(sources, split_version)
    check_stop(should_stop, "corpus preparation")
    report_progress(on_progress, 0, 0, "checking and splitting the tunes")
    tunes, report = _build(corpus_id, sources, records, split_version)
    payload = {
        "format": FORMAT_VERSION, "name": corpus_id, "fingerprint": fingerprint, "report": report,
        "split_version": split_version,
        "tunes": [
            {"collection": t.collection, "source": t.source, "split": t.split,
             "melody": melody_to_json(t.melody)}
            for t in tunes
        ],
    }
    write_gzip_json(prepared_path(name_or_dir, split_version), payload)
    return Corpus(corpus_id, tuple(tunes), fingerprint, report)


def load_corpus(
    name_or_dir: str | os.PathLike = "folk",
    *,
    rebuild: bool = False,
    split_version: int = DEFAULT_SPLIT_VERSION,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Corpus:
    """The prepared corpus: loaded in seconds when prepared and current, else prepared first."""
    _check_split_version(split_version)
    path = prepared_path(name_or_dir, split_version)
    corpus_id, root = _corpus_id(name_or_dir)
    if not rebuild and path.exists():
        sources = folk_sources() if root is None else folder_sources(root)
        try:
            payload = read_gzip_json(path)
        except (OSError, ValueError, EOFError):
            payload = None  # damaged: prepare again
        if isinstance(payload, dict) and payload.get("format") == FORMAT_VERSION \
                and payload.get("fingerprint") == _fingerprint(sources, split_version):
            tunes = tuple(
                CorpusTune(t["melody"]["title"], t["collection"], t["source"], t["split"],
                           melody_from_json(t["melody"]))
                for t in payload["tunes"]
            )
            return Corpus(payload["name"], tunes, payload["fingerprint"], payload["report"])
    return prepare_corpus(name_or_dir, split_version=split_version, on_progress=on_progress,
                          should_stop=should_stop)


def _fingerprint(sources: list, split_version: int = DEFAULT_SPLIT_VERSION) -> str:
    """Changes whenever the tunes a corpus holds could change: sources, parser, vocabulary, split."""
    from musicgen.tokens import VOCAB

    h = hashlib.sha256(f"format-{FORMAT_VERSION}-parser-{PARSER_VERSION}-split-{SPLIT_FRACTIONS}".encode())
    if split_version != 1:  # version 1 hashes as it always has: today's fingerprints stay valid
        h.update(f"-split-version-{split_version}".encode())
    h.update("\n".join(VOCAB.tokens).encode())
    for src in sources:
        h.update(f"{src.collection}/{src.relative}:{src.digest()}\n".encode())
    return h.hexdigest()[:16]


def _build(
    corpus_id: str, sources: list, records: dict[str, list[dict]], split_version: int = DEFAULT_SPLIT_VERSION
) -> tuple[list[CorpusTune], dict]:
    """Tunes (parsed, representable) with splits, and the report of everything else."""
    vocab_key = vocabulary_key()
    kept: list[tuple[str, str, Melody]] = []
    failed: list[dict] = []
    not_representable: list[dict] = []
    reductions: Counter = Counter()
    for src in sources:
        for rec in records.get(src.relative, []):
            source = f"{src.relative}#{rec['index']}"
            if "error" in rec:
                failed.append({"source": source, "title": rec.get("title", ""), "reason": rec["error"]})
                continue
            melody = melody_from_json(rec["melody"])
            for k, v in rec.get("report", {}).items():
                reductions[k] += int(v)
            stored = rec.get("round_trip")  # checked in the parse worker, for this vocabulary?
            reason = stored[1] if isinstance(stored, list) and len(stored) == 2 \
                and stored[0] == vocab_key else round_trip_problem(melody)
            if reason:
                not_representable.append({"source": source, "title": melody.title, "reason": reason})
                continue
            kept.append((src.collection, source, melody))
    if not kept:
        raise CorpusError(f"no tune of the corpus '{corpus_id}' could be read ({len(failed)} failed)")
    splits = assign_splits(split_keys([m for _, _, m in kept], split_version), name=corpus_id)
    tunes = [CorpusTune(m.title, c, s, sp, m) for (c, s, m), sp in zip(kept, splits)]
    report = corpus_stats(tunes)
    report.update({
        "split_version": split_version,
        "sources": len(sources),
        "failed": len(failed), "failed_tunes": failed,
        "not_representable": len(not_representable), "not_representable_tunes": not_representable,
        "reductions": dict(sorted(reductions.items())),
    })
    parsed = len(kept) + len(not_representable)
    report["round_trip_share"] = round(len(kept) / parsed, 4) if parsed else 0.0
    return tunes, report
