"""The inference engine: next-token models evaluated with NumPy, no torch import.

Generation is what users do most, and ``import torch`` alone costs 1.5-2.5 s here; the models'
steps are a few small matrix products, which NumPy does as fast as torch's eager mode or faster
(figures and the choice against ONNX Runtime: README "Inference engine",
benchmarks/bench_engine.py). Torch stays for training and evaluation.

API map:

- ``load_engine(path, expected_tokens=...) -> (Engine, document)``: the engine of a checkpoint,
  built from its safetensors and JSON (no export, nothing cached beside it). A checkpoint the
  NumPy engine cannot run (`EngineUnsupported`) is run by torch instead, with a warning: slower
  to start, never a wrong answer. A damaged checkpoint raises `CheckpointError` as ever.
- ``engine_from_arrays(kind, config, arrays)``: the same from arrays in memory.
- Each NumPy engine's ``step`` is one call to the compiled step where it is built
  (``native.c``, `musicgen.engine.native`; ``make venv`` builds it), NumPy calls otherwise;
  ``compiled=False`` asks for NumPy only; ``engine.compiled`` says which it uses.
- ``as_engine(model)``: an engine as it is; a torch model wrapped in `TorchEngine`.
- ``Engine`` (``base.py``): the interface (``new_state``, ``run``, ``step``, ``forward``,
  ``select``, ``running``); ``LSTMEngine`` (``lstm.py``), ``TransformerEngine``
  (``transformer.py``), ``TorchEngine`` (``torch_engine.py``, imports torch).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from musicgen.engine.base import Engine, EngineUnsupported
from musicgen.engine.lstm import LSTMEngine
from musicgen.engine.transformer import TransformerEngine

__all__ = ["Engine", "EngineUnsupported", "LSTMEngine", "TransformerEngine", "load_engine",
           "engine_from_arrays", "engine_from_model", "as_engine", "ENGINES"]

ENGINES: dict[str, Any] = {"lstm": LSTMEngine, "transformer": TransformerEngine}


def engine_from_arrays(kind: str, config: dict, arrays: dict[str, np.ndarray], *,
                       compiled: bool = True) -> Engine:
    """The NumPy engine for a model of ``kind`` and ``config`` (a checkpoint's JSON config) with
    these tensors; `EngineUnsupported` when it does not implement them. ``compiled``: step with
    the compiled step where it is built (`musicgen.engine.native`); False: NumPy only."""
    engine_class = ENGINES.get(kind)
    if engine_class is None:
        raise EngineUnsupported(f"a model of kind {kind!r}")
    engine_class.check(config, arrays)
    return engine_class(config, arrays, compiled=compiled)


def load_engine(
    path: str | os.PathLike[str], *, expected_tokens: list[str] | None = None,
    fallback: bool = True, compiled: bool = True,
) -> tuple[Engine, dict]:
    """The engine of the checkpoint at ``path`` and its JSON document (see the module docstring)."""
    from musicgen.checkpoint import checkpoint_paths, read_checkpoint_arrays
    from musicgen.errors import CheckpointError
    from musicgen.models.config import ModelConfigError, config_from_dict, config_to_dict

    arrays, document = read_checkpoint_arrays(path, expected_tokens=expected_tokens)
    kind = document["model"]["kind"]
    try:
        config = config_to_dict(config_from_dict(kind, document["model"]["config"]))
    except ModelConfigError as exc:
        json_path = checkpoint_paths(path)[1]
        raise CheckpointError(f"{json_path} describes an impossible model ({exc}): the file was "
                              "edited or damaged; restore it or retrain") from exc
    try:
        return engine_from_arrays(kind, config, arrays, compiled=compiled), document
    except EngineUnsupported as exc:
        if not fallback:
            raise
        reason = exc
    warnings.warn(f"the fast engine cannot run {checkpoint_paths(path)[0].stem} ({reason}); "
                  "generating with torch instead (slower to start)", stacklevel=2)
    return _torch_engine(path, expected_tokens), document


def _torch_engine(path: str | os.PathLike[str], expected_tokens: list[str] | None) -> Engine:
    from musicgen.checkpoint import load_checkpoint
    from musicgen.engine.torch_engine import TorchEngine

    model, _ = load_checkpoint(path, expected_tokens=expected_tokens)
    return TorchEngine(model)


def engine_from_model(model: Any, *, compiled: bool = True) -> Engine:
    """The NumPy engine of a torch model's current weights (tests, benchmarks, fresh models)."""
    from musicgen.models import config_to_dict

    arrays = {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()}
    return engine_from_arrays(model.kind, config_to_dict(model.config), arrays, compiled=compiled)


def as_engine(model: Any) -> Engine:
    """``model`` itself when it is an engine; a torch model (anything with ``init_state``) wrapped."""
    if hasattr(model, "new_state") and hasattr(model, "select"):
        return model
    if hasattr(model, "init_state") and hasattr(model, "reorder_state"):
        from musicgen.engine.torch_engine import TorchEngine

        return TorchEngine(model)
    raise TypeError(f"{type(model).__name__} is neither an engine nor a next-token model")
