"""Samples for the form statistics: whole tunes from a header alone (free, and in AABB form), and
continuations with the cadence option off and on.

- Whole tunes, free: the model is given ``<bos> meter mode`` only (headers drawn evenly from the
  real tunes scored, so meters and modes match theirs) and samples until it ends the tune, with the
  token grammar and the meter constraint on (every bar whole, the end only after a bar line); tunes
  that share a header are sampled together as one batch.
- Whole tunes, AABB: the same headers through `pipeline.continue_melody` with ``form="aabb"`` (the
  option the app and `musicgen generate` offer), parts of `FormEvalConfig.phrase_bars` bars.
- Continuations: held-out seeds continued through `pipeline.continue_melody`, the library call the
  app and `musicgen generate` make, once with ``cadence`` off and once on. The run without the
  cadence asks for as many bars as the cadence run must reach (the first phrase boundary at or after
  the asked length, phrases counted from the first full bar), so both end at the same bar line and
  only the constraint differs.

Randomness comes from per-batch `torch.Generator` seeds derived from `FormEvalConfig.rng_seed`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from musicgen.errors import Cancelled
from musicgen.melody import Key, Melody, Meter
from musicgen.progress import ProgressFn, StopFn, report
from musicgen.tokens import VOCAB, GrammarTracker, Vocabulary

__all__ = ["FormEvalConfig", "continue_for_form", "phrase_aligned_bars", "sample_aabb_tunes",
           "sample_whole_tunes", "whole_tune_headers"]


@dataclass(frozen=True)
class FormEvalConfig:
    """How many whole tunes and continuations to sample for the form statistics, and how."""

    whole_tunes: int = 64  # tunes sampled from a header alone (0: none)
    aabb_tunes: int = 0  # tunes sampled from a header in AABB form (0: none)
    continuations: int = 100  # held-out seeds continued with the cadence off and on (0: none)
    continuation_bars: int = 8  # bars asked after each seed
    phrase_bars: int = 8  # phrase length for the cadence
    temperature: float = 1.0
    rng_seed: int = 4321
    max_tune_tokens: int = 1500  # a whole tune stops here if the model never ends it


def whole_tune_headers(melodies: Sequence[Melody], count: int) -> list[tuple[Meter, str]]:
    """`count` (meter, mode) headers taken evenly from `melodies` (supported meters only)."""
    usable = [(m.meter, m.key.mode) for m in melodies if f"M:{m.meter}" in VOCAB.tokens]
    if not usable or count <= 0:
        return []
    step = len(usable) / count
    return [usable[int(i * step) % len(usable)] for i in range(count)]


def sample_whole_tunes(
    model: Any,
    headers: Sequence[tuple[Meter, str]],
    config: FormEvalConfig,
    *,
    vocab: Vocabulary = VOCAB,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """One tune per header, in C (the encoded key), sampled from the header alone."""
    import torch

    from musicgen.generation import GenerationConfig
    from musicgen.sampling import generate_ids

    tunes: list[Melody] = []
    for g, meter, mode, start, k in _header_groups(headers):
        if should_stop is not None and should_stop():
            raise Cancelled("evaluation was cancelled")
        sampling = GenerationConfig(temperature=config.temperature, bars=None, variations=k,
                                    stop_at_end=True, max_tokens=config.max_tune_tokens)
        seed = [vocab.bos_id, vocab.meter_id(meter), vocab.mode_id(mode)]
        tracker = GrammarTracker(vocab, meter, 0, expect="bar")
        rng = torch.Generator().manual_seed(config.rng_seed + 1000 * g + start)
        for ids in generate_ids(model, seed, sampling, tracker=tracker, rng=rng, vocab=vocab):
            tunes.append(vocab.decode(seed + ids, meter=meter, mode=mode).replace(key=Key(0, mode)))
        report(on_progress, len(tunes), len(headers), "sampling whole tunes from a header")
    return tunes


def _header_groups(headers: Sequence[tuple[Meter, str]]) -> list[tuple[int, Meter, str, int, int]]:
    """(group number, meter, mode, first, count) batches of equal headers, at most MAX_VARIATIONS."""
    from musicgen.generation import MAX_VARIATIONS

    groups: dict[tuple[Meter, str], int] = defaultdict(int)
    for header in headers:
        groups[header] += 1
    ordered = sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
    return [(g, meter, mode, start, min(MAX_VARIATIONS, count - start))
            for g, ((meter, mode), count) in enumerate(ordered)
            for start in range(0, count, MAX_VARIATIONS)]


def sample_aabb_tunes(
    generator: Any,
    headers: Sequence[tuple[Meter, str]],
    config: FormEvalConfig,
    *,
    continue_fn: Callable[..., list[Melody]] | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """One AABB tune per header (in C), through `continue_melody` with ``form="aabb"``."""
    from musicgen.generation import GenerationConfig

    if continue_fn is None:
        from musicgen.pipeline import continue_melody as continue_fn
    tunes: list[Melody] = []
    for g, meter, mode, start, k in _header_groups(headers):
        if should_stop is not None and should_stop():
            raise Cancelled("evaluation was cancelled")
        sampling = GenerationConfig(temperature=config.temperature, form="aabb", part_bars=config.phrase_bars,
                                    variations=k, rng_seed=config.rng_seed + 1000 * g + start)
        tunes += continue_fn(Melody((), meter=meter, key=Key(0, mode)), generator, sampling)
        report(on_progress, len(tunes), len(headers), "sampling AABB tunes from a header")
    return tunes


def phrase_aligned_bars(seed: Melody, asked: int, phrase_bars: int) -> int:
    """Bars to add after `seed` (ending on a bar line) so the tune ends on the first phrase boundary
    at or after `asked` more bars; phrases count from the first full bar (a pickup is not one)."""
    full_bars = (seed.duration_ticks - seed.pickup_ticks) // seed.meter.bar_ticks
    end = math.ceil((full_bars + asked) / phrase_bars) * phrase_bars
    return end - full_bars


def continue_for_form(
    generator: Any,
    seeds: Sequence[Melody],
    config: FormEvalConfig,
    *,
    cadence: bool,
    continue_fn: Callable[..., list[Melody]] | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """Each seed followed by one continuation (the whole melody), cadence off or on.

    `continue_fn` defaults to `pipeline.continue_melody`; tests pass a stand-in."""
    from musicgen.generation import GenerationConfig

    if continue_fn is None:
        from musicgen.pipeline import continue_melody as continue_fn
    out = []
    for i, seed in enumerate(seeds):
        if should_stop is not None and should_stop():
            raise Cancelled("evaluation was cancelled")
        bars = config.continuation_bars if cadence else \
            phrase_aligned_bars(seed, config.continuation_bars, config.phrase_bars)
        sampling = GenerationConfig(temperature=config.temperature, bars=bars, rng_seed=config.rng_seed + i,
                                    meter_constraint=True, cadence=cadence, phrase_bars=config.phrase_bars)
        out.append(continue_fn(seed, generator, sampling)[0])
        report(on_progress, i + 1, len(seeds), f"continuing seeds, cadence {'on' if cadence else 'off'}")
    return out
