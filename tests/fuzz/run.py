"""The long fuzz run (``make fuzz``): N inputs per format, counts per outcome, failures kept.

    python -m tests.fuzz.run [--inputs 10000] [--formats midi,abc,musicxml,mxl,checkpoint]
                             [--keep tests/fuzz/regressions] [--seed S]

Prints one JSON line per format (inputs, seconds, counts per outcome, slowest input) and, every
`--report-every` inputs, a progress line on stderr. Every failing input, and the first few that a
budget stopped, are written to ``KEEP/<format>/<outcome>-<sha1>.<suffix>`` (a checkpoint as a
``.json`` and ``.safetensors`` pair), where ``test_regressions.py`` replays them in the suite.
Exit status 1 when any input failed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzz.checkpoints import CHECKPOINT_FAILURES, checkpoint_input, load_outcome
from tests.fuzz.harness import read_outcome
from tests.fuzz.mutations import fuzz_input
from tests.fuzz.seeds import FORMATS, SUFFIX

KEEP_BUDGET_STOPS = 5  # inputs a budget stopped, kept per format and kind (they test the budget)


def _keep(folder: Path, fmt: str, kind: str, data: bytes | tuple[bytes, bytes]) -> Path:
    target = folder / fmt
    target.mkdir(parents=True, exist_ok=True)
    if isinstance(data, tuple):
        digest = hashlib.sha1(data[0] + data[1]).hexdigest()[:12]
        stem = target / f"{kind}-{digest}"
        stem.with_suffix(".json").write_bytes(data[0])
        stem.with_suffix(".safetensors").write_bytes(data[1])
        return stem
    path = target / f"{kind}-{hashlib.sha1(data).hexdigest()[:12]}{SUFFIX[fmt]}"
    path.write_bytes(data)
    return path


def run_format(fmt: str, inputs: int, keep: Path | None, rng_seed: int, every: int) -> dict:
    """Fuzz one format with `inputs` inputs; the summary line."""
    counts: collections.Counter[str] = collections.Counter()
    slowest = (0.0, "")
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{fmt}-"))
    start = time.monotonic()
    strategy = checkpoint_input() if fmt == "checkpoint" else fuzz_input(fmt)

    @seed(rng_seed)
    @settings(max_examples=inputs, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(data: bytes | tuple[bytes, bytes]) -> None:
        nonlocal slowest
        began = time.monotonic()
        if fmt == "checkpoint":
            kind, detail = load_outcome(data, work)
            failed = kind in CHECKPOINT_FAILURES
        else:
            outcome = read_outcome(fmt, data, work)
            kind, detail, failed = outcome.kind, outcome.detail, outcome.failed
        took = time.monotonic() - began
        counts[kind] += 1
        if took > slowest[0]:
            slowest = (took, kind)
        stopped = kind.startswith("too_complex")
        if keep is not None and (failed or (stopped and counts[kind] <= KEEP_BUDGET_STOPS)):
            path = _keep(keep, fmt, kind, data)
            print(f"{fmt}: {kind}: kept {path.name}: {detail[-300:]!r}", file=sys.stderr)
        total = sum(counts.values())
        if total % every == 0:
            print(f"{fmt}: {total}/{inputs} {dict(counts)} {time.monotonic() - start:.0f} s",
                  file=sys.stderr, flush=True)

    one()
    failures = CHECKPOINT_FAILURES if fmt == "checkpoint" else ("foreign", "bad_sentence",
                                                                 "crash", "hang")
    return {"format": fmt, "inputs": sum(counts.values()), "seconds": round(time.monotonic() - start, 1),
            "outcomes": dict(sorted(counts.items())), "failures": sum(counts[k] for k in failures),
            "slowest_s": round(slowest[0], 2), "slowest_outcome": slowest[1]}


def _preload() -> None:
    """Import every module the readers and loaders use, once, before the first input: each
    forked child inherits them, and a long run keeps testing the code it started with even if
    the working tree changes meanwhile."""
    import importlib
    import pkgutil

    import music21.abcFormat.translate  # noqa: F401
    import music21.musicxml.xmlToM21  # noqa: F401
    import torch  # noqa: F401

    import musicgen.io
    import musicgen.models

    for package in (musicgen.io, musicgen.models):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    for name in ("musicgen.checkpoint", "musicgen.checkpoint_checks", "musicgen.safe_json"):
        importlib.import_module(name)
    for fmt in FORMATS:
        fuzz_input(fmt)  # builds the seed files
    checkpoint_input()  # builds the base checkpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per format")
    parser.add_argument("--formats", default=",".join((*FORMATS, "checkpoint")))
    parser.add_argument("--keep", type=Path, default=Path(__file__).parent / "regressions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-every", type=int, default=500)
    args = parser.parse_args(argv)
    _preload()
    failed = 0
    for fmt in args.formats.split(","):
        summary = run_format(fmt, args.inputs, args.keep, args.seed, args.report_every)
        failed += summary["failures"]
        print(json.dumps(summary), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
