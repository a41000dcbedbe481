"""Tunes as written: each scored tune read again from its source with repeats NOT expanded.

A corpus holds tunes as played (repeats expanded, `io.abc_reader`). Bits per WRITTEN note score
each written note once, which is what peers that model ABC text report. Each tune's source
(``file.abc#N`` in the corpus) is parsed again with ``expand_repeats=False``, in worker processes,
and the result is cached in the user cache folder under the corpus fingerprint and the tunes asked
for, so only the first evaluation pays for the parse. Sources that are not ABC (MIDI, MusicXML)
have no written repeats to keep: their played melody is used as it is.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn, check_stop, report

__all__ = ["source_paths", "written_melodies"]

_WRITTEN_VERSION = 1  # bump when what is cached changes
_CHUNK = 20  # tunes per worker job


def source_paths(name_or_dir: str | os.PathLike) -> dict[str, Path]:
    """The corpus's source files by the relative name a `CorpusTune.source` starts with."""
    from musicgen.corpus.sources import folder_sources, folk_sources

    if str(name_or_dir) == "folk":
        sources = folk_sources()
    else:
        sources = folder_sources(Path(name_or_dir).expanduser().resolve())
    return {s.relative: s.path for s in sources}


def _parse_written(jobs: list[tuple[str, str, int]]) -> list[dict | None]:
    """(path, relative name, 1-based tune) -> the tune as written, as JSON (None: failed)."""
    from musicgen.corpus.codec import melody_to_json
    from musicgen.errors import MusicGenError
    from musicgen.io.abc_reader import parse_abc_tune, split_tune_book, tune_name
    from musicgen.io.sniff import decode_text

    out: list[dict | None] = []
    books: dict[str, list] = {}
    for path, relative, index in jobs:
        if path not in books:
            books[path] = split_tune_book(decode_text(Path(path).read_bytes()))
        tunes = books[path]
        try:
            tune = tunes[index - 1]
            melody, _ = parse_abc_tune(tune, name=tune_name(relative, tune.info, len(tunes)),
                                       expand_repeats=False)
            out.append(melody_to_json(melody))
        except (MusicGenError, IndexError):
            out.append(None)
    return out


def _cache_file(fingerprint: str, sources: Sequence[str]) -> Path:
    from musicgen.corpus.sources import PARSER_VERSION
    from musicgen.userdirs import cache_dir

    h = hashlib.sha256(f"{fingerprint}-parser{PARSER_VERSION}-written{_WRITTEN_VERSION}\n".encode())
    h.update("\n".join(sources).encode())
    return cache_dir() / "written" / f"{h.hexdigest()[:24]}.json.gz"


def written_melodies(
    tunes: Sequence[Any],
    paths: dict[str, Path],
    *,
    fingerprint: str,
    workers: int = 2,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody | None]:
    """Each tune (a `CorpusTune`) as written; None where its source is missing or fails to parse."""
    from musicgen.corpus.codec import melody_from_json

    cache = _cache_file(fingerprint, [t.source for t in tunes])
    records = _read_cache(cache)
    if records is None or len(records) != len(tunes):
        records = _parse_all(tunes, paths, workers, on_progress, should_stop)
        _write_cache(cache, records)
    out: list[Melody | None] = []
    for tune, record in zip(tunes, records):
        if record == "played":
            out.append(tune.melody)
        else:
            out.append(None if record is None else melody_from_json(record))
    return out


def _parse_all(tunes, paths, workers, on_progress, should_stop) -> list:
    records: list = [None] * len(tunes)
    jobs: list[tuple[int, tuple[str, str, int]]] = []
    for i, tune in enumerate(tunes):
        relative, _, number = tune.source.rpartition("#")
        path = paths.get(relative)
        if path is None or not number.isdigit():
            continue
        if path.suffix.lower() != ".abc":
            records[i] = "played"
            continue
        jobs.append((i, (str(path), relative, int(number))))
    chunks = [jobs[k:k + _CHUNK] for k in range(0, len(jobs), _CHUNK)]
    report(on_progress, 0, len(jobs), "reading the tunes as written")
    if not chunks:
        return records
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    done = 0
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(chunks))), mp_context=ctx) as pool:
        results = pool.map(_parse_written, [[job for _, job in chunk] for chunk in chunks])
        for chunk, parsed in zip(chunks, results):
            check_stop(should_stop, "evaluation")
            for (i, _), record in zip(chunk, parsed):
                records[i] = record
            done += len(chunk)
            report(on_progress, done, len(jobs), "reading the tunes as written")
    return records


def _read_cache(path: Path) -> list | None:
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError):
        return None
    return data if isinstance(data, list) else None


def _write_cache(path: Path, records: list) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = json.dumps(records, sort_keys=True, separators=(",", ":")).encode()
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(gzip.compress(raw, mtime=0))
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is an optimisation
