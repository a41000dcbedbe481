"""Musical evaluation of a model: continue held-out seeds, compare with the real continuations.

A seed is the first `seed_bars` bars of a held-out tune (a pickup counts as a bar); its real
continuation is the next `continuation_bars` bars. The model continues each seed once, at
temperature 1.0 with the token grammar on and the meter and key constraints off (issue 6's setting),
through the same sampler the app uses (`sampling.generate_ids`). The statistics come from
`music_stats`; the same figures for the real continuations are reported as a reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from musicgen.errors import Cancelled, VocabularyError
from musicgen.melody import Melody
from musicgen.evaluate.stats import CopyIndex, bar_exact_share, copy_share, feature_overlaps, in_scale_share
from musicgen.tokens import VOCAB, GrammarTracker, Vocabulary

if TYPE_CHECKING:
    from musicgen.models.base import NextTokenModel

__all__ = ["MusicEvalConfig", "HeldOutSeed", "held_out_seeds", "continue_seeds", "music_statistics"]

from musicgen.progress import ProgressFn as Progress


@dataclass(frozen=True)
class MusicEvalConfig:
    """How many held-out seeds, how long, and how to sample their continuations."""

    samples: int = 100  # seeds continued (one continuation each)
    seed_bars: int = 4  # bars of each held-out tune given as the seed
    continuation_bars: int = 8  # bars generated and compared with the real next bars
    temperature: float = 1.0
    rng_seed: int = 1234  # seed i samples with torch.Generator seeded rng_seed + i
    copy_bars: int = 4  # a sample "copies" when it shares this many bars with a training tune


@dataclass(frozen=True)
class HeldOutSeed:
    """A seed cut from a held-out tune and what really followed it."""

    seed: Melody
    real: Melody  # the real continuation, re-based to tick 0
    tune: Melody | None = None  # the whole tune the seed was cut from


def held_out_seeds(melodies: Sequence[Melody], config: MusicEvalConfig) -> list[HeldOutSeed]:
    """Seeds from tunes long enough for seed + continuation, spread evenly over the list."""
    usable = []
    for melody in melodies:
        seed = melody.first_bars(config.seed_bars)
        end = seed.duration_ticks
        stop = end + config.continuation_bars * melody.meter.bar_ticks
        if seed.note_count and melody.duration_ticks >= stop and end in set(melody.bar_lines()):
            usable.append(HeldOutSeed(seed, melody.slice_ticks(end, stop), melody))
    if len(usable) <= config.samples:
        return usable
    step = len(usable) / config.samples
    return [usable[int(i * step)] for i in range(config.samples)]


def continue_seeds(
    model: NextTokenModel,
    seeds: Sequence[HeldOutSeed],
    config: MusicEvalConfig,
    *,
    vocab: Vocabulary = VOCAB,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[list[Melody], list[list[int]]]:
    """One sampled continuation per seed: the decoded melodies and the sampled ids."""
    import torch

    from musicgen.generation import GenerationConfig
    from musicgen.sampling import generate_ids

    # as the app does by default: <eos> is not sampled, so every continuation has its full length
    # (96 tokens a bar is far more than a real bar needs: it only stops a model that never bars)
    sampling = GenerationConfig(temperature=config.temperature, bars=config.continuation_bars,
                                stop_at_end=False, max_tokens=96 * config.continuation_bars)
    melodies, id_lists = [], []
    for i, item in enumerate(seeds):
        if should_stop is not None and should_stop():
            raise Cancelled("evaluation was cancelled")
        shift = vocab.shift_for(item.seed)
        seed_ids = vocab.encode(item.seed, end=False)
        tracker = GrammarTracker.from_melody(vocab, item.seed, meter_constraint=False)
        rng = torch.Generator().manual_seed(config.rng_seed + i)
        ids = generate_ids(model, seed_ids, sampling, tracker=tracker, rng=rng, vocab=vocab)[0]
        whole = vocab.decode(seed_ids + ids, transpose=-shift, meter=item.seed.meter, mode=item.seed.key.mode)
        start = item.seed.duration_ticks
        melodies.append(whole.slice_ticks(start, max(whole.duration_ticks, start)).replace(key=item.seed.key))
        id_lists.append(ids)
        if on_progress is not None:
            on_progress(i + 1, len(seeds), "sampling continuations of held-out seeds")
    return melodies, id_lists


def music_statistics(
    seeds: Sequence[HeldOutSeed],
    generated: Sequence[Melody],
    generated_ids: Sequence[Sequence[int]],
    copy_index: CopyIndex | None,
    config: MusicEvalConfig,
    *,
    vocab: Vocabulary = VOCAB,
) -> dict:
    """Issue 6's statistics for the samples, with the real continuations' figures as a reference."""
    real = [s.real for s in seeds]
    meters = [s.seed.meter for s in seeds]
    real_ids = [_body_ids(m, vocab) for m in real]
    result = {
        "samples": len(generated),
        "bar_exact_share": bar_exact_share(generated_ids, meters, vocab=vocab),
        "in_scale_share": in_scale_share(generated),
        "overlap": feature_overlaps(generated, real),
        "copy_4bars_share": math.nan,
        "reference": {
            "bar_exact_share": bar_exact_share(real_ids, meters, vocab=vocab),
            "in_scale_share": in_scale_share(real),
            "copy_4bars_share": math.nan,
        },
        "settings": {
            "seed_bars": config.seed_bars,
            "continuation_bars": config.continuation_bars,
            "temperature": config.temperature,
            "rng_seed": config.rng_seed,
            "grammar": True,
            "meter_constraint": False,
            "key_lock": False,
        },
    }
    if copy_index is not None:
        result["copy_4bars_share"] = copy_share(generated, copy_index, bars=config.copy_bars)
        result["reference"]["copy_4bars_share"] = copy_share(real, copy_index, bars=config.copy_bars)
    return result


def _body_ids(melody: Melody, vocab: Vocabulary) -> list[int]:
    """The ids of a real continuation without its header (it starts on a bar line)."""
    try:
        return vocab.encode(melody, end=False)[3:]
    except VocabularyError:  # an unencodable reference only drops out of the reference figure
        return []
