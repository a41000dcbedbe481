"""Continuing a melody: the few calls the app and the command line make (load a model, continue a seed).

API map:

- `GenerationConfig` (from `musicgen.generation`): every sampling choice, validated once.
- `load_generator(name_or_path) -> Generator`: a model name or a checkpoint path, resolved by
  `musicgen.library.resolve_checkpoint` (the library also lists the models a user can pick).
- `continue_melody(seed, generator, config) -> list[Melody]`: one melody per variation, the seed
  followed by its continuation, in the seed's key, tempo, meter and pickup, ``seed_end_ticks`` at the
  seed's end and the provenance in ``metadata``.

The seed goes through the vocabulary (`tokens.VOCAB`): transposed so its tonic is C (and by octaves
into the pitch range when needed, with a warning), encoded with its meter (an unsupported meter is
replaced by the nearest supported one, with a warning) and conditioned on in full; the continuation
is decoded and transposed back. Both long calls take ``on_progress(done, total, message)`` and ``should_stop()`` (`musicgen.progress`).
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass, field
from typing import Any

from musicgen.cadence import CadenceRule, CadenceTracker, bars_since_first_full_bar, cadence_bars
from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.library import ModelInfo, model_card, resolve_checkpoint
from musicgen.melody import Melody, pitch_to_name
from musicgen.tokens import (
    PITCH,
    PITCH_MAX,
    PITCH_MIN,
    VOCAB,
    GrammarTracker,
    nearest_supported_meter,
    tonic_shift,
)
from musicgen.progress import ProgressFn, StopFn, check_stop, report

__all__ = ["GenerationConfig", "Generator", "load_generator", "continue_melody", "prepare_seed",
           "sample_continuations"]


@dataclass(frozen=True)
class Generator:
    """A loaded model ready to continue melodies."""

    name: str
    kind: str
    model: Any = field(repr=False)  # a musicgen.models.NextTokenModel
    metadata: dict = field(repr=False)
    card: ModelInfo


# --------------------------------------------------------------------------------------- models


def load_generator(
    name_or_path: str | os.PathLike[str],
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Generator:
    """Load a model by name or a checkpoint by path, checked against the vocabulary."""
    from musicgen.checkpoint import load_checkpoint

    path = resolve_checkpoint(name_or_path)
    check_stop(should_stop, "loading the model")
    report(on_progress, 0, 1, f"loading {path.stem}")
    model, metadata = load_checkpoint(path, expected_tokens=list(VOCAB.tokens))
    report(on_progress, 1, 1, f"loaded {path.stem}")
    card = model_card(path, metadata)
    return Generator(name=card.name, kind=model.kind, model=model, metadata=metadata, card=card)


# ---------------------------------------------------------------------------------------- seeds


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


# ------------------------------------------------------------------------------------- continue


def continue_melody(
    seed: Melody,
    generator: Generator,
    config: GenerationConfig = GenerationConfig(),
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """Continue ``seed`` ``config.variations`` times; see the module docstring.

    With ``config.form == "aabb"`` the result is a whole tune in AABB form (`musicgen.whole_tune`).
    """
    if config.form == "aabb":
        from musicgen.whole_tune import generate_tune

        return generate_tune(seed, generator, config, on_progress=on_progress, should_stop=should_stop)
    if config.bars is None:
        raise GenerationError("A continuation needs a number of bars.")
    adapted, shift = prepare_seed(seed)
    rng_seed = config.rng_seed if config.rng_seed is not None else secrets.randbelow(2**31)
    if config.cadence:
        bars = cadence_bars(adapted, config.bars, config.phrase_bars)
        degree: int | None = config.cadence_degree
    else:
        bars = config.bars + (1 if bars_since_first_full_bar(adapted)[1] else 0)
        degree = None
    melodies = sample_continuations(adapted, shift, generator, config, bars=bars, degree=degree,
                                    rng_seed=rng_seed, on_progress=on_progress, should_stop=should_stop)
    provenance = _provenance(generator, config, rng_seed)
    return [m.with_metadata(**provenance, variation=index + 1) for index, m in enumerate(melodies)]


def sample_continuations(
    seed: Melody,
    shift: int,
    generator: Generator,
    config: GenerationConfig,
    *,
    bars: int,
    degree: int | None,
    rng_seed: int,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """``config.variations`` continuations of exactly ``bars`` sampled bars (the first completes a
    seed ending mid-bar), closing on scale degree ``degree`` when it is not None. The seed must be
    one `prepare_seed` returned (or a header-only melody), ``shift`` its transposition."""
    import torch

    from musicgen.sampling import generate_ids

    seed_ids = VOCAB.encode(seed, end=False, transpose=shift)
    start = GrammarTracker.from_melody(VOCAB, seed, meter_constraint=config.meter_constraint)
    tracker: GrammarTracker | None = start if (config.grammar or config.meter_constraint) else None
    if degree is not None:
        rule = CadenceRule.for_continuation(bars, seed.key.mode, degree, seed.meter.strong_positions)
        tracker = CadenceTracker(start, rule)
    rows = generate_ids(
        generator.model,
        seed_ids,
        config.replace(bars=bars, max_tokens=None, cadence=degree is not None),
        tracker=tracker,
        banned_ids=_banned_pitch_ids(seed, shift, config),
        rng=torch.Generator().manual_seed(rng_seed),
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


def _provenance(generator: Generator, config: GenerationConfig, rng_seed: int) -> dict[str, object]:
    return {"model": generator.name, **config.provenance(rng_seed)}
