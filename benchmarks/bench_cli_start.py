"""Start-up of the command users run most: `musicgen generate SEED --bars 8`, from process start.

Each run is a fresh `python -m musicgen.cli generate SEED --bars 8 -o OUT` with the default model,
for a MIDI, an ABC and a MusicXML seed (data/kesh-jig.*), after one untimed run that leaves the
bytecode an installed program has. Prints one JSON line per seed and reading: the median and
every run's wall seconds and CPU seconds (user + system of the child), the 1-minute load average,
and which of the heavy modules (music21, torch) one extra run under `-X importtime` imported.
A MIDI seed imports no music21 (its key estimate is `musicgen.io.keyfind`); ABC and MusicXML are
parsed by music21, so they are measured twice: ``"reading": "first"`` (the seed cache emptied
before each run: a file never read before) and ``"again"`` (the same file again, its reading kept
by `musicgen.io.seed_cache`, as when a user asks for another variation). Target (issue 17):
0.5 s of wall time.

    .venv/bin/python benchmarks/bench_cli_start.py [--runs N] [--smoke]

`--smoke` (the test suite runs it): one run per seed, the same lines with "smoke": true.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (ROOT / "data" / "kesh-jig.mid", ROOT / "data" / "kesh-jig.abc",
         ROOT / "data" / "kesh-jig.musicxml")
HEAVY = ("music21", "torch")
TARGET_S = 0.5


def _command(seed: Path, out: Path, *flags: str) -> list[str]:
    return [sys.executable, *flags, "-m", "musicgen.cli", "generate", str(seed), "--bars", "8",
            "-o", str(out)]


def measure(seed: Path, runs: int, folder: Path, env: dict[str, str], reading: str) -> dict:
    walls, cpus = [], []
    seeds_kept = Path(env["MUSICGEN_CACHE_DIR"]) / "seeds"
    for _ in range(runs):
        if reading == "first":
            shutil.rmtree(seeds_kept, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(_command(seed, folder / "out.mid"), cwd=ROOT, env=env, check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if reading == "first":
        shutil.rmtree(seeds_kept, ignore_errors=True)
    traced = subprocess.run(_command(seed, folder / "out.mid", "-X", "importtime"), cwd=ROOT,
                            env=env, check=True, capture_output=True, text=True)
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in traced.stderr.splitlines()
                if line.startswith("import time:")}  # top-level packages (any of their modules)
    return {"bench": "cli_generate_start", "seed": seed.name, "reading": reading, "runs": runs,
            "wall_s": round(statistics.median(walls), 3),
            "cpu_s": round(statistics.median(cpus), 3),
            "wall_runs_s": [round(w, 3) for w in walls], "cpu_runs_s": [round(c, 3) for c in cpus],
            "load_1min": round(os.getloadavg()[0], 1), "target_s": TARGET_S,
            "imports": {name: name in imported for name in HEAVY}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one run per seed")
    args = parser.parse_args()
    runs = 1 if args.smoke else max(1, args.runs)
    with tempfile.TemporaryDirectory(prefix="musicgen-bench-start-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "MUSICGEN_DATA_DIR": str(folder / "data"),
               "MUSICGEN_CACHE_DIR": str(folder / "cache")}
        # An installed program runs from bytecode: Python writes it on the first run, unless told
        # not to (some shells and CI set PYTHONDONTWRITEBYTECODE, which made every run here
        # compile ~50 modules from source, 0.16 s). One untimed run per seed writes it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for seed in SEEDS:
            subprocess.run(_command(seed, folder / "out.mid"), cwd=ROOT, env=env, check=True,
                           capture_output=True)
        for seed in SEEDS:
            for reading in (("any",) if seed.suffix == ".mid" else ("first", "again")):
                print(json.dumps({**measure(seed, runs, folder, env, reading),
                                  "smoke": args.smoke}), flush=True)


if __name__ == "__main__":
    main()
