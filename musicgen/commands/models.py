"""`musicgen models`: the model library the app's picker shows: the shipped models and your own.

Each row gives the name every command accepts (`generate --model NAME`, `evaluate NAME`,
`train --init NAME`, `info NAME`), the kind and size, bits per note and the tunes it was measured
on (figures measured on different tunes are not comparable), and where the model lives. Stopped
fine-tunes that the app can resume are listed after. Reads JSON only: no torch.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_arguments", "run", "rows"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object per model")


def rows() -> list[dict[str, Any]]:
    """One JSON-ready row per model of the library, shipped first."""
    import warnings

    from musicgen.library import available_models

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a damaged checkpoint is skipped here, as in the picker
        cards = available_models()
    return [{"name": c.name, "kind": c.kind, "parameters": c.parameters,
             "bits_per_note": c.bits_per_note, "measured_on": c.measured_on,
             "base": c.base, "bits_before": c.bits_before, "copy_share": c.copy_share,
             "where": "yours" if c.user else "shipped", "path": str(c.path)} for c in cards]


def _size(parameters: Any) -> str:
    return f"{parameters / 1e6:.1f} M" if isinstance(parameters, int) else "?"


def run(args: argparse.Namespace) -> int:
    from musicgen.train.finetune import unfinished_runs
    from musicgen.userdirs import models_dir

    models = rows()
    if args.json:
        for row in models:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    width = max([len(r["name"]) for r in models] + [4])
    print(f"{'NAME':<{width}}  {'KIND':<11}  {'SIZE':>6}  {'BITS/NOTE':>9}  MEASURED ON")
    for r in models:
        bits = f"{r['bits_per_note']:.3f}" if r["bits_per_note"] is not None else "-"
        where = "" if r["where"] == "shipped" else " (yours)"
        print(f"{r['name']:<{width}}  {r['kind']:<11}  {_size(r['parameters']):>6}  {bits:>9}  "
              f"{r['measured_on'] or 'not measured'}{where}")
    print(f"\nYour models folder: {models_dir()}")
    stopped = unfinished_runs()
    if stopped:
        print("Stopped fine-tunes (resume them in the app: Model > Train on my tunes): "
              + ", ".join(r["name"] for r in stopped))
    return 0
