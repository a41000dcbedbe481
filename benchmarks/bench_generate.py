"""Generation speed: single-stream tokens/s, 8 variations x 16 bars end to end, and cache/batching gains.

What users run: the torch-free engine (`musicgen.engine`) through `generate_ids`, on one thread.
Prints JSON lines (one object per figure). Uses the shipped checkpoints when they exist, else
random-initialised models of the shipped ("cpu") preset size, and says which in each line
("weights": "shipped" or "random-init"): speed does not depend on what the weights learned, except
through <eos> (off here, so every run generates its full length).

    .venv/bin/python benchmarks/bench_generate.py [--repeats R] [--kinds lstm,transformer] [--smoke]

`--smoke` (seconds; the test suite runs it): random-initialised tiny-preset models, a few tokens,
2 variations x 2 bars from a 4-bar seed, one repeat; the same lines, with "smoke": true.

Targets (issue 4): LSTM >= 5000 tokens/s and Transformer >= 2000 tokens/s single stream; 8 x 16 bars
from a 16-bar seed, seed file to MIDI files, < 0.5 s (LSTM) and < 1.0 s (Transformer); the same with
cache and batching off at least 10x slower for the Transformer at 512 tokens of context.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import torch

from musicgen.errors import CheckpointError
from musicgen.generation import GenerationConfig
from musicgen.io import read_melody, write_melody
from musicgen.library import resolve_checkpoint
from musicgen.melody import Melody
from musicgen.pipeline import Generator, continue_melody, load_generator
from musicgen.sampling import generate_ids
from musicgen.tokens import VOCAB, GrammarTracker

TARGETS = {"lstm": {"tokens_per_s": 5000, "e2e_s": 0.5}, "transformer": {"tokens_per_s": 2000, "e2e_s": 1.0}}


@dataclass(frozen=True)
class Sizes:
    """How much each measurement runs: the real benchmark, or --smoke (seconds)."""

    preset: str = "cpu"  # the random-init preset when there is no shipped model
    use_shipped: bool = True
    stream_tokens: int = 1000
    e2e_seed_bars: int = 16
    e2e_variations: int = 8
    e2e_bars: int = 16
    gain_context: int = 512
    gain_new_tokens: int = 32
    gain_repeats: int = 3


SMOKE = Sizes(preset="tiny", use_shipped=False, stream_tokens=40, e2e_seed_bars=4, e2e_variations=2,
              e2e_bars=2, gain_context=64, gain_new_tokens=4, gain_repeats=1)


EXTRA: dict[str, Any] = {}  # fields every line carries ({"smoke": True} under --smoke)


def emit(**fields: Any) -> None:
    print(json.dumps({**fields, **EXTRA}), flush=True)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median (wall seconds, process CPU seconds) of `repeats` runs after one warm-up run.

    This machine's 2 cores are shared: with one torch thread, CPU seconds are what the run costs
    on an idle core, wall seconds what it took beside everyone else (see load_average).
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus)


def get_generator(kind: str, sizes: Sizes) -> tuple[Generator, str]:
    if sizes.use_shipped:
        try:
            return load_generator(resolve_checkpoint(kind)), "shipped"
        except CheckpointError:
            pass  # not shipped on this machine: time a random-initialised model of the same size
    from musicgen.models import build_model, model_config

    torch.manual_seed(0)
    model = build_model(kind, model_config(kind, VOCAB.size, sizes.preset),
                        token_ticks=VOCAB.token_ticks()).eval()
    return Generator.from_model(model, f"{kind}-random"), "random-init"


def seed_of_bars(bars: int) -> Melody:
    """The first `bars` bars of The Kesh (repeats expanded, so any length up to 32 is real music)."""
    kesh = read_melody(ROOT / "data" / "kesh-jig.abc")
    while kesh.bar_count < bars:
        kesh = kesh.concatenated(kesh)
    return kesh.first_bars(bars)


def single_stream(gen: Generator, weights: str, repeats: int, tokens: int) -> None:
    seed = seed_of_bars(4)
    ids = VOCAB.encode(seed, end=False)
    config = GenerationConfig(bars=None, max_tokens=tokens, stop_at_end=False)

    def run() -> None:
        generate_ids(gen.engine, ids, config, tracker=GrammarTracker.from_melody(VOCAB, seed),
                     rng=np.random.default_rng(0))

    seconds, cpu = timed(run, repeats)
    model_s, model_cpu = timed(lambda: model_steps_only(gen.engine, ids, tokens), repeats)
    target = TARGETS[gen.kind]["tokens_per_s"]
    emit(bench="single_stream", kind=gen.kind, weights=weights, tokens=tokens,
         tokens_per_s=round(tokens / seconds), tokens_per_cpu_s=round(tokens / cpu),
         target_tokens_per_s=target, met=tokens / seconds >= target,
         met_on_idle_core=tokens / cpu >= target,
         # the profile: what the model's step() alone costs, and what sampling adds per token
         model_step_only_tokens_per_s=round(tokens / model_s),
         model_step_cpu_us=round(model_cpu / tokens * 1e6, 1),
         sampler_cpu_us_per_token=round((cpu - model_cpu) / tokens * 1e6, 1))


def model_steps_only(engine: Any, seed_ids: list[int], tokens: int) -> None:
    """The same number of step() calls with a fixed token: no masks, no sampling, no trackers."""
    with engine.running(1):
        _, state = engine.run(seed_ids, engine.new_state(1))
        token = np.array([VOCAB.pitch_id(67)])
        for _ in range(tokens):
            _, state = engine.step(token, state)


def end_to_end(gen: Generator, weights: str, repeats: int, folder: Path, sizes: Sizes) -> None:
    """8 variations x 16 bars from a 16-bar seed file to 8 MIDI files (--smoke: fewer)."""
    seed_path = folder / f"seed{sizes.e2e_seed_bars}.mid"
    write_melody(seed_of_bars(sizes.e2e_seed_bars), seed_path)
    config = GenerationConfig(variations=sizes.e2e_variations, bars=sizes.e2e_bars, rng_seed=1)

    def run() -> None:
        seed = read_melody(seed_path)
        for i, melody in enumerate(continue_melody(seed, gen, config), start=1):
            write_melody(melody, folder / f"out-{gen.kind}-{i}.mid")

    seconds, cpu = timed(run, repeats)
    seed_tokens = len(VOCAB.encode(read_melody(seed_path), end=False))
    target = TARGETS[gen.kind]["e2e_s"]
    emit(bench="end_to_end_8x16_bars", kind=gen.kind, weights=weights, seed_tokens=seed_tokens,
         variations=config.variations, bars=config.bars, seconds=round(seconds, 3),
         cpu_seconds=round(cpu, 3), target_s=target, met=seconds < target)


def cache_and_batching_gain(gen: Generator, weights: str, context: int, new_tokens: int,
                            repeats: int) -> None:
    """Ours (cache, 8 rows in one batch) against full recompute one variation at a time."""
    seed = seed_of_bars(40)
    ids = VOCAB.encode(seed, end=False)[: context - new_tokens]
    common = GenerationConfig(bars=None, max_tokens=new_tokens, stop_at_end=False)

    def ours() -> None:
        generate_ids(gen.engine, ids, common.replace(variations=8), rng=np.random.default_rng(0))

    def naive() -> None:
        for row in range(8):
            generate_ids(gen.engine, ids, common, use_cache=False, rng=np.random.default_rng(row))

    (fast, fast_cpu), (slow, slow_cpu) = timed(ours, repeats), timed(naive, 1)
    emit(bench="cache_batching_gain", kind=gen.kind, weights=weights, context_tokens=context,
         variations=8, new_tokens_each=new_tokens, ours_s=round(fast, 4),
         no_cache_no_batch_s=round(slow, 3), ratio=round(slow / fast, 1),
         cpu_ratio=round(slow_cpu / fast_cpu, 1), target_ratio=10 if gen.kind == "transformer" else None,
         met=(slow / fast >= 10) if gen.kind == "transformer" else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kinds", default="lstm,transformer")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: random-init tiny models, a few tokens, one repeat")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else Sizes()
    repeats = 1 if args.smoke else args.repeats
    if args.smoke:
        EXTRA["smoke"] = True
    torch.set_num_threads(1)  # generate_ids runs the engine's BLAS on one thread too
    emit(bench="machine", torch=torch.__version__, numpy=np.__version__, threads=torch.get_num_threads(),
         cpu_count=os.cpu_count(), load_average=[round(x, 2) for x in os.getloadavg()])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            gen, weights = get_generator(kind, sizes)
            emit(bench="model", kind=kind, weights=weights, parameters=gen.engine.parameters,
                 engine=type(gen.engine).__name__, config=gen.model.config.__dict__)
            single_stream(gen, weights, repeats, sizes.stream_tokens)
            end_to_end(gen, weights, repeats, Path(tmp), sizes)
            cache_and_batching_gain(gen, weights, sizes.gain_context, sizes.gain_new_tokens,
                                    sizes.gain_repeats)
    emit(bench="machine_after", load_average=[round(x, 2) for x in os.getloadavg()])


if __name__ == "__main__":
    main()
