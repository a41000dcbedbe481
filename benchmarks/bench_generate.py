"""Generation speed: single-stream tokens/s, 8 variations x 16 bars end to end, and cache/batching gains.

Prints JSON lines (one object per figure). Uses the shipped checkpoints when they exist, else
random-initialised models of the shipped ("cpu") preset size, and says which in each line
("weights": "shipped" or "random-init"): speed does not depend on what the weights learned, except
through <eos> (off here, so every run generates its full length).

    .venv/bin/python benchmarks/bench_generate.py [--repeats R] [--kinds lstm,transformer]

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
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from musicgen.io import read_melody, write_melody  # noqa: E402
from musicgen.melody import Melody  # noqa: E402
from musicgen.pipeline import (  # noqa: E402
    GenerationConfig,
    Generator,
    ModelInfo,
    continue_melody,
    load_generator,
    resolve_model_path,
)
from musicgen.sampling import SamplingConfig, generate_ids  # noqa: E402
from musicgen.tokens import VOCAB, GrammarTracker  # noqa: E402

TARGETS = {"lstm": {"tokens_per_s": 5000, "e2e_s": 0.5}, "transformer": {"tokens_per_s": 2000, "e2e_s": 1.0}}


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


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


def get_generator(kind: str) -> tuple[Generator, str]:
    path = resolve_model_path(kind)
    if path.exists():
        return load_generator(kind), "shipped"
    from musicgen.models import build_model, model_config

    torch.manual_seed(0)
    model = build_model(kind, model_config(kind, VOCAB.size, "cpu"),
                        token_ticks=VOCAB.token_ticks()).eval()
    card = ModelInfo(f"{kind}-random", path, kind, model.num_parameters(), None, None)
    return Generator(name=card.name, kind=kind, model=model, metadata={}, card=card), "random-init"


def seed_of_bars(bars: int) -> Melody:
    """The first `bars` bars of The Kesh (repeats expanded, so any length up to 32 is real music)."""
    kesh = read_melody(ROOT / "data" / "kesh-jig.abc")
    while kesh.bar_count < bars:
        kesh = kesh.concatenated(kesh)
    return kesh.first_bars(bars)


def single_stream(gen: Generator, weights: str, repeats: int) -> None:
    seed = seed_of_bars(4)
    ids = VOCAB.encode(seed, end=False)
    tokens = 1000
    config = SamplingConfig(max_bars=None, max_tokens=tokens, stop_at_end=False)

    def run() -> None:
        generate_ids(gen.model, ids, config, tracker=GrammarTracker.from_melody(VOCAB, seed),
                     rng=torch.Generator().manual_seed(0))

    seconds, cpu = timed(run, repeats)
    model_s, model_cpu = timed(lambda: model_steps_only(gen.model, ids, tokens), repeats)
    target = TARGETS[gen.kind]["tokens_per_s"]
    emit(bench="single_stream", kind=gen.kind, weights=weights, tokens=tokens,
         tokens_per_s=round(tokens / seconds), tokens_per_cpu_s=round(tokens / cpu),
         target_tokens_per_s=target, met=tokens / seconds >= target,
         met_on_idle_core=tokens / cpu >= target,
         # the profile: what the model's step() alone costs, and what sampling adds per token
         model_step_only_tokens_per_s=round(tokens / model_s),
         model_step_cpu_us=round(model_cpu / tokens * 1e6, 1),
         sampler_cpu_us_per_token=round((cpu - model_cpu) / tokens * 1e6, 1))


def model_steps_only(model: Any, seed_ids: list[int], tokens: int) -> None:
    """The same number of step() calls with a fixed token: no masks, no sampling, no trackers."""
    with torch.inference_mode():
        _, state = model.step(torch.tensor([seed_ids]), model.init_state(1))
        token = torch.tensor([[VOCAB.pitch_id(67)]])
        for _ in range(tokens):
            _, state = model.step(token, state)


def end_to_end(gen: Generator, weights: str, repeats: int, folder: Path) -> None:
    """8 variations x 16 bars from a 16-bar seed file to 8 MIDI files; returns the seconds."""
    seed_path = folder / "seed16.mid"
    write_melody(seed_of_bars(16), seed_path)
    config = GenerationConfig(variations=8, bars=16, rng_seed=1)

    def run() -> None:
        seed = read_melody(seed_path)
        for i, melody in enumerate(continue_melody(seed, gen, config), start=1):
            write_melody(melody, folder / f"out-{gen.kind}-{i}.mid")

    seconds, cpu = timed(run, repeats)
    seed_tokens = len(VOCAB.encode(read_melody(seed_path), end=False))
    target = TARGETS[gen.kind]["e2e_s"]
    emit(bench="end_to_end_8x16_bars", kind=gen.kind, weights=weights, seed_tokens=seed_tokens,
         seconds=round(seconds, 3), cpu_seconds=round(cpu, 3), target_s=target,
         met=seconds < target)


def cache_and_batching_gain(gen: Generator, weights: str, context: int, new_tokens: int) -> None:
    """Ours (cache, 8 rows in one batch) against full recompute one variation at a time."""
    seed = seed_of_bars(40)
    ids = VOCAB.encode(seed, end=False)[: context - new_tokens]
    common = dict(max_bars=None, max_tokens=new_tokens, stop_at_end=False)

    def ours() -> None:
        generate_ids(gen.model, ids, SamplingConfig(variations=8, **common),
                     rng=torch.Generator().manual_seed(0))

    def naive() -> None:
        for row in range(8):
            generate_ids(gen.model, ids, SamplingConfig(variations=1, use_cache=False, **common),
                         rng=torch.Generator().manual_seed(row))

    (fast, fast_cpu), (slow, slow_cpu) = timed(ours, 3), timed(naive, 1)
    emit(bench="cache_batching_gain", kind=gen.kind, weights=weights, context_tokens=context,
         variations=8, new_tokens_each=new_tokens, ours_s=round(fast, 4),
         no_cache_no_batch_s=round(slow, 3), ratio=round(slow / fast, 1),
         cpu_ratio=round(slow_cpu / fast_cpu, 1), target_ratio=10 if gen.kind == "transformer" else None,
         met=(slow / fast >= 10) if gen.kind == "transformer" else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kinds", default="lstm,transformer")
    args = parser.parse_args()
    torch.set_num_threads(1)  # what sampling uses (SamplingConfig.threads); model-only timings too
    emit(bench="machine", torch=torch.__version__, threads=torch.get_num_threads(),
         cpu_count=os.cpu_count(), load_average=[round(x, 2) for x in os.getloadavg()])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            gen, weights = get_generator(kind)
            emit(bench="model", kind=kind, weights=weights, parameters=gen.model.num_parameters(),
                 config=gen.model.config.__dict__)
            single_stream(gen, weights, args.repeats)
            end_to_end(gen, weights, args.repeats, Path(tmp))
            cache_and_batching_gain(gen, weights, context=512, new_tokens=32)
    emit(bench="machine_after", load_average=[round(x, 2) for x in os.getloadavg()])


if __name__ == "__main__":
    main()
