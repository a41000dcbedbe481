"""Corpus speed: where a tune's parse goes, a cold and a warm `prepare`, and loading the prepared corpus.

Prints JSON lines, each with the machine's load average before and after (a cold run on a busy
machine is slower than on a quiet one: the figures say which it was):

- ``corpus_stages``: one core, in this process, CPU ms per tune for each stage of a tune's parse
  (music21 tokenising the ABC, music21 building the stream, our stream-to-melody conversion, our
  checks), on a sample of tunes from every collection; and what a forked read budget per tune
  would add (the old way: one child per tune).
- ``corpus_cold_prepare``: `prepare_corpus` from an empty cache: wall seconds, the CPU seconds of
  all its processes, and its stages (parse, check and split, write).
- ``corpus_warm_prepare``: the same again, every file's parse now cached.
- ``corpus_load``: `load_corpus` of the prepared file.

The data and cache folders are temporary ones (MUSICGEN_DATA_DIR / MUSICGEN_CACHE_DIR), so the
user's prepared corpus and parse cache are never read or touched. By default the folk sources are
sampled (the first file of each collection, 40 of Ryan's one-tune files: a minute or two);
``--full`` prepares all of them (the figure the 5-minute target is about).

`--smoke` (seconds; the test suite runs it) measures the same on a small folder of generated ABC
tunes, on one worker.

    .venv/bin/python benchmarks/bench_corpus.py [--full] [--workers N] [--stage-tunes N] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (parse workers, forked reads)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def folk_sample(full: bool) -> list:
    """The folk sources: all of them, or the first file of each collection (40 of Ryan's)."""
    from musicgen.corpus import folk_sources

    sources = folk_sources()
    if full:
        return sources
    taken: dict[str, int] = {}
    sample = []
    for src in sources:
        limit = 40 if src.collection == "ryansMammoth" else 1
        if taken.get(src.collection, 0) < limit:
            taken[src.collection] = taken.get(src.collection, 0) + 1
            sample.append(src)
    return sample


def stage_sample(sample: list) -> list:
    """For the stage times: the first file of each collection, and 10 of Ryan's one-tune files."""
    taken: dict[str, int] = {}
    out = []
    for src in sample:
        if taken.get(src.collection, 0) < (10 if src.collection == "ryansMammoth" else 1):
            taken[src.collection] = taken.get(src.collection, 0) + 1
            out.append(src)
    return out


def sample_folder(sources: list, folder: Path) -> Path:
    """The sampled sources copied into a folder corpus (one sub-folder per collection)."""
    for src in sources:
        target = folder / src.collection / Path(src.relative).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.path.read_bytes())
    return folder


def stage_times(sources: list, tunes_per_source: int) -> dict:
    """CPU ms per tune of each stage of a tune's parse, inline on one core (as in a parse child)."""
    from musicgen.io import abc_reader, m21_convert
    from musicgen.io.abc_limits import check_abc_numbers, lean_music21
    from musicgen.io.abc_fields import with_default_fields
    from musicgen.io.bounded import run_bounded, warm_imports
    from musicgen.io.sniff import decode_text
    from musicgen.io.types import ReportBuilder
    from music21 import abcFormat
    from music21.abcFormat import translate

    warm_imports("music21", "music21.abcFormat.translate", "musicgen.io.m21_convert",
                 "musicgen.io.repeats")
    tunes = []
    for src in sources:
        if src.path.suffix.lower() == ".abc":
            tunes += abc_reader.split_tune_book(decode_text(src.path.read_bytes()))[:tunes_per_source]
    stages = {"checks_and_fields": 0.0, "music21_tokenise": 0.0, "music21_build_stream": 0.0,
              "to_melody": 0.0}
    parsed = 0
    with lean_music21():
        for tune in tunes:
            try:
                t0 = time.process_time()
                check_abc_numbers(tune.text, "x")
                text = with_default_fields(abc_reader._inline_fields_to_lines(tune.text), ReportBuilder())
                t1 = time.process_time()
                handler = abcFormat.ABCFile().readstr(text)
                t2 = time.process_time()
                score = translate.abcToStreamScore(handler)
                t3 = time.process_time()
                m21_convert.score_to_melody(score, name="x", track=None, title="", report=ReportBuilder())
                t4 = time.process_time()
            except Exception:  # noqa: BLE001 - a tune the corpus counts as unreadable: not timed
                continue
            parsed += 1
            for key, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                stages[key] += seconds
    inline = cpu_seconds()
    for tune in tunes[:40]:  # the old way: a forked, budgeted child per tune
        try:
            run_bounded("x", abc_reader._parse_abc_tune, tune, "x", None, True)
        except Exception:  # noqa: BLE001
            pass
    forked_ms = 1000 * (cpu_seconds() - inline) / max(1, min(40, len(tunes)))
    inline_ms = 1000 * sum(stages.values()) / max(1, parsed)
    return {"bench": "corpus_stages", "tunes": parsed,
            "cpu_ms_per_tune": {k: round(1000 * v / max(1, parsed), 2) for k, v in stages.items()},
            "inline_cpu_ms_per_tune": round(inline_ms, 2),
            "forked_per_tune_cpu_ms": round(forked_ms, 2)}


def prepare(name: str, workers: int, bench: str) -> dict:
    """`prepare_corpus` timed: wall and CPU seconds, and its stages from its progress messages."""
    from musicgen.corpus import prepare_corpus

    marks: dict[str, float] = {}

    def progress(done: float, total: float, message: str) -> None:
        if message.startswith("checking"):
            marks.setdefault("checking", time.perf_counter())

    load = load_average()
    cpu, start = cpu_seconds(), time.perf_counter()
    corpus = prepare_corpus(name, workers=workers, on_progress=progress)
    end = time.perf_counter()
    checking = marks.get("checking", end)
    return {"bench": bench, "tunes": len(corpus.tunes), "workers": workers,
            "seconds": round(end - start, 2), "cpu_seconds": round(cpu_seconds() - cpu, 2),
            "parse_seconds": round(checking - start, 2), "check_split_write_seconds": round(end - checking, 2),
            "load_average_before": load, "load_average_after": load_average()}


def load(name: str) -> dict:
    from musicgen.corpus import load_corpus

    start = time.perf_counter()
    corpus = load_corpus(name)
    return {"bench": "corpus_load", "tunes": len(corpus.tunes),
            "seconds": round(time.perf_counter() - start, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="prepare every folk file (cold)")
    parser.add_argument("--workers", type=int, default=None,
                        help="parse processes (default: all cores; --smoke: 1)")
    parser.add_argument("--stage-tunes", type=int, default=30,
                        help="tunes of each sampled file timed stage by stage (default 30)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds on a tiny generated corpus")
    args = parser.parse_args()
    machine = {"cpu_count": os.cpu_count(), "machine": platform.machine()}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MUSICGEN_DATA_DIR"] = str(Path(tmp) / "data")  # never the user's folders
        os.environ["MUSICGEN_CACHE_DIR"] = str(Path(tmp) / "cache")
        if args.smoke:
            from musicgen.corpus import folder_sources
            from tests.support import isolated_smoke_corpus

            name = str(isolated_smoke_corpus(Path(tmp), count=12))
            stage_sources, workers, extra = folder_sources(Path(name)), args.workers or 1, {"smoke": True}
        else:
            sample = folk_sample(args.full)
            name = "folk" if args.full else str(sample_folder(sample, Path(tmp) / "sample"))
            stage_sources = stage_sample(folk_sample(False))
            workers, extra = args.workers or os.cpu_count() or 1, {"full": args.full}
        stage_tunes = 3 if args.smoke else args.stage_tunes
        benches = (lambda: stage_times(stage_sources, stage_tunes),
                   lambda: prepare(name, workers, "corpus_cold_prepare"),
                   lambda: prepare(name, workers, "corpus_warm_prepare"),
                   lambda: load(name))
        for bench in benches:
            print(json.dumps({**bench(), **machine, **extra}), flush=True)


if __name__ == "__main__":
    main()
