"""Corpus speed: cold parse throughput, warm (cached) prepare, and loading the prepared folk corpus.

Prints JSON lines. Cold parsing uses a fresh cache folder; by default it parses a sample of the folk
sources (one file of each collection) so the benchmark finishes in a minute or two; `--full` parses
all of them. Warm prepare and load use the user's real cache and prepared corpus (the first run of
`musicgen prepare` fills them).

    .venv/bin/python benchmarks/bench_corpus.py [--full] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def cold_parse(full: bool, workers: int) -> dict:
    from musicgen.corpus_parse import folk_sources, parse_sources

    sources = folk_sources()
    if not full:
        seen, sample = set(), []
        for src in sources:
            if src.collection not in seen:
                seen.add(src.collection)
                sample.append(src)
        sources = sample
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        records = parse_sources(sources, Path(cache), workers=workers)
        seconds = time.perf_counter() - start
    tunes = sum(len(r) for r in records.values())
    return {"bench": "corpus_cold_parse", "files": len(sources), "tunes": tunes, "workers": workers,
            "seconds": round(seconds, 2), "tunes_per_s": round(tunes / seconds, 1)}


def warm_prepare(workers: int) -> dict:
    from musicgen.corpus import prepare_corpus

    prepare_corpus("folk", workers=workers)  # fills the cache if this machine has none yet
    start = time.perf_counter()
    corpus = prepare_corpus("folk", workers=workers)
    return {"bench": "corpus_warm_prepare", "tunes": len(corpus.tunes),
            "seconds": round(time.perf_counter() - start, 2)}


def load() -> dict:
    from musicgen.corpus import load_corpus

    start = time.perf_counter()
    corpus = load_corpus("folk")
    return {"bench": "corpus_load", "tunes": len(corpus.tunes),
            "seconds": round(time.perf_counter() - start, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="cold-parse every folk file")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    machine = {"cpu_count": os.cpu_count(), "machine": platform.machine()}
    for result in (cold_parse(args.full, args.workers), warm_prepare(args.workers), load()):
        print(json.dumps({**result, **machine}), flush=True)


if __name__ == "__main__":
    main()
