"""Resume state of a training run: weights, optimizer, schedule, data position and RNGs, no pickle.

``state.safetensors`` in the run folder (`run_folder.py`) holds the tensors (model weights, AdamW
moments, torch RNG states) and ``state.json`` beside it everything else (step, epoch, batch position, schedule horizon, best
validation figure, python and numpy RNG states, the training config). Both go through
``checkpoint.save_tensor_state``, which writes atomically, and each side records the step it belongs
to, so a pair torn by a kill between the two writes is refused rather than half-used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from musicgen.errors import TrainingError

__all__ = [
    "RunPosition",
    "save_state",
    "load_state",
    "restore_optimizer",
    "capture_rng",
    "restore_rng",
]

STATE_FORMAT = "musicgen-train-state"
STATE_VERSION = 1


@dataclass
class RunPosition:
    """Where a run is: the counters resume needs besides tensors."""

    step: int = 0  # optimizer steps taken
    epoch: int = 0  # current epoch (0-based)
    batch_in_epoch: int = 0  # batches of this epoch already trained on
    horizon: int = 0  # total steps of the learning-rate schedule
    best_val: float | None = None  # best validation bits per note so far
    bad_epochs: int = 0  # epochs since the best one (early stopping)
    elapsed_s: float = 0.0  # wall time of earlier sessions of this run
    last_val: float | None = None  # the latest validation bits per note
    history: dict[str, Any] = field(default_factory=dict)  # free-form extra counters


def capture_rng() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """torch (and CUDA) RNG states as tensors; python and numpy global RNG states as JSON."""
    tensors = {"rng.torch": torch.get_rng_state().clone()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s.clone()
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    meta = {
        "python": [version, list(internal), gauss],
        "numpy": {"name": name, "pos": int(pos), "has_gauss": int(has_gauss), "cached": cached},
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Put back the RNG states `capture_rng` recorded."""
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))
    n = meta["numpy"]
    keys = tensors["rng.numpy"].numpy().astype(np.uint32)
    np.random.set_state((n["name"], keys, n["pos"], n["has_gauss"], n["cached"]))


def _optimizer_to_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in sd["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{name}"] = value.detach()
            else:
                scalars.setdefault(str(index), {})[name] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def _optimizer_from_tensors(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, entries in meta["scalars"].items():
        state.setdefault(int(index), {}).update(entries)
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()}
              for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_state(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    position: RunPosition,
    extra: dict[str, Any],
) -> Path:
    """Write the resume state of ``model`` (unwrapped) and ``optimizer`` at ``position`` to
    ``path`` (a ``.safetensors`` file; its JSON goes beside it)."""
    from musicgen.checkpoint import save_tensor_state

    # No copies here: save_tensor_state copies only what safetensors could not take as it is
    # (a tied weight's second name, a view, a tensor on a GPU).
    tensors = {f"model.{k}": v.detach() for k, v in model.state_dict().items()}
    optim_tensors, optim_meta = _optimizer_to_tensors(optimizer)
    rng_tensors, rng_meta = capture_rng()
    tensors.update(optim_tensors)
    tensors.update(rng_tensors)
    tensors["position.step"] = torch.tensor([position.step], dtype=torch.int64)
    meta = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "position": position.__dict__,
        "optimizer": optim_meta,
        "rng": rng_meta,
        **extra,
    }
    save_tensor_state(path, tensors, meta)
    return path


def load_state(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], RunPosition]:
    """Read a resume state: (model state_dict, full meta, position); TrainingError if unusable."""
    from musicgen.checkpoint import load_tensor_state
    from musicgen.errors import CheckpointError

    if not path.exists():
        raise TrainingError(f"Cannot resume: {path} does not exist (start without --resume).")
    try:
        tensors, meta = load_tensor_state(path)
    except CheckpointError as exc:
        raise TrainingError(f"Cannot resume from {path}: {exc}") from exc
    if meta.get("format") != STATE_FORMAT or meta.get("version") != STATE_VERSION:
        raise TrainingError(f"Cannot resume from {path}: it is not a musicgen training state.")
    position = RunPosition(**meta["position"])
    if int(tensors["position.step"][0]) != position.step:
        raise TrainingError(
            f"Cannot resume from {path}: its tensors and JSON belong to different steps."
        )
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    meta["_tensors"] = tensors
    return weights, meta, position


def restore_optimizer(optimizer: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    """Load the optimizer state saved by `save_state` (``meta`` from `load_state`)."""
    optimizer.load_state_dict(_optimizer_from_tensors(meta["_tensors"], meta["optimizer"]))

