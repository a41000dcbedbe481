"""Continuing a melody: the few calls the app and the command line make (load a model, continue a seed).

API map:

- `GenerationConfig` (from `musicgen.generation`): every sampling choice, validated once.
- `load_generator(name_or_path) -> Generator`: a model name or a checkpoint path, resolved by
  `musicgen.library.resolve_checkpoint` (the library also lists the models a user can pick), run
  by the torch-free inference engine (`musicgen.engine`).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musicgen.cadence import bars_since_first_full_bar, cadence_bars
from musicgen.continuation import prepare_seed, sample_continuations, variation_seed
from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig, fresh_seed
from musicgen.library import ModelInfo, model_card, resolve_checkpoint
from musicgen.melody import Melody
from musicgen.tokens import VOCAB
from musicgen.progress import ProgressFn, StopFn, check_stop, report
from musicgen.whole_tune import generate_tune

__all__ = ["GenerationConfig", "Generator", "load_generator", "continue_melody", "prepare_seed",
           "sample_continuations"]


@dataclass(frozen=True)
class Generator:
    """A loaded model ready to continue melodies.

    ``engine`` is what generates (`musicgen.engine`: NumPy, no torch; the torch adapter for a
    checkpoint the NumPy engine cannot run). ``model`` is the torch model of the same checkpoint,
    loaded on first use (it imports torch): for evaluation and training tools, never for
    generating.
    """

    name: str
    kind: str
    engine: Any = field(repr=False)  # a musicgen.engine.Engine
    metadata: dict = field(repr=False)
    card: ModelInfo
    path: Path | None = None  # the checkpoint, from which ``model`` loads
    _torch: list = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def model(self) -> Any:
        """The torch `musicgen.models.NextTokenModel` of this checkpoint (loaded once, imports torch)."""
        if not self._torch:
            model = getattr(self.engine, "model", None)  # a torch fallback already holds it
            if model is None:
                from musicgen.checkpoint import load_checkpoint

                if self.path is None:
                    raise GenerationError(f"{self.name} has no checkpoint to load a torch model from")
                model, _ = load_checkpoint(self.path, expected_tokens=list(VOCAB.tokens))
            self._torch.append(model)
        return self._torch[0]

    @classmethod
    def from_model(cls, model: Any, name: str) -> Generator:
        """A generator for a torch model in memory (a fresh or random-initialised one): its weights
        copied into the NumPy engine."""
        from musicgen.engine import engine_from_model

        card = ModelInfo(name, Path(f"{name}.safetensors"), model.kind, model.num_parameters(),
                         None, None)
        generator = cls(name=name, kind=model.kind, engine=engine_from_model(model), metadata={},
                        card=card)
        generator._torch.append(model)
        return generator


# --------------------------------------------------------------------------------------- models


def load_generator(
    name_or_path: str | os.PathLike[str],
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Generator:
    """Load a model by name or a checkpoint by path, checked against the vocabulary (no torch:
    the NumPy engine; a checkpoint it cannot run falls back to torch with a warning)."""
    from musicgen.engine import load_engine

    path = resolve_checkpoint(name_or_path)
    check_stop(should_stop, "loading the model")
    report(on_progress, 0, 1, f"loading {path.stem}")
    engine, metadata = load_engine(path, expected_tokens=list(VOCAB.tokens))
    report(on_progress, 1, 1, f"loaded {path.stem}")
    card = model_card(path, metadata)
    return Generator(name=card.name, kind=engine.kind, engine=engine, metadata=metadata, card=card,
                     path=path)


# ---------------------------------------------------------------------------------------- seeds


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
        return generate_tune(seed, generator, config, on_progress=on_progress, should_stop=should_stop)
    if config.bars is None:
        raise GenerationError("A continuation needs a number of bars.")
    adapted, shift = prepare_seed(seed)
    rng_seed = config.rng_seed if config.rng_seed is not None else fresh_seed()
    if config.cadence:
        bars = cadence_bars(adapted, config.bars, config.phrase_bars)
        degree: int | None = config.cadence_degree
    else:
        bars = config.bars + (1 if bars_since_first_full_bar(adapted)[1] else 0)
        degree = None
    melodies = sample_continuations(adapted, shift, generator, config, bars=bars, degree=degree,
                                    rng_seed=rng_seed, on_progress=on_progress, should_stop=should_stop)
    return [m.with_metadata(**_provenance(generator, config, rng_seed, index))
            for index, m in enumerate(melodies)]


def _provenance(generator: Generator, config: GenerationConfig, set_seed: int,
                index: int) -> dict[str, object]:
    """A variation's provenance: ``rng_seed`` is its own seed (the set's plus its index), the seed
    that gives these notes again with one variation; ``set_rng_seed`` the set's."""
    return {"model": generator.name, **config.provenance(variation_seed(set_seed, index)),
            "set_rng_seed": set_seed, "variation": index + 1}
