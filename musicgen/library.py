"""The model library: one resolver from a model name or a path to its checkpoint files, and the cards
of the models a user can pick. Torch-free (reads JSON only).

A name resolves, in this order:

- ``lstm`` / ``transformer``: the shipped models (``checkpoints/lstm-folk``, ``transformer-folk``);
- a path that exists, given as the ``.safetensors`` file, the ``.json`` file or their common stem;
- a checkpoint's name (its file stem) in the shipped folder, then in the user's models folder
  (``models`` in the data folder, see `musicgen.userdirs`).

Every command (``generate --model``, ``evaluate``, ``train --init``) and the app resolve through
`resolve_checkpoint`, so a name that works in one place works in all.

The user's own models (``available_models`` marks them ``user``) can be renamed and deleted:
`rename_model` and `delete_model` move or remove the checkpoint, its card (``<name>.md``) and its
run folder (``<name>.run``, `musicgen.train.run_folder`) together; shipped models cannot be.
"""

from __future__ import annotations

import json
import os
import re
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
    "user_model_path",
    "check_model_name",
    "rename_model",
    "delete_model",
    "looks_like_checkpoint",
    "describe_checkpoint",
]

DEFAULT_CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
# The shipped models: the names the app and `--model` accept besides a path.
MODEL_NAMES = {"lstm": "lstm-folk", "transformer": "transformer-folk"}
_SUFFIXES = (".safetensors", ".json")
# training files of runs from before run folders (`musicgen.train.run_folder`), not models
_LEFTOVERS = (".last.safetensors", ".state.safetensors")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.+-]{0,79}")


@dataclass(frozen=True)
class ModelInfo:
    """A model card: what the checkpoint's JSON says about it."""

    name: str  # the checkpoint's file stem, e.g. "lstm-folk"
    path: Path  # the .safetensors file
    kind: str  # "lstm" or "transformer"
    parameters: int | None  # trainable numbers
    corpus: str | None  # the corpus it was trained on
    bits_per_note: float | None  # its held-out quality (test split if measured, else validation)
    measured_on: str | None = None  # which tunes `bits_per_note` was measured on, in words
    bits_before: float | None = None  # a fine-tune's base model on the same tunes
    base: str | None = None  # the model a fine-tune started from
    copy_share: float | None = None  # a fine-tune's share of samples copying 4+ bars of its tunes
    copy_reference: float | None = None  # the same for the base model (or the held-out tunes)
    user: bool = False  # one of the user's own models (in the models folder): may be renamed


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
    from musicgen.userdirs import models_dir

    folders = [Path(checkpoint_dir)] if checkpoint_dir is not None else _library_folders()
    user_folder = models_dir().resolve()
    cards: list[ModelInfo] = []
    seen: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for tensors in sorted(folder.glob("*.safetensors")):
            if tensors.name.endswith(_LEFTOVERS) or tensors.stem in seen:
                continue
            try:
                card = model_card(tensors, read_checkpoint_metadata(tensors))
            except CheckpointError as exc:
                warnings.warn(f"skipping {tensors.name}: {exc}", stacklevel=2)
                continue
            if folder.resolve() == user_folder:
                card = _replace(card, user=True)
            cards.append(card)
            seen.add(tensors.stem)
    return cards


def _replace(card: ModelInfo, **changes: object) -> ModelInfo:
    from dataclasses import replace

    return replace(card, **changes)  # type: ignore[arg-type]


def model_card(path: Path, document: dict) -> ModelInfo:
    """The card of the checkpoint at ``path`` from its JSON document."""
    model = document.get("model", {})
    corpus = document.get("corpus")
    corpus_name = corpus.get("name") if isinstance(corpus, dict) else corpus
    metrics = document.get("metrics") or {}
    finetune = document.get("finetune") or {}
    held = finetune.get("held_out") or {}
    copies = finetune.get("copies") or {}
    if held:
        folder = Path(str((finetune.get("corpus") or {}).get("folder", ""))).name
        bits, measured_on = held.get("bits_per_note_after"), \
            f"{held.get('tunes')} of your own tunes held out" + (f" ({folder})" if folder else "")
    elif "test_bits_per_note" in metrics:
        bits, measured_on = metrics["test_bits_per_note"], f"the {corpus_name} test split"
    else:
        bits, measured_on = metrics.get("val_bits_per_note"), f"the {corpus_name} validation split"
    tensors, _ = checkpoint_paths(path)
    return ModelInfo(
        name=tensors.name[: -len(".safetensors")],
        path=tensors,
        kind=str(model.get("kind", "?")),
        parameters=model.get("parameters"),
        corpus=corpus_name,
        bits_per_note=_number(bits),
        measured_on=measured_on if _number(bits) is not None else None,
        bits_before=_number(held.get("bits_per_note_before")),
        base=finetune.get("base"),
        copy_share=_number(copies.get("kept_share")),
        copy_reference=_number(copies.get("reference_share")),
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


# --- the user's models ----------------------------------------------------------------------------
def user_model_path(name: str) -> Path:
    """Where the user's model called `name` lives (its .safetensors file), existing or not."""
    from musicgen.userdirs import models_dir

    return models_dir() / f"{check_model_name(name)}.safetensors"


def check_model_name(name: str) -> str:
    """`name` stripped, if it can name a model file; CheckpointError saying why not."""
    name = name.strip()
    if not _NAME.fullmatch(name) or name.endswith((".run", ".json", ".md", ".safetensors")):
        raise CheckpointError(
            f"'{name}' cannot name a model: use up to 80 letters, digits, spaces, '-', '_' or "
            "'.', starting with a letter or digit.")
    if name in MODEL_NAMES or name in MODEL_NAMES.values():
        raise CheckpointError(f"'{name}' is the name of a shipped model: choose another.")
    return name


def _user_model(name: str) -> Path:
    path = user_model_path(name)
    if not path.exists():
        raise CheckpointError(f"There is no model of yours called '{name}' in {path.parent}.")
    return path


def rename_model(name: str, new_name: str) -> Path:
    """Rename one of the user's models (checkpoint, card and run folder); the new tensor path."""
    from musicgen.train.card import render_card
    from musicgen.train.run_folder import run_files

    old = run_files(_user_model(name))
    new = run_files(user_model_path(new_name))
    if new.all_paths():
        raise CheckpointError(f"A model called '{new.name}' already exists: choose another name.")
    document = read_checkpoint_metadata(old.best)
    document["tensors"]["file"] = new.best.name
    from musicgen.io.atomic import atomic_write_text

    # The new JSON first (atomic), then the tensors (a rename): a kill in between leaves the old
    # model whole and loadable, never tensors without their JSON.
    atomic_write_text(new.best.with_suffix(".json"), json.dumps(document, indent=1))
    old.best.rename(new.best)
    old.best.with_suffix(".json").unlink()
    if old.folder.exists():
        old.folder.rename(new.folder)
    if old.card.exists():  # a generated card names the model: render it again
        old.card.rename(new.card)
        if document.get("finetune"):
            atomic_write_text(new.card, render_card(new.name, document))
    return new.best


def delete_model(name: str) -> None:
    """Delete one of the user's models: checkpoint, card and run folder."""
    from musicgen.train.run_folder import run_files

    run_files(_user_model(name)).delete()


# --- a checkpoint's summary (`musicgen info CKPT`) -----------------------------------------------
def looks_like_checkpoint(name_or_path: str | os.PathLike[str]) -> bool:
    """True for a checkpoint file or stem, a shipped model's name or a library name."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.suffix == ".safetensors" or text in MODEL_NAMES:
        return True
    if path.suffix == ".json":
        from musicgen.safe_json import read_json

        try:  # limits on size and depth; a FIFO named .json is refused, not waited on
            return read_json(path).get("format") == "musicgen-checkpoint"
        except (OSError, ValueError, AttributeError):
            return False
    return not path.exists() and resolve_checkpoint(text).exists()


def describe_checkpoint(name_or_path: str | os.PathLike[str]) -> dict:
    """What a checkpoint is, as a JSON-ready dict: kind, size, model fields, vocabulary, corpus,
    training, figures (and a fine-tune's held-out and copy figures). Reads JSON only."""
    path = resolve_checkpoint(name_or_path)
    document = read_checkpoint_metadata(path)
    card = model_card(path, document)
    model, training = document.get("model", {}), document.get("training") or {}
    metrics = document.get("metrics") or {}
    return {
        "name": card.name, "path": str(path), "kind": card.kind,
        "parameters": card.parameters,
        "file_bytes": path.stat().st_size if path.exists() else None,
        "fields": model.get("config", {}),
        "vocabulary_version": document.get("vocabulary", {}).get("version"),
        "corpus": document.get("corpus"),
        "init_checkpoint": document.get("init_checkpoint"),
        "training": {k: training.get(k) for k in ("preset", "overrides", "minutes", "max_epochs",
                                                    "lr", "batch_size", "seed") if k in training},
        "steps": metrics.get("steps"), "epochs": metrics.get("epochs"),
        "wall_time_s": document.get("wall_time_s"), "hardware": document.get("hardware"),
        "command": document.get("command"),
        "figures": {"bits_per_note": card.bits_per_note, "measured_on": card.measured_on,
                    "val_bits_per_note": _number(metrics.get("val_bits_per_note")),
                    "test_bits_per_note": _number(metrics.get("test_bits_per_note")),
                    "bits_before": card.bits_before, "base": card.base,
                    "copy_share": card.copy_share, "copy_reference": card.copy_reference},
    }
