"""Continuing a prepared seed: the seed as the vocabulary takes it, and K sampled continuations.

The machinery under `musicgen.pipeline.continue_melody` and `musicgen.whole_tune`: `prepare_seed`
adapts a seed (meter, octave) and says how `VOCAB.encode` transposes it; `sample_continuations`
samples exactly so many bars after it, closing on a cadence when asked, and decodes each
variation back into the seed's key with the seed kept exactly as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Protocol

from musicgen.cadence import CadenceRule, CadenceTracker
from musicgen.errors import GenerationError
from musicgen.generation import MAX_RNG_SEED, GenerationConfig
from musicgen.melody import Melody, pitch_to_name
from musicgen.progress import ProgressFn, StopFn
from musicgen.tokens import (
    PITCH,
    PITCH_MAX,
    PITCH_MIN,
    VOCAB,
    GrammarTracker,
    nearest_supported_meter,
    tonic_shift,
)

__all__ = ["LoadedModel", "prepare_seed", "sample_continuations", "variation_seed"]


def variation_seed(set_seed: int, index: int) -> int:
    """The RNG seed of variation ``index`` (0 first) of a set sampled with ``set_seed``: the set's
    seed plus the index (wrapping within the seed range). Sampling that seed with one variation
    gives the same notes, so every variation of a set can be reproduced alone."""
    return (set_seed + index) % (MAX_RNG_SEED + 1)


class LoadedModel(Protocol):
    """What sampling needs of a loaded generator (`musicgen.pipeline.Generator` is one)."""

    name: str
    engine: Any  # a musicgen.engine.Engine (or a torch model)


def prepare_seed(seed: Melody) -> tuple[Melody, int]:
    """The seed as the vocabulary can take it, and the transposition `VOCAB.encode` will apply.

    Adapts an unsupported meter to the nearest supported one and warns when the seed must move by
    octaves to fit the pitch range; refuses (`GenerationError`) what cannot be adapted.
    """
    if not seed.notes:
        raise GenerationError("The seed has no notes to continue.")
    if seed.note_count == 0:
        raise GenerationError("The seed holds only rests; give it at least one note to continue.")
    meter = nearest_supported_meter(seed.meter)
    if meter != seed.meter:
        warnings.warn(
            f"the seed's meter {seed.meter} is not supported; continuing it in {meter} instead",
            stacklevel=3,
        )
        seed = seed.replace(meter=meter, pickup_ticks=seed.pickup_ticks % meter.bar_ticks)
    shift = VOCAB.shift_for(seed)
    low, high = seed.pitch_range  # type: ignore[misc]
    if not (PITCH_MIN <= low + shift and high + shift <= PITCH_MAX):
        raise GenerationError(
            f"The seed spans {pitch_to_name(low)} to {pitch_to_name(high)}, wider than the five "
            "octaves the models know; shorten it or move its outlying notes."
        )
    octaves = (shift - tonic_shift(seed.key)) // 12
    if octaves:
        warnings.warn(
            f"the seed lies outside the models' pitch range; it is moved {abs(octaves)} octave(s) "
            f"{'up' if octaves > 0 else 'down'} for the model and the continuation moved back",
            stacklevel=3,
        )
    return seed, shift


def _banned_pitch_ids(seed: Melody, shift: int, config: GenerationConfig) -> set[int]:
    """Pitch ids the key lock and the pitch range forbid (in the encoded key, tonic C)."""
    pitch_ids = set(VOCAB.ids_of_kind(PITCH))
    allowed = set(pitch_ids)
    if config.key_lock:
        allowed &= set(VOCAB.pitch_ids_in_mode(seed.key.mode))
    if config.pitch_range is not None:
        low, high = config.pitch_range
        allowed &= set(VOCAB.pitch_ids_between(low + shift, high + shift))
    if not allowed:
        raise GenerationError(
            "No pitch satisfies both the key lock and the pitch range; widen the range."
        )
    return pitch_ids - allowed


def sample_continuations(
    seed: Melody,
    shift: int,
    generator: LoadedModel,
    config: GenerationConfig,
    *,
    bars: int,
    degree: int | None,
    rng_seed: int | Sequence[Any],
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """``config.variations`` continuations of exactly ``bars`` sampled bars (the first completes a
    seed ending mid-bar), closing on scale degree ``degree`` when it is not None. The seed must be
    one `prepare_seed` returned (or a header-only melody), ``shift`` its transposition.

    Each variation draws from its own generator: with an int ``rng_seed``, variation i's seed is
    `variation_seed` (rng_seed + i); else ``rng_seed`` lists one NumPy seed (an int or a tuple of
    ints) per variation."""
    import numpy as np

    from musicgen.sampling import generate_ids

    seeds = ([variation_seed(rng_seed, i) for i in range(config.variations)]
             if isinstance(rng_seed, int) else list(rng_seed))
    seed_ids = VOCAB.encode(seed, end=False, transpose=shift)
    start = GrammarTracker.from_melody(VOCAB, seed, meter_constraint=config.meter_constraint)
    tracker: GrammarTracker | None = start if (config.grammar or config.meter_constraint) else None
    if degree is not None:
        rule = CadenceRule.for_continuation(bars, seed.key.mode, degree, seed.meter.strong_positions)
        tracker = CadenceTracker(start, rule)
    rows = generate_ids(
        generator.engine,
        seed_ids,
        config.replace(bars=bars, max_tokens=None, cadence=degree is not None),
        tracker=tracker,
        banned_ids=_banned_pitch_ids(seed, shift, config),
        rng=[np.random.default_rng(seed) for seed in seeds],
        on_progress=on_progress,
        should_stop=should_stop,
    )
    return [_assemble(seed, seed_ids, row, shift) for row in rows]


def _assemble(seed: Melody, seed_ids: list[int], row: list[int], shift: int) -> Melody:
    """The seed (exactly as given) followed by the decoded continuation, boundary marked."""
    full = VOCAB.decode(seed_ids + row, transpose=-shift)
    end = seed.duration_ticks
    continuation = full.slice_ticks(end, max(end, full.duration_ticks))
    return seed.concatenated(continuation).replace(seed_end_ticks=end)
