"""`musicgen evaluate`: a checkpoint's bits per note next to the n-gram baseline, and music statistics."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_arguments", "run", "format_report"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", metavar="CKPT",
                        help="lstm, transformer, a model's name, or a checkpoint (.safetensors, .json or stem)")
    parser.add_argument("--corpus", default="folk", help="'folk' (default) or a folder of your tunes")
    parser.add_argument("--split", choices=("test", "val"), default="test", help="held-out tunes (default test)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--samples", type=int, default=100,
                        help="held-out seeds to continue for the music statistics (default 100)")
    parser.add_argument("--ngram-max-order", type=int, default=16,
                        help="highest n-gram order tried on the validation split (default 16)")
    parser.add_argument("--no-music", action="store_true", help="skip sampling (bits per note only)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from musicgen.checkpoint import read_checkpoint_metadata
    from musicgen.corpus import load_corpus
    from musicgen.errors import UsageError
    from musicgen.evaluate import evaluate_checkpoint
    from musicgen.library import resolve_checkpoint

    if args.ngram_max_order < 2:
        raise UsageError(f"--ngram-max-order must be 2 or more, got {args.ngram_max_order}")
    if args.samples < 0:
        raise UsageError(f"--samples must be 0 or more, got {args.samples}")
    checkpoint = resolve_checkpoint(args.checkpoint)
    read_checkpoint_metadata(checkpoint)  # a bad checkpoint fails before the corpus loads
    bar = tqdm(total=0, desc="evaluating", disable=args.json or not sys.stderr.isatty(), leave=False)

    def progress(done: int, total: int, message: str = "") -> None:
        bar.total, bar.n = total, done
        bar.set_description(message or "evaluating", refresh=True)

    try:
        corpus = load_corpus(args.corpus)
        report = evaluate_checkpoint(checkpoint, corpus, args.split, samples=args.samples,
                                     music=not args.no_music, on_progress=progress,
                                     ngram_orders=tuple(range(2, args.ngram_max_order + 1)))
    finally:
        bar.close()
    print(json.dumps(report, indent=None) if args.json else format_report(report))
    return 0


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_report(report: dict) -> str:
    """The human-readable table of an `evaluate_checkpoint` report."""
    lines = [
        f"{report['checkpoint']} ({report.get('model')}) on {report['corpus']} {report['split']} split",
        f"{'':<22}{'tunes':>7}{'notes':>9}{'model bpn':>11}{'n-gram bpn':>12}",
    ]
    rows = [("all", report)] + sorted(report["per_collection"].items())
    for name, row in rows:
        lines.append(f"{name:<22}{row['tunes']:>7}{row['notes']:>9}{_num(row['bits_per_note']):>11}"
                     f"{_num(row['ngram_bits_per_note']):>12}")
    lines.append(f"token accuracy {_num(report['token_accuracy'])}; n-gram order {report['ngram_order']} "
                 "(chosen on the validation split)")
    music = report.get("music")
    if music:
        ref, overlap = music["reference"], music["overlap"]
        rows = [
            ("bars of exact length", music["bar_exact_share"], ref["bar_exact_share"]),
            ("notes in the key's scale", music["in_scale_share"], ref["in_scale_share"]),
            ("copies >= 4 training bars", music["copy_4bars_share"], ref["copy_4bars_share"]),
        ]
        lines.append(f"music: {music['samples']} held-out seeds continued at temperature "
                     f"{music['settings']['temperature']}")
        lines.append(f"  {'':<28}{'sampled':>9}{'real':>9}")
        lines += [f"  {label:<28}{_num(a):>9}{_num(b):>9}" for label, a, b in rows]
        lines.append("  overlapped area with the real continuations: "
                     + ", ".join(f"{k} {_num(v)}" for k, v in overlap.items()))
    return "\n".join(lines)
