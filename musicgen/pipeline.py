"""Continuing a melody: the few calls the app and the command line make (load a model, continue a seed).

API map:

- `GenerationConfig`: sampling settings and constraint switches (frozen, JSON-native).
- `available_models(checkpoint_dir=None) -> list[ModelInfo]`: the model cards of the checkpoints in a
  folder (default: the shipped ``checkpoints/``), read from their JSON only (no torch).
- `load_generator(name_or_path) -> Generator`: ``"lstm"`` / ``"transformer"`` are the shipped models,
  anything else a checkpoint path.
- `continue_melody(seed, generator, config) -> list[Melody]`: one melody per variation, the seed
  followed by its continuation, in the seed's key, tempo, meter and pickup, ``seed_end_ticks`` at the
  seed's end and the provenance in ``metadata``.

The seed goes through the vocabulary (`tokens.VOCAB`): transposed so its tonic is C (and by octaves
into the pitch range when needed, with a warning), encoded with its meter (an unsupported meter is
replaced by the nearest supported one, with a warning) and conditioned on in full; the continuation
is decoded and transposed back. Both long calls take ``on_progress(fraction)`` and ``should_stop()``.
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from musicgen.errors import Cancelled, CheckpointError, GenerationError
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

__all__ = [
    "GenerationConfig",
    "ModelInfo",
    "Generator",
    "MODEL_NAMES",
    "DEFAULT_CHECKPOINT_DIR",
    "available_models",
    "resolve_model_path",
    "load_generator",
    "continue_melody",
    "prepare_seed",
]

DEFAULT_CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
# The shipped models: the names the app and `--model` accept besides a path.
MODEL_NAMES = {"lstm": "lstm-folk", "transformer": "transformer-folk"}

ProgressCallback = Callable[[float], None]
StopCallback = Callable[[], bool]


@dataclass(frozen=True)
class GenerationConfig:
    """How to continue a seed: sampling settings and constraint switches."""

    temperature: float = 1.0  # 0 is greedy; higher is more adventurous
    top_k: int = 0  # sample among the k most likely tokens only (0: all)
    top_p: float = 1.0  # sample among the fewest tokens holding this probability (1: all)
    bars: int = 8  # bars to add after the seed (a seed ending mid-bar has that bar completed first)
    variations: int = 1  # continuations sampled together
    rng_seed: int | None = None  # None draws one and records it in the result's metadata
    key_lock: bool = False  # only pitches of the seed's scale (mode-aware)
    meter_constraint: bool = True  # every bar exactly the meter's length
    grammar: bool = True  # only token sequences the vocabulary can decode
    pitch_range: tuple[int, int] | None = None  # lowest and highest MIDI pitch, in the seed's key
    stop_at_end: bool = False  # True lets a variation end early where the model ends the tune
    max_notes: int | None = None  # also stop a variation after this many notes


@dataclass(frozen=True)
class ModelInfo:
    """A model card: what the checkpoint's JSON says about it."""

    name: str  # the checkpoint's file stem, e.g. "lstm-folk"
    path: Path  # the .safetensors file
    kind: str  # "lstm" or "transformer"
    parameters: int | None  # trainable numbers
    corpus: str | None  # the corpus it was trained on
    bits_per_note: float | None  # its held-out quality (test split if measured, else validation)


@dataclass(frozen=True)
class Generator:
    """A loaded model ready to continue melodies."""

    name: str
    kind: str
    model: Any = field(repr=False)  # a musicgen.models.NextTokenModel
    metadata: dict = field(repr=False)
    card: ModelInfo


# --------------------------------------------------------------------------------------- models


def available_models(checkpoint_dir: str | os.PathLike[str] | None = None) -> list[ModelInfo]:
    """Model cards of the checkpoints in ``checkpoint_dir`` (default: the shipped ones), by name."""
    from musicgen.checkpoint import read_checkpoint_metadata

    folder = Path(checkpoint_dir) if checkpoint_dir is not None else DEFAULT_CHECKPOINT_DIR
    cards = []
    for tensors in sorted(folder.glob("*.safetensors")):
        if tensors.name.endswith((".last.safetensors", ".state.safetensors")):
            continue  # training leftovers, not models to offer
        try:
            cards.append(_card(tensors, read_checkpoint_metadata(tensors)))
        except CheckpointError as exc:
            warnings.warn(f"skipping {tensors.name}: {exc}", stacklevel=2)
    return cards


def _card(path: Path, document: dict) -> ModelInfo:
    model = document.get("model", {})
    corpus = document.get("corpus")
    metrics = document.get("metrics") or {}
    bits = metrics.get("test_bits_per_note", metrics.get("val_bits_per_note"))
    return ModelInfo(
        name=path.name[: -len(".safetensors")],
        path=path,
        kind=str(model.get("kind", "?")),
        parameters=model.get("parameters"),
        corpus=corpus.get("name") if isinstance(corpus, dict) else corpus,
        bits_per_note=float(bits) if isinstance(bits, (int, float)) else None,
    )


def resolve_model_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The checkpoint file for a shipped model name ("lstm", "transformer") or a path."""
    text = str(name_or_path)
    if text in MODEL_NAMES:
        return DEFAULT_CHECKPOINT_DIR / f"{MODEL_NAMES[text]}.safetensors"
    path = Path(text).expanduser()
    return path if path.suffix in (".safetensors", ".json") else path.with_name(path.name + ".safetensors")


def load_generator(
    name_or_path: str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> Generator:
    """Load a shipped model by name or a checkpoint by path, checked against the vocabulary."""
    from musicgen.checkpoint import load_checkpoint

    path = resolve_model_path(name_or_path)
    if str(name_or_path) in MODEL_NAMES and not path.exists():
        raise CheckpointError(
            f"The shipped {name_or_path} model is missing ({path}); train one with "
            f"'musicgen train --model {name_or_path} -o {path}' or pass a checkpoint path."
        )
    if should_stop is not None and should_stop():
        raise Cancelled("loading the model was cancelled")
    if on_progress is not None:
        on_progress(0.0)
    model, metadata = load_checkpoint(path, expected_tokens=list(VOCAB.tokens))
    if on_progress is not None:
        on_progress(1.0)
    card = _card(path.with_suffix(".safetensors"), metadata)
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
        if not 0 <= low <= high <= 127:
            raise GenerationError(f"The pitch range {low}-{high} is not two MIDI pitches, low to high.")
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
    on_progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> list[Melody]:
    """Continue ``seed`` ``config.variations`` times; see the module docstring."""
    import torch

    from musicgen.sampling import generate_ids

    adapted, shift = prepare_seed(seed)
    seed_ids = VOCAB.encode(adapted, end=False, transpose=shift)
    start = GrammarTracker.from_melody(VOCAB, adapted, meter_constraint=config.meter_constraint)
    mid_bar = start.expect != "bar"  # the continuation completes the seed's last bar first
    rng_seed = config.rng_seed if config.rng_seed is not None else secrets.randbelow(2**31)
    sampling = _sampling_config(config, bars=config.bars + (1 if mid_bar else 0))
    rows = generate_ids(
        generator.model,
        seed_ids,
        sampling,
        tracker=start if (config.grammar or config.meter_constraint) else None,
        banned_ids=_banned_pitch_ids(adapted, shift, config),
        rng=torch.Generator().manual_seed(rng_seed),
        on_progress=on_progress,
        should_stop=should_stop,
    )
    provenance = _provenance(generator, config, rng_seed)
    return [
        _assemble(adapted, seed_ids, row, shift).with_metadata(**provenance, variation=index + 1)
        for index, row in enumerate(rows)
    ]


def _sampling_config(config: GenerationConfig, *, bars: int) -> Any:
    from musicgen.sampling import SamplingConfig

    if config.bars < 1:
        raise GenerationError(f"The number of bars must be at least 1, got {config.bars}.")
    return SamplingConfig(
        temperature=config.temperature,
        top_k=config.top_k,
        top_p=config.top_p,
        variations=config.variations,
        max_bars=bars,
        max_notes=config.max_notes,
        max_tokens=bars * 100 + 16,  # a 4/2 bar of sixteenths with a tie each is under 100 tokens
        stop_at_end=config.stop_at_end,
    )


def _assemble(seed: Melody, seed_ids: list[int], row: list[int], shift: int) -> Melody:
    """The seed (exactly as given) followed by the decoded continuation, boundary marked."""
    full = VOCAB.decode(seed_ids + row, transpose=-shift)
    end = seed.duration_ticks
    continuation = full.slice_ticks(end, max(end, full.duration_ticks))
    return seed.concatenated(continuation).replace(seed_end_ticks=end)


def _provenance(generator: Generator, config: GenerationConfig, rng_seed: int) -> dict[str, object]:
    items: dict[str, object] = {
        "model": generator.name,
        "temperature": config.temperature,
        "top_k": config.top_k,
        "top_p": config.top_p,
        "rng_seed": rng_seed,
        "bars": config.bars,
        "key_lock": config.key_lock,
        "meter_constraint": config.meter_constraint,
    }
    if not config.grammar:
        items["grammar"] = False
    if config.pitch_range is not None:
        items["pitch_range"] = f"{config.pitch_range[0]}-{config.pitch_range[1]}"
    return items
