"""The plain-C floor of a batch-1 generation step, measured on the machine that runs it.

Issue 17 asks that a batch-1 step be within 2x of "the machine's plain-C floor"; its floor
(LSTM 0.12 ms, Transformer 0.30 ms, bench_engine.py's FLOOR_MS) was measured once on another
machine, and CPUs differ. This measures the floor here, in the same run: `c_floor/step.c`, a
plain C step of both shipped models (the maths of the NumPy engines, from the engines' own
folded arrays, written to a raw file here), compiled with `FLAGS` in a temporary folder.

Prints one JSON line per model. Before the figure counts, the C step must compute what the NumPy
engine does: every token of data/kesh-jig.abc is stepped from the empty state by both, and each
step's logits must agree (largest |difference| below 1e-3, probabilities below 1e-4); otherwise
the row says ``"valid": false`` and the benchmark exits 1. Then the timing, as bench_engine.py
times the engine (`step_timer`, `seed_ids`): the state after the first 64 tokens is copied and
300 steps of one token (G) taken from it, batch 1, thread CPU seconds per step, best of
--repeats (after a warm-up). Without a C compiler (`CC`, else gcc) it prints a ``skipped`` line.

    taskset -c 1 .venv/bin/python benchmarks/bench_floor.py [--repeats 7] [--steps 300] [--smoke]

`--smoke` (seconds; the test suite runs it): the full check, one repeat of a few steps.
`measure_floor()` gives the figures to another benchmark (milliseconds per step by kind).

FLAGS leave out ``-fno-finite-math-only``: with it gcc no longer defines
``__FAST_MATH__``, so glibc's math.h no longer offers its vector expf, tanhf and erff
(libmvec) and those loops call the scalar functions one number at a time. step.c uses no
infinities or NaNs instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

SOURCE = Path(__file__).resolve().parent / "c_floor" / "step.c"
FLAGS = ["-std=c11", "-O3", "-march=native", "-ffast-math"]
# as bench_engine.py: seed_ids(64), --steps 300, and step_timer's token (the pitch G, MIDI 67)
SEED_TOKENS, STEPS, TOKEN_PITCH = 64, 300, 67
LOGIT_TOLERANCE, PROBABILITY_TOLERANCE = 1e-3, 1e-4
MAGIC, KIND_CODES = 0x3146474D, {"lstm": 1, "transformer": 2}
EXTRA: dict[str, Any] = {}


class FloorInvalid(RuntimeError):
    """The C step's logits differ from the NumPy engine's: its time is no floor of that step."""


def emit(**fields: Any) -> None:
    print(json.dumps({**fields, **EXTRA}), flush=True)


def find_compiler() -> str | None:
    return shutil.which(os.environ.get("CC") or "gcc")


def compile_step(compiler: str, folder: Path) -> Path:
    program = folder / "step"
    subprocess.run([compiler, *FLAGS, "-o", str(program), str(SOURCE), "-lm"], check=True,
                   capture_output=True, text=True, timeout=120)
    return program


# --------------------------------------------------------------------------- the weight file
def _write(path: Path, kind: str, dims: Sequence[int], constants: Sequence[float],
           arrays: Sequence[np.ndarray]) -> None:
    """step.c's format: int32 header[16] (magic, kind, dims, float32 constants as bits), then
    each array as int32 count and its values."""
    header = np.zeros(16, np.int32)
    header[:2 + len(dims)] = [MAGIC, KIND_CODES[kind], *dims]
    header[2 + len(dims):2 + len(dims) + len(constants)] = np.asarray(constants,
                                                                      np.float32).view(np.int32)
    with open(path, "wb") as out:
        out.write(header.tobytes())
        for array in arrays:
            dtype = np.int32 if array.dtype.kind == "i" else np.float32
            out.write(np.int32(array.size).tobytes())
            out.write(np.ascontiguousarray(array, dtype).tobytes())


def dump_lstm(engine: Any, path: Path) -> None:
    """The LSTM engine's arrays, its (4H, in) matrices transposed to (in, 4H) for y = x @ W."""
    arrays = [engine._table, engine._w_hh0.T]
    for w_cat, bias in zip(engine._w_cat, engine._bias):
        arrays += [w_cat.T, bias[:, 0]]
    arrays += [engine._head, engine._head_bias]
    _write(path, "lstm", [engine.vocab_size, engine.hidden, engine.layers], [], arrays)


def dump_transformer(engine: Any, path: Path) -> None:
    """The Transformer engine's arrays as they are (already (in + 1, out) with bias rows)."""
    from musicgen.engine.ops import GELU_SCALE, eps_column

    bar = engine._bar
    arrays = [engine._tok, engine._pos]
    if bar is not None:
        arrays += [bar, engine._next_bucket]
    for layer in engine._layers:
        arrays += [layer.qkv, layer.proj, layer.fc, layer.out]
    arrays.append(engine._head)
    dims = [engine.vocab_size, engine.width, engine.heads, engine.ff, len(engine._layers),
            engine.max_context, 0 if bar is None else len(bar)]
    # the normalized row's last column, as the engine's float32 buffer holds it; and GELU's
    # scale: the engine's fc output is GELU_SCALE * x, so erf(x / sqrt2) is erf(y * gelu_k)
    constants = [np.float32(eps_column(engine.width)), 1.0 / (GELU_SCALE * math.sqrt(2.0))]
    _write(path, "transformer", dims, constants, arrays)


# --------------------------------------------------------------------------- measuring
def reference_logits(engine: Any, ids: Sequence[int]) -> np.ndarray:
    """The NumPy engine's logits (T, V) of each id, stepped one at a time from the empty state."""
    state, rows = engine.new_state(1), []
    with engine.running(1):
        for token in ids:
            logits, state = engine.step(np.array([token]), state)
            rows.append(logits[0].copy())
    return np.stack(rows)


def _probabilities(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def check_ids() -> list[int]:
    from musicgen.io import read_melody
    from musicgen.tokens import VOCAB

    return VOCAB.encode(read_melody(ROOT / "data" / "kesh-jig.abc"), end=False)


def measure_kind(kind: str, program: Path, folder: Path, repeats: int, steps: int,
                 context: int) -> dict[str, Any]:
    """One model's row: the check against the NumPy engine, then the timing (ms_per_step is None
    when the check fails)."""
    from musicgen.engine import load_engine
    from musicgen.library import resolve_checkpoint
    from musicgen.tokens import VOCAB

    engine, _ = load_engine(resolve_checkpoint(kind))
    ids = check_ids()
    if engine.max_context is not None:  # step.c does not slide the window
        ids = ids[:engine.max_context]
    weights, id_file, logit_file = (folder / f"{kind}.{ext}" for ext in ("bin", "ids", "logits"))
    (dump_lstm if kind == "lstm" else dump_transformer)(engine, weights)
    np.asarray(ids, np.int32).tofile(id_file)
    token = VOCAB.pitch_id(TOKEN_PITCH)
    done = subprocess.run([str(program), str(weights), str(id_file), str(logit_file), str(context),
                           str(token), str(steps), str(repeats)], capture_output=True, text=True,
                          timeout=300)
    if done.returncode:
        raise RuntimeError(f"step.c ({kind}) failed: {done.stderr.strip()}")
    c_logits = np.fromfile(logit_file, np.float32).reshape(len(ids), engine.vocab_size)
    reference = reference_logits(engine, ids)
    logit_difference = float(np.abs(c_logits.astype(np.float64) - reference).max())
    probability_difference = float(np.abs(_probabilities(c_logits)
                                          - _probabilities(reference)).max())
    valid = bool(logit_difference < LOGIT_TOLERANCE
                 and probability_difference < PROBABILITY_TOLERANCE)
    seconds = float(done.stdout.split()[0])
    return {"bench": "c_floor", "kind": kind,
            "ms_per_step": round(seconds * 1e3, 4) if valid else None, "batch": 1,
            "context": context, "steps": steps, "repeats": repeats,
            "checked_steps": len(ids), "max_logit_difference": logit_difference,
            "max_probability_difference": probability_difference, "valid": valid,
            "flags": " ".join(FLAGS)}


def floor_rows(kinds: Sequence[str], repeats: int, steps: int = STEPS,
               context: int = SEED_TOKENS) -> Iterator[dict[str, Any]]:
    """One row per kind (`measure_kind`), or a single ``skipped`` row without a C compiler."""
    compiler = find_compiler()
    if compiler is None:
        yield {"bench": "c_floor", "skipped": "no C compiler"}
        return
    with tempfile.TemporaryDirectory(prefix="c-floor-") as tmp:
        program = compile_step(compiler, Path(tmp))
        for kind in kinds:
            yield {**measure_kind(kind, program, Path(tmp), repeats, steps, context),
                   "compiler": Path(compiler).name}


def measure_floor(kinds: Sequence[str] = ("lstm", "transformer"), repeats: int = 7, *,
                  steps: int = STEPS, context: int = SEED_TOKENS) -> dict[str, float]:
    """The C floor's milliseconds per batch-1 step by kind; {} without a C compiler;
    `FloorInvalid` when the C step's logits differ from the NumPy engine's."""
    floor = {}
    for row in floor_rows(kinds, repeats, steps, context):
        if "skipped" in row:
            return {}
        if not row["valid"]:
            raise FloorInvalid(f"the C {row['kind']} step differs from the NumPy engine's: "
                               f"logits by {row['max_logit_difference']:.3g}, probabilities by "
                               f"{row['max_probability_difference']:.3g}")
        floor[row["kind"]] = row["ms_per_step"]
    return floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--smoke", action="store_true", help="seconds: one repeat of a few steps")
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.steps, EXTRA["smoke"] = 1, 10, True
    invalid = False
    for row in floor_rows(("lstm", "transformer"), args.repeats, args.steps):
        emit(**row)
        invalid |= row.get("valid") is False
    if invalid:
        print("the C floor is invalid: its logits differ from the NumPy engine's", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
