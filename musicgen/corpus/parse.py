"""Parsing a corpus's source files in parallel, with a per-file cache keyed by content.

Each source file (an ABC tune book, or one MIDI/MusicXML file) becomes a list of records:
{"index", "melody"} for a tune that parsed, {"index", "title", "error"} for one that did not.
Results are cached under the hash of the file's bytes and the parser version.
"""

from __future__ import annotations

import gzip
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from musicgen.corpus.codec import melody_to_json
from musicgen.corpus.sources import Source
from musicgen.errors import Cancelled, MusicGenError
from musicgen.progress import ProgressFn, StopFn, report

__all__ = ["parse_sources"]

CHUNK_TUNES = 25


# --- work done in the worker processes --------------------------------------------------------------
def _parse_abc_chunk(relative: str, tunes: list, count: int) -> list[dict]:
    from musicgen.io.abc_reader import parse_abc_tune, tune_name

    out = []
    for tune in tunes:
        name = tune_name(relative, tune.info, count)
        try:
            melody, report = parse_abc_tune(tune, name=name)
            out.append({"index": tune.info.index, "melody": melody_to_json(melody),
                        "report": _report_counts(report)})
        except MusicGenError as exc:
            out.append({"index": tune.info.index, "title": tune.info.title, "error": str(exc)})
        except Exception as exc:  # a reader bug must not end a 13,000-tune run: count it instead
            out.append({"index": tune.info.index, "title": tune.info.title,
                        "error": f"Cannot read {name}: unexpected {type(exc).__name__}: {exc}"[:300]})
    return out


def _parse_whole_file(path: str, relative: str) -> list[dict]:
    from musicgen.io import read_melody_with_report

    try:
        melody, report = read_melody_with_report(path)
        return [{"index": 1, "melody": melody_to_json(melody), "report": _report_counts(report)}]
    except MusicGenError as exc:
        return [{"index": 1, "title": Path(path).stem, "error": str(exc).replace(path, relative)}]


def _report_counts(report: object) -> dict:
    keys = ("chords_reduced", "grace_notes_dropped", "ties_merged", "quantized_notes", "voices_dropped")
    counts = {k: int(getattr(report, k, 0) or 0) for k in keys}
    counts["repeats_expanded"] = bool(getattr(report, "repeats_expanded", False))
    return counts


# --- orchestration --------------------------------------------------------------------------------
def _cache_path(cache: Path, digest: str) -> Path:
    return cache / "parsed" / f"{digest}.json.gz"


def parse_sources(
    sources: list[Source],
    cache: Path,
    *,
    workers: int | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, list[dict]]:
    """Records per source (keyed by `relative`), parsing only files whose cache is missing."""
    from musicgen.io.abc_reader import split_tune_book
    from musicgen.io.sniff import decode_text
    from musicgen.io.atomic import atomic_write_bytes

    results: dict[str, list[dict]] = {}
    jobs: list[tuple[Source, str, list, int]] = []  # (source, digest, tunes, book size); [] = whole file
    for src in sources:
        digest = src.digest()
        cached = _cache_path(cache, digest)
        if cached.exists():
            try:
                results[src.relative] = json.loads(gzip.decompress(cached.read_bytes()))
                continue
            except (OSError, ValueError, EOFError):
                pass  # a damaged cache entry is simply parsed again
        if src.path.suffix.lower() == ".abc":
            tunes = split_tune_book(decode_text(src.path.read_bytes()))
            for i in range(0, len(tunes), CHUNK_TUNES):
                jobs.append((src, digest, tunes[i:i + CHUNK_TUNES], len(tunes)))
            if not tunes:
                results[src.relative] = []
        else:
            jobs.append((src, digest, [], 1))
    total = sum(max(len(j[2]), 1) for j in jobs)
    done = 0
    report(on_progress, 0, total, "parsing tunes")
    pending: dict[str, list[dict]] = {}
    chunks_left: dict[str, int] = {}
    for src, _, _, _ in jobs:
        chunks_left[src.relative] = chunks_left.get(src.relative, 0) + 1
    workers = workers or os.cpu_count() or 1
    if jobs:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # safe from a GUI worker thread, unlike fork
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            futures = {}
            for src, digest, chunk, count in jobs:
                if chunk:
                    fut = pool.submit(_parse_abc_chunk, src.relative, chunk, count)
                else:
                    fut = pool.submit(_parse_whole_file, str(src.path), src.relative)
                futures[fut] = (src, digest, max(len(chunk), 1))
            for fut in as_completed(futures):
                src, digest, size = futures[fut]
                if should_stop is not None and should_stop():
                    for other in futures:
                        other.cancel()
                    raise Cancelled("corpus preparation was stopped")
                pending.setdefault(src.relative, []).extend(fut.result())
                chunks_left[src.relative] -= 1
                if chunks_left[src.relative] == 0:
                    records = sorted(pending.pop(src.relative), key=lambda r: r["index"])
                    results[src.relative] = records
                    raw = json.dumps(records, sort_keys=True, separators=(",", ":")).encode()
                    _cache_path(cache, digest).parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_bytes(_cache_path(cache, digest), gzip.compress(raw, mtime=0))
                done += size
                report(on_progress, done, total, "parsing tunes")
    return results
