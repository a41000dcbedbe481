"""Parsing a corpus's source files in parallel, with a per-file cache keyed by content, resumable.

Each source file (an ABC tune book, or one MIDI/MusicXML file) becomes a list of records:
{"index", "melody"} for a tune that parsed, {"index", "title", "error"} for one that did not.
Results are cached under the hash of the file's bytes and the parser version.

Where the time goes, and what this module does about it (measured on the folk corpus, one core,
CPU time per tune; see `benchmarks/bench_corpus.py` and the README):

- music21's ABC parser (tokenising, building and re-barring the stream) is about two thirds of a
  tune's parse, our conversion of the stream to a `Melody` (ties, repeats, quantising) the rest:
  about 25-45 ms a tune together.
- The read budget (`musicgen.io.bounded`) forks a child per read. For one file that costs nothing
  a user notices, but per tune it doubled the corpus's CPU time (fork, and the copy-on-write
  faults of a child that touches music21's objects: 15-35 ms a tune). Here a whole batch of tunes
  is parsed in ONE bounded child, each tune under its own CPU timer (`_tune_cpu_limit`), so a
  hostile tune is still stopped after the budget's seconds and reported as too complex; a batch
  whose child dies anyway (memory, a crash) is parsed again one child per tune, as before.
- Small files (Ryan's Mammoth: 1,059 files of one tune) are batched together, so a batch is
  always about `CHUNK_TUNES` tunes, and only plain text crosses between processes.

Resuming: each batch's tunes are cached as soon as they are parsed (a part file per piece of a
book, merged into the book's cache when its last piece is in), so a preparation that was stopped,
or whose machine went to sleep, starts again where it was: `on_progress` then says how many tunes
were already parsed, and the remaining time counts only what is left.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from musicgen.corpus.codec import melody_from_json, melody_to_json
from musicgen.corpus.sources import Source
from musicgen.errors import Cancelled, MusicGenError
from musicgen.progress import ProgressFn, StopFn, format_duration, report

__all__ = ["parse_sources", "remaining_text", "CHUNK_TUNES"]

CHUNK_TUNES = 25  # tunes per piece of a book, and about per job: small enough to resume, cheap to send
_WARM = ("music21", "music21.abcFormat.translate", "musicgen.io.m21_convert", "musicgen.io.repeats")


# --- work done in the worker processes --------------------------------------------------------------
def _parse_abc_chunk(relative: str, tunes: list, count: int) -> list[dict]:
    """Parse tunes one by one (each under the read budget when not already inside a child)."""
    from musicgen.io.abc_reader import parse_abc_tune, tune_name

    out = []
    for tune in tunes:
        name = tune_name(relative, tune.info, count)
        try:
            with _tune_cpu_limit(name):
                melody, report = parse_abc_tune(tune, name=name)
            out.append(_record(tune.info.index, melody, report))
        except MusicGenError as exc:
            out.append({"index": tune.info.index, "title": tune.info.title, "error": str(exc)})
        except MemoryError:
            out.append({"index": tune.info.index, "title": tune.info.title,
                        "error": f"Cannot read {name}: it is too complex to read (parsing needed "
                                 "more memory than the read budget allows)."})
        except Exception as exc:  # a reader bug must not end a 13,000-tune run: count it instead
            out.append({"index": tune.info.index, "title": tune.info.title,
                        "error": f"Cannot read {name}: unexpected {type(exc).__name__}: {exc}"[:300]})
    return out


_frozen = False


def _freeze_heap() -> None:
    """Once per worker, before its first fork: move music21's objects out of the collector's reach
    (`gc.freeze`), so a child's garbage collections do not write to every inherited object and
    copy the whole heap page by page (copy-on-write). It saved 13% of the CPU time of a parse."""
    global _frozen
    if not _frozen:
        import gc

        gc.collect()
        gc.freeze()
        _frozen = True


def _parse_pieces_inline(pieces: list[tuple[str, list, int]]) -> list[list[dict]]:
    return [_parse_abc_chunk(relative, tunes, count) for relative, tunes, count in pieces]


def _parse_abc_pieces(pieces: list[tuple[str, list, int]]) -> list[list[dict]]:
    """Records per piece: all pieces parsed in one bounded child, each tune on its own CPU timer;
    if that child dies (memory, a crash, its backstop), one child per tune instead."""
    from musicgen.io.bounded import ReadBudget, default_budget, run_bounded, warm_imports

    warm_imports(*_WARM)
    _freeze_heap()
    budget = default_budget()
    tunes = sum(len(t) for _, t, _ in pieces)
    batch_budget = ReadBudget(budget.seconds * tunes + 5.0, budget.memory_mb)
    try:
        return run_bounded(pieces[0][0], _parse_pieces_inline, pieces, budget=batch_budget)
    except MusicGenError:
        return [_parse_abc_chunk(relative, t, count) for relative, t, count in pieces]


class _OverBudget(BaseException):
    """Raised by the CPU timer: a BaseException, so no parser's ``except Exception`` swallows it."""


@contextmanager
def _tune_cpu_limit(name: str) -> Iterator[None]:
    """Inside a bounded child: TooComplexError once this tune used the budget's CPU seconds (the
    timer fires again every half second, should a parser catch even a BaseException). Elsewhere,
    where each read runs in a child of its own: nothing."""
    from musicgen.io.bounded import TooComplexError, default_budget, in_bounded_child

    if not in_bounded_child() or not hasattr(signal, "setitimer"):
        yield
        return
    seconds = default_budget().seconds

    def over_budget(_signum: int, _frame: object) -> None:
        raise _OverBudget

    previous = signal.signal(signal.SIGPROF, over_budget)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.5)
    try:
        yield
    except _OverBudget:
        raise TooComplexError(f"Cannot read {name}: it is too complex to read (parsing took longer "
                              f"than the {seconds:g} s limit).", "time") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _parse_whole_file(path: str, relative: str) -> list[dict]:
    from musicgen.io import read_melody_with_report

    try:
        melody, report = read_melody_with_report(path)
        return [_record(1, melody, report)]
    except MusicGenError as exc:
        return [{"index": 1, "title": Path(path).stem, "error": str(exc).replace(path, relative)}]


def _record(index: int, melody: object, report: object) -> dict:
    """A parsed tune's record: its music as JSON, the reader's counts, and whether the vocabulary
    holds it exactly (checked here, in parallel and cached, on the melody as the corpus keeps it)."""
    from musicgen.corpus.tunes import round_trip_problem, vocabulary_key

    music = melody_to_json(melody)  # type: ignore[arg-type]
    return {"index": index, "melody": music, "report": _report_counts(report),
            "round_trip": [vocabulary_key(), round_trip_problem(melody_from_json(music))]}


def _report_counts(report: object) -> dict:
    keys = ("chords_reduced", "grace_notes_dropped", "ties_merged", "quantized_notes", "voices_dropped")
    counts = {k: int(getattr(report, k, 0) or 0) for k in keys}
    counts["repeats_expanded"] = bool(getattr(report, "repeats_expanded", False))
    return counts


# --- the cache ------------------------------------------------------------------------------------
def _cache_path(cache: Path, digest: str) -> Path:
    return cache / "parsed" / f"{digest}.json.gz"


def _part_path(cache: Path, digest: str, piece: int) -> Path:
    return cache / "parsed" / f"{digest}.part{piece}.json.gz"


def _read_cached(path: Path) -> list[dict] | None:
    if not path.exists():
        return None
    try:
        records = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError):
        return None  # a damaged cache entry is simply parsed again
    return records if isinstance(records, list) else None


def _write_cached(path: Path, records: list[dict]) -> None:
    from musicgen.io.atomic import atomic_write_bytes

    raw = json.dumps(records, sort_keys=True, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, gzip.compress(raw, mtime=0))


# --- orchestration --------------------------------------------------------------------------------
@dataclass
class _Book:
    """A source being parsed: its pieces' records as they come in."""

    source: Source
    digest: str
    pieces: dict[int, list[dict] | None]  # piece number -> records (None: not parsed yet)


@dataclass(frozen=True)
class _Piece:
    relative: str
    number: int  # the piece's number within its book
    tunes: list  # AbcTune; [] = the whole file is one job (MIDI, MusicXML)
    count: int  # tunes in the book


def remaining_text(done: int, total: int, parsed: int, seconds: float) -> str:
    """'about 3:10 left' from the tunes parsed so far in this run (`parsed` in `seconds`);
    '' until there is a rate to go by."""
    if parsed <= 0 or seconds <= 0 or done >= total:
        return ""
    return f"about {format_duration((total - done) * seconds / parsed)} left"


def _plan(sources: list[Source], cache: Path) -> tuple[dict[str, list[dict]], dict[str, _Book], list[_Piece]]:
    """Cached results, the books still to parse, and the pieces left to parse."""
    from musicgen.io.abc_reader import split_tune_book
    from musicgen.io.sniff import decode_text

    results: dict[str, list[dict]] = {}
    books: dict[str, _Book] = {}
    todo: list[_Piece] = []
    for src in sources:
        digest = src.digest()
        cached = _read_cached(_cache_path(cache, digest))
        if cached is not None:
            results[src.relative] = cached
            continue
        if src.path.suffix.lower() != ".abc":
            books[src.relative] = _Book(src, digest, {0: None})
            todo.append(_Piece(src.relative, 0, [], 1))
            continue
        tunes = split_tune_book(decode_text(src.path.read_bytes()))
        if not tunes:
            results[src.relative] = []
            continue
        chunks = [tunes[i:i + CHUNK_TUNES] for i in range(0, len(tunes), CHUNK_TUNES)]
        book = _Book(src, digest, {})
        for number, chunk in enumerate(chunks):
            part = _read_cached(_part_path(cache, digest, number)) if len(chunks) > 1 else None
            book.pieces[number] = part
            if part is None:
                todo.append(_Piece(src.relative, number, chunk, len(tunes)))
        books[src.relative] = book
    return results, books, todo


def _batches(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Pieces grouped into jobs of about CHUNK_TUNES tunes; a whole file is a job of its own."""
    jobs: list[list[_Piece]] = []
    current: list[_Piece] = []
    size = 0
    for piece in pieces:
        if not piece.tunes:
            jobs.append([piece])
            continue
        if current and size + len(piece.tunes) > CHUNK_TUNES:
            jobs.append(current)
            current, size = [], 0
        current.append(piece)
        size += len(piece.tunes)
    if current:
        jobs.append(current)
    return jobs


def _tune_count(piece: _Piece) -> int:
    return max(len(piece.tunes), 1)


def parse_sources(
    sources: list[Source],
    cache: Path,
    *,
    workers: int | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, list[dict]]:
    """Records per source (keyed by `relative`), parsing only what the cache does not hold.

    Stopping (`should_stop`) raises `Cancelled` after keeping what was parsed, so the next call
    resumes. Progress counts tunes; its message says how many were parsed before and how long
    the rest should take."""
    results, books, todo = _plan(sources, cache)
    _finish_books(books, cache, results)
    total = sum(len(r) for r in results.values()) + sum(
        sum(len(p) for p in b.pieces.values() if p is not None) for b in books.values()
    ) + sum(_tune_count(p) for p in todo)
    done = total - sum(_tune_count(p) for p in todo)
    resumed = f"resuming: {done:,} of {total:,} tunes parsed before" if 0 < done < total else ""
    report(on_progress, done, total, resumed or "parsing tunes")
    if not todo:
        return results
    jobs = _batches(todo)
    start, parsed = time.monotonic(), 0
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # safe from a GUI worker thread, unlike fork
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {_submit(pool, job, books): job for job in jobs}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = futures[fut]
                    records = fut.result()
                    per_piece = records if job[0].tunes else [records]
                    for piece, piece_records in zip(job, per_piece):
                        _piece_done(books[piece.relative], piece.number, piece_records, cache, results)
                    size = sum(_tune_count(p) for p in job)
                    done, parsed = done + size, parsed + size
                    left = remaining_text(done, total, parsed, time.monotonic() - start)
                    report(on_progress, done, total, f"parsing tunes, {left}" if left else "parsing tunes")
                if pending and should_stop is not None and should_stop():
                    for other in pending:
                        other.cancel()
                    raise Cancelled(f"corpus preparation was stopped ({done:,} of {total:,} tunes "
                                    "parsed are kept: it resumes from there)")
        finally:
            for other in pending:
                other.cancel()
    return results


def _submit(pool: ProcessPoolExecutor, job: list[_Piece], books: dict[str, _Book]) -> Future:
    if job[0].tunes:
        return pool.submit(_parse_abc_pieces, [(p.relative, p.tunes, p.count) for p in job])
    return pool.submit(_parse_whole_file, str(books[job[0].relative].source.path), job[0].relative)


def _piece_done(book: _Book, number: int, records: list[dict], cache: Path,
                results: dict[str, list[dict]]) -> None:
    """Keep a piece's records (a part file while its book is incomplete; the book's cache, and
    no parts, once the last piece is in)."""
    book.pieces[number] = records
    if any(p is None for p in book.pieces.values()):
        _write_cached(_part_path(cache, book.digest, number), records)
        return
    merged = sorted((r for p in book.pieces.values() for r in p or ()), key=lambda r: r["index"])
    results[book.source.relative] = merged
    _write_cached(_cache_path(cache, book.digest), merged)
    for other in book.pieces:
        _part_path(cache, book.digest, other).unlink(missing_ok=True)


def _finish_books(books: dict[str, _Book], cache: Path, results: dict[str, list[dict]]) -> None:
    """Books whose every piece was already in part files (a run stopped as it merged): merge."""
    for book in books.values():
        if book.pieces and all(p is not None for p in book.pieces.values()):
            last = max(book.pieces)
            _piece_done(book, last, book.pieces[last] or [], cache, results)
