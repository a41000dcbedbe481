"""The plain-C floor (benchmarks/bench_floor.py) still computes the shipped models' step.

Its timing is only a floor if step.c computes what the NumPy engines compute, so the smoke run
(a subprocess, as the test suite runs every benchmark) must print, for both models, a row whose
logits matched the engine's on every step of a real tune; or say it skipped, where the machine
has no C compiler.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_c_floor_smoke_run_matches_the_numpy_engines() -> None:
    result = subprocess.run([sys.executable, "benchmarks/bench_floor.py", "--smoke"], cwd=ROOT,
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    if rows == [{"bench": "c_floor", "skipped": "no C compiler", "smoke": True}]:
        return
    assert [row["kind"] for row in rows] == ["lstm", "transformer"]
    for row in rows:
        assert row["bench"] == "c_floor" and row["smoke"] is True and row["valid"] is True
        assert row["checked_steps"] > 100 and row["batch"] == 1
        assert row["max_probability_difference"] < 1e-4
        assert row["max_logit_difference"] < 1e-3
        assert math.isfinite(row["ms_per_step"]) and row["ms_per_step"] > 0


def test_c_floor_says_it_skipped_without_a_c_compiler() -> None:
    env = {**os.environ, "CC": "no-such-c-compiler"}
    result = subprocess.run([sys.executable, "benchmarks/bench_floor.py", "--smoke"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == {"bench": "c_floor", "skipped": "no C compiler",
                                         "smoke": True}
