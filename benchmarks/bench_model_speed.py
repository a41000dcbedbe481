"""Single-stream generation speed of the models: step() tokens per second with cached state.

Prints one JSON line per (kind, preset, batch): a seed of --seed-tokens is prefilled, then
--tokens tokens are stepped one at a time (the generation loop without sampling), best of --repeats,
for the torch model and, in the same line (``numpy_*``), the torch-free engine generation uses
(`musicgen.engine`, BLAS on one thread). The Transformer's window slides when it passes max_len,
as in real generation.

    .venv/bin/python benchmarks/bench_model_speed.py [--presets cpu] [--threads 2] [--batch 1]
        [--smoke]

`--smoke` (seconds; the test suite runs it): the tiny presets, a short seed, a few tokens, one
thread.

Targets on the 2-core CPU for the "cpu" presets: LSTM >= 5000, Transformer >= 2000 tokens/s.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from musicgen.engine import engine_from_model
from musicgen.models import build_model, model_config
from musicgen.tokens import VOCAB

VOCAB_SIZE = VOCAB.size


def measure(kind: str, preset: str, batch: int, seed_tokens: int, tokens: int,
            repeats: int) -> dict:
    torch.manual_seed(0)
    model = build_model(kind, model_config(kind, VOCAB_SIZE, preset),
                        token_ticks=VOCAB.token_ticks()).eval()
    seed = torch.randint(1, VOCAB_SIZE, (batch, seed_tokens))
    next_ids = torch.randint(1, VOCAB_SIZE, (batch, 1))
    best, prefill_s = 0.0, float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            _, state = model.step(seed, model.init_state(batch))
            prefill_s = min(prefill_s, time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(tokens):
                _, state = model.step(next_ids, state)
            best = max(best, tokens / (time.perf_counter() - start))
    numpy_best, numpy_prefill_s = measure_engine(engine_from_model(model), seed.numpy(),
                                                 next_ids.numpy()[:, 0], tokens, repeats)
    return {
        "bench": "model_step",
        "kind": kind,
        "preset": preset,
        "parameters": model.num_parameters(),
        "batch": batch,
        "threads": torch.get_num_threads(),
        "seed_tokens": seed_tokens,
        "tokens": tokens,
        "prefill_ms": round(prefill_s * 1000, 2),
        "tokens_per_s": round(best * batch),
        "stream_tokens_per_s": round(best),
        "numpy_prefill_ms": round(numpy_prefill_s * 1000, 2),
        "numpy_tokens_per_s": round(numpy_best * batch),
        "numpy_speedup": round(numpy_best / best, 2),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }


def measure_engine(engine, seed: np.ndarray, next_ids: np.ndarray, tokens: int,
                   repeats: int) -> tuple[float, float]:
    """(best steps per second, best prefill seconds) of the NumPy engine, as `measure` does."""
    best, prefill_s = 0.0, float("inf")
    with engine.running(1):
        for _ in range(repeats):
            start = time.perf_counter()
            _, state = engine.run(seed[0].tolist(), engine.new_state(1))
            prefill_s = min(prefill_s, time.perf_counter() - start)
            state = engine.select(state, np.zeros(len(seed), dtype=np.int64))
            start = time.perf_counter()
            for _ in range(tokens):
                _, state = engine.step(next_ids, state)
            best = max(best, tokens / (time.perf_counter() - start))
    return best, prefill_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["lstm", "transformer"])
    parser.add_argument("--presets", nargs="+", default=["cpu"])
    parser.add_argument("--batch", nargs="+", type=int, default=[1])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--seed-tokens", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: tiny presets, few tokens")
    args = parser.parse_args()
    extra = {}
    if args.smoke:
        args.presets, args.seed_tokens, args.tokens, args.repeats = ["tiny"], 8, 20, 1
        args.threads, extra = args.threads or 1, {"smoke": True}
    if args.threads:
        torch.set_num_threads(args.threads)
    for preset in args.presets:
        for kind in args.kinds:
            for batch in args.batch:
                result = measure(kind, preset, batch, args.seed_tokens, args.tokens, args.repeats)
                print(json.dumps({**result, **extra}), flush=True)


if __name__ == "__main__":
    main()
