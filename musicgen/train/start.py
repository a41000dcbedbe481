"""What a training run starts from: the encoded splits, the model (new, fine-tuned or resumed), paths.

``build_for_run`` seeds every RNG, encodes the corpus's train and validation splits with the one
vocabulary (windows of the model's context), and builds the model: from the preset, from an
``--init`` checkpoint (vocabulary checked), or from the config a resume state recorded.
``checkpoint_metadata`` is the JSON saved beside every checkpoint's tensors.
"""

from __future__ import annotations

import os
import platform
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from musicgen.errors import CheckpointError, CorpusError, TrainingError
from musicgen.train.config import TrainConfig
from musicgen.train.data import TuneSequences, encode_tunes

__all__ = ["Prepared", "build_for_run", "checkpoint_metadata", "hardware_string"]

@dataclass
class Prepared:
    """Everything a run needs besides the optimizer."""

    kind: str  # "lstm" or "transformer"
    model: torch.nn.Module
    model_config_dict: dict[str, Any]
    train: TuneSequences
    val: TuneSequences
    pad_id: int
    corpus_name: str
    fingerprint: str | None
    tunes_per_split: dict[str, int]
    init_checkpoint: str | None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_for_run(
    config: TrainConfig,
    corpus: Any,
    init_checkpoint: str | os.PathLike[str] | None,
    resumed_model: dict[str, Any] | None,
) -> Prepared:
    """Seed, build or load the model, and encode the train and validation splits."""
    from musicgen.models import build_model, config_from_dict, config_to_dict, model_config
    from musicgen.tokens import VOCAB

    seed_everything(config.seed)
    if resumed_model is not None:
        kind = resumed_model["kind"]
        model = build_model(kind, config_from_dict(kind, resumed_model["config"]))
    elif init_checkpoint is not None:
        kind, model = _load_init(config, Path(init_checkpoint))
    else:
        kind = config.model
        mc = model_config(kind, VOCAB.size, config.preset, **config.overrides)
        model = build_model(kind, mc, token_ticks=VOCAB.token_ticks())
    splits = {name: corpus.split(name) for name in ("train", "val", "test")}
    window = _window(config, model)

    def encode(melody: Any, semitones: int) -> list[int]:
        if semitones == 0:
            return VOCAB.encode(melody)
        return VOCAB.encode(melody, transpose=VOCAB.shift_for(melody) + semitones)

    name = getattr(corpus, "name", "corpus")
    data = {}
    for split, augment in (("train", config.augment_semitones), ("val", 0)):
        melodies = [t.melody for t in splits[split]]
        data[split] = encode_tunes(melodies, encode, VOCAB.note_count, window=window,
                                   augment_semitones=augment)
        if data[split].tune_count == 0:
            raise CorpusError(f"The corpus '{name}' has no {split} tunes the vocabulary can "
                              "encode: add more tunes.")
    return Prepared(kind, model, config_to_dict(model.config), data["train"], data["val"],
                    VOCAB.pad_id, name, getattr(corpus, "fingerprint", None),
                    {k: len(v) for k, v in splits.items()},
                    None if init_checkpoint is None else str(init_checkpoint))


def _window(config: TrainConfig, model: Any) -> int | None:
    context = getattr(model, "max_context", None)
    if config.max_seq_len is None:
        return context
    return config.max_seq_len if context is None else min(config.max_seq_len, context)


def _load_init(config: TrainConfig, path: Path) -> tuple[str, torch.nn.Module]:
    """The model of a checkpoint to fine-tune; its vocabulary must be this one."""
    from musicgen.checkpoint import load_checkpoint
    from musicgen.library import resolve_checkpoint
    from musicgen.tokens import VOCAB

    try:
        path = resolve_checkpoint(path)
        model, meta = load_checkpoint(path, expected_tokens=VOCAB.tokens)
    except CheckpointError as exc:
        raise CheckpointError(f"Cannot fine-tune from {path}: {exc}") from exc
    kind = getattr(model, "kind", None) or meta.get("model", {}).get("kind")
    if kind != config.model:
        raise TrainingError(f"Cannot fine-tune {path} as a {config.model}: it holds model kind "
                            f"'{kind}' (pass --model {kind}).")
    return kind, model


def checkpoint_metadata(
    config: TrainConfig, prep: Prepared, metrics: dict[str, Any], wall_time_s: float
) -> dict[str, Any]:
    """The JSON half of a checkpoint: what was trained, on what, how, with what result."""
    from musicgen.tokens import VOCAB

    return {
        "vocabulary": {"version": VOCAB.version, "tokens": list(VOCAB.tokens)},
        "training": config.to_dict(),
        "corpus": {"name": prep.corpus_name, "fingerprint": prep.fingerprint,
                   "tunes": prep.tunes_per_split},
        "init_checkpoint": prep.init_checkpoint,
        "metrics": metrics,
        "wall_time_s": round(wall_time_s, 3),
        "command": command_line(),
        "hardware": hardware_string(),
        "torch_version": torch.__version__,
    }


def command_line() -> str:
    """The command that is running, as a user would type it (`python -m musicgen.cli` reads as
    `musicgen`)."""
    import shlex

    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("cli.py", "__main__.py", "musicgen"):
        argv[0] = "musicgen"
    return shlex.join(argv)


def hardware_string() -> str:
    """A short description of the machine the run used."""
    cpu = f"{platform.machine()} {os.cpu_count()} CPU cores"
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}, {cpu}"
    return cpu
