"""`musicgen prepare`: parse and cache a corpus, and report its figures."""

from __future__ import annotations

import argparse
import json
import sys
import time

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="folk", help="'folk' (default) or a folder of your tunes")
    parser.add_argument("--out", help="also copy the prepared corpus file here (.json.gz)")
    parser.add_argument("--stats", action="store_true", help="print the corpus figures in full")
    parser.add_argument("--split-version", type=int, choices=(1, 2), default=1,
                        help="1: split by content (the shipped models' split, default); 2: keep "
                             "each family of variants in one split")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--workers", type=int, default=None, help="parser processes (default: all cores)")


class _Progress:
    """Progress on stderr: a bar on a terminal, else a line when something new is said (resuming,
    the first estimate of the time left) and every `every_s` seconds; nothing with --json."""

    def __init__(self, enabled: bool, every_s: float = 10.0) -> None:
        from tqdm import tqdm

        self.terminal = enabled and sys.stderr.isatty()
        self.lines = enabled and not self.terminal
        self.bar = tqdm(total=0, unit="tune", desc="parsing", disable=not self.terminal)
        self.every_s, self.last_s, self.said = every_s, -1e9, set()

    def __call__(self, done: float, total: float, message: str) -> None:
        if self.terminal:
            self.bar.total, self.bar.n = total, done
            self.bar.set_description(message or "parsing", refresh=True)
            return
        if not self.lines:
            return
        kind = message.split(",")[0].split(":")[0]
        new = kind not in self.said or ("left" in message and "left" not in self.said)
        now = time.monotonic()
        if new or now - self.last_s >= self.every_s:
            self.said.update({kind, "left"} if "left" in message else {kind})
            self.last_s = now
            counts = f": {int(done):,} of {int(total):,} tunes" if total and message.startswith("parsing") else ""
            head, _, rest = message.partition(", ")
            print(f"{head}{counts}{', ' + rest if rest else ''}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def run(args: argparse.Namespace) -> int:
    from musicgen.corpus import prepare_corpus, prepared_path
    from musicgen.io.atomic import atomic_write_bytes

    start = time.perf_counter()
    progress = _Progress(enabled=not args.json)
    try:
        corpus = prepare_corpus(args.corpus, workers=args.workers, on_progress=progress,
                                split_version=args.split_version)
    except KeyboardInterrupt:
        progress.close()
        print("musicgen: stopped; the tunes parsed so far are kept: run the same command again "
              "to resume", file=sys.stderr)
        return 130
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    path = prepared_path(args.corpus, args.split_version)
    if args.out:
        atomic_write_bytes(args.out, path.read_bytes())
    report = dict(corpus.report)
    if args.json:
        print(json.dumps({"name": corpus.name, "fingerprint": corpus.fingerprint, "path": str(path),
                          "seconds": round(seconds, 2), **report}))
        return 0
    print(_summary(corpus.name, corpus.fingerprint, str(path), seconds, report, full=args.stats))
    return 0


def _summary(name: str, fingerprint: str, path: str, seconds: float, r: dict, *, full: bool) -> str:
    lines = [
        f"corpus {name} (fingerprint {fingerprint}) prepared in {seconds:.1f} s -> {path}",
        f"tunes {r['tunes']}  notes {r['notes']}  splits {_fmt(r['splits'])}",
        f"collections {_fmt(r['collections'])}",
        f"dropped: {r['failed']} unreadable, {r['not_representable']} not representable "
        f"(round trip {100 * r['round_trip_share']:.2f}% of parsed tunes)",
        f"reductions {_fmt(r['reductions'])}",
    ]
    if full:
        lines += [
            f"meters {_fmt(r['meters'])}",
            f"modes {_fmt(r['modes'])}",
            f"tonics {_fmt(r['tonics'])}",
            f"durations (ticks: count, 12 per quarter) {_fmt(r['durations_ticks'])}",
            f"notes off the eighth-note grid (triplets, sixteenths): {r['durations_off_eighth_grid']}",
        ]
        dropped = r["failed_tunes"] + r["not_representable_tunes"]
        if not dropped:  # no empty headings
            return "\n".join(lines)
        reasons: dict[str, int] = {}
        for item in dropped:
            key = item["reason"]
            if key.startswith("Cannot read "):
                key = key.split(": ", 1)[-1]
            key = key.split(" (")[0][:70]
            reasons[key] = reasons.get(key, 0) + 1
        lines.append("dropped tunes by reason:")
        lines += [f"  {n:5d}  {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:25]]
        lines.append("dropped tunes:")
        lines += [f"  {i['source']}  {i['title']}: {i['reason']}" for i in dropped[:200]]
    return "\n".join(lines)


def _fmt(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())
