"""The model library: one resolver from a model name or a path to its checkpoint files, and the cards
of the models a user can pick. Torch-free (reads JSON only).

A name resolves, in this order:

- ``lstm`` / ``transformer``: the shipped models (``checkpoints/lstm-folk``, ``transformer-folk``);
- a path that exists, given as the ``.safetensors`` file, the ``.json`` file or their common stem;
- a checkpoint's name (its file stem) in the shipped folder, then in the user's models folder
  (``models`` in the data folder, see `musicgen.userdirs`).

Every command (``generate --model``, ``evaluate``, ``train --init``) and the app resolve through
`resolve_checkpoint`, so a name that works in one place works in all.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from musicgen.checkpoint import checkpoint_paths, read_checkpoint_metadata
from musicgen.errors import CheckpointError

__all__ = [
    "DEFAULT_CHECKPOINT_DIR",
    "MODEL_NAMES",
    "ModelInfo",
    "resolve_checkpoint",
    "available_models",
    "model_card",
]

DEFAULT_CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
# The shipped models: the names the app and `--model` accept besides a path.
MODEL_NAMES = {"lstm": "lstm-folk", "transformer": "transformer-folk"}
_SUFFIXES = (".safetensors", ".json")
_LEFTOVERS = (".last.safetensors", ".state.safetensors")  # training files, not models to offer


@dataclass(frozen=True)
class ModelInfo:
    """A model card: what the checkpoint's JSON says about it."""

    name: str  # the checkpoint's file stem, e.g. "lstm-folk"
    path: Path  # the .safetensors file
    kind: str  # "lstm" or "transformer"
    parameters: int | None  # trainable numbers
    corpus: str | None  # the corpus it was trained on
    bits_per_note: float | None  # its held-out quality (test split if measured, else validation)


def resolve_checkpoint(name_or_path: str | os.PathLike[str]) -> Path:
    """The ``.safetensors`` file of a model name or a checkpoint path (see the module docstring).

    Raises `CheckpointError` for a shipped model that is missing; any other name that matches
    nothing resolves as a path, so loading it says which file is missing.
    """
    text = str(name_or_path)
    if text in MODEL_NAMES:
        path = DEFAULT_CHECKPOINT_DIR / f"{MODEL_NAMES[text]}.safetensors"
        if not path.exists():
            raise CheckpointError(
                f"The shipped {text} model is missing ({path}); train one with "
                f"'musicgen train --model {text} -o {path.with_suffix('')}' or pass a checkpoint path."
            )
        return path
    tensors, document = checkpoint_paths(Path(text).expanduser())
    if tensors.exists() or document.exists():
        return tensors
    if Path(text).name == text:  # a bare name: a shipped or a user model's stem
        stem = text[: -len(Path(text).suffix)] if Path(text).suffix in _SUFFIXES else text
        for folder in _library_folders():
            candidate = folder / f"{stem}.safetensors"
            if candidate.exists():
                return candidate
    return tensors


def _library_folders() -> list[Path]:
    from musicgen.userdirs import models_dir

    return [DEFAULT_CHECKPOINT_DIR, models_dir()]


def available_models(checkpoint_dir: str | os.PathLike[str] | None = None) -> list[ModelInfo]:
    """Model cards of the checkpoints in ``checkpoint_dir``, by name; by default the shipped
    models, then the user's own (the models folder), each name once."""
    folders = [Path(checkpoint_dir)] if checkpoint_dir is not None else _library_folders()
    cards: list[ModelInfo] = []
    seen: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for tensors in sorted(folder.glob("*.safetensors")):
            if tensors.name.endswith(_LEFTOVERS) or tensors.stem in seen:
                continue
            try:
                cards.append(model_card(tensors, read_checkpoint_metadata(tensors)))
            except CheckpointError as exc:
                warnings.warn(f"skipping {tensors.name}: {exc}", stacklevel=2)
                continue
            seen.add(tensors.stem)
    return cards


def model_card(path: Path, document: dict) -> ModelInfo:
    """The card of the checkpoint at ``path`` from its JSON document."""
    model = document.get("model", {})
    corpus = document.get("corpus")
    metrics = document.get("metrics") or {}
    bits = metrics.get("test_bits_per_note", metrics.get("val_bits_per_note"))
    tensors, _ = checkpoint_paths(path)
    return ModelInfo(
        name=tensors.name[: -len(".safetensors")],
        path=tensors,
        kind=str(model.get("kind", "?")),
        parameters=model.get("parameters"),
        corpus=corpus.get("name") if isinstance(corpus, dict) else corpus,
        bits_per_note=float(bits) if isinstance(bits, (int, float)) else None,
    )
