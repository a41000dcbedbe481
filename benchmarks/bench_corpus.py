"""Corpus speed: cold parse throughput, warm (cached) prepare, and loading the prepared folk corpus.

Prints JSON lines. Cold parsing uses a fresh cache folder; by default it parses a sample of the folk
sources (one file of each collection) so the benchmark finishes in a minute or two; `--full` parses
all of them. Warm prepare and load use the user's real cache and prepared corpus (the first run of
`musicgen prepare` fills them).

`--smoke` (seconds; the test suite runs it) measures the same three figures on a small folder of
generated ABC tunes, with the data and cache folders in a temporary folder, on one worker.

    .venv/bin/python benchmarks/bench_corpus.py [--full] [--workers N] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def folk_sample(full: bool) -> list:
    """The folk sources: all of them, or the first file of each collection."""
    from musicgen.corpus import folk_sources

    sources = folk_sources()
    if full:
        return sources
    seen, sample = set(), []
    for src in sources:
        if src.collection not in seen:
            seen.add(src.collection)
            sample.append(src)
    return sample


def cold_parse(sources: list, workers: int) -> dict:
    from musicgen.corpus.parse import parse_sources

    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        records = parse_sources(sources, Path(cache), workers=workers)
        seconds = time.perf_counter() - start
    tunes = sum(len(r) for r in records.values())
    return {"bench": "corpus_cold_parse", "files": len(sources), "tunes": tunes, "workers": workers,
            "seconds": round(seconds, 2), "tunes_per_s": round(tunes / seconds, 1)}


def warm_prepare(name: str, workers: int) -> dict:
    from musicgen.corpus import prepare_corpus

    prepare_corpus(name, workers=workers)  # fills the cache if this machine has none yet
    start = time.perf_counter()
    corpus = prepare_corpus(name, workers=workers)
    return {"bench": "corpus_warm_prepare", "tunes": len(corpus.tunes),
            "seconds": round(time.perf_counter() - start, 2)}


def load(name: str) -> dict:
    from musicgen.corpus import load_corpus

    start = time.perf_counter()
    corpus = load_corpus(name)
    return {"bench": "corpus_load", "tunes": len(corpus.tunes),
            "seconds": round(time.perf_counter() - start, 2)}


def smoke_corpus(folder: Path) -> Path:
    """--smoke: user folders inside `folder` and a small folder corpus of generated ABC tunes."""
    from tests.support import isolated_smoke_corpus

    return isolated_smoke_corpus(folder, count=12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="cold-parse every folk file")
    parser.add_argument("--workers", type=int, default=None,
                        help="parse processes (default: all cores; --smoke: 1)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds on a tiny generated corpus")
    args = parser.parse_args()
    machine = {"cpu_count": os.cpu_count(), "machine": platform.machine()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.smoke:
            from musicgen.corpus import folder_sources

            name = str(smoke_corpus(Path(tmp)))
            sources, workers, extra = folder_sources(Path(name)), args.workers or 1, {"smoke": True}
        else:
            name, sources = "folk", folk_sample(args.full)
            workers, extra = args.workers or os.cpu_count() or 1, {}
        for bench in (lambda: cold_parse(sources, workers), lambda: warm_prepare(name, workers),
                      lambda: load(name)):
            print(json.dumps({**bench(), **machine, **extra}), flush=True)


if __name__ == "__main__":
    main()
