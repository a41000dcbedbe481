"""The next-token models (LSTM and Transformer) behind one interface; they know ids and tensors.

API map:

- ``LSTMConfig``, ``TransformerConfig``: frozen size configs (``config.py``, torch-free).
- ``PRESETS[kind][name]``, ``model_config(kind, vocab_size, preset, **overrides)``: named sizes
  ("tiny", "small", "cpu", "gpu").
- ``config_to_dict(config)``, ``config_from_dict(kind, d)``: the JSON form saved in checkpoints.
- ``build_model(kind, config) -> NextTokenModel``: a freshly initialised model.
- ``NextTokenModel``: ``forward(ids, targets)``, ``init_state``, ``step``, ``reorder_state``,
  ``max_context``, ``num_parameters`` (``base.py``); ``LSTMModel`` (``lstm.py``) and
  ``TransformerModel`` (``transformer.py``, also ``attention_weights``).

Importing this package does not import torch: the configs load at once, the model classes on first
use (the app shows its window before torch has loaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicgen.models.config import (
    MODEL_KINDS,
    PAD_ID,
    PRESETS,
    LSTMConfig,
    ModelConfig,
    ModelConfigError,
    TransformerConfig,
    config_from_dict,
    config_to_dict,
    model_config,
)

if TYPE_CHECKING:
    from musicgen.models.base import NextTokenModel
    from musicgen.models.lstm import LSTMModel
    from musicgen.models.transformer import KVCache, TransformerModel

__all__ = [
    "PAD_ID",
    "MODEL_KINDS",
    "PRESETS",
    "LSTMConfig",
    "TransformerConfig",
    "ModelConfig",
    "ModelConfigError",
    "model_config",
    "config_to_dict",
    "config_from_dict",
    "build_model",
    "NextTokenModel",
    "LSTMModel",
    "TransformerModel",
    "KVCache",
]

# Names served lazily from submodules that import torch.
_LAZY = {
    "NextTokenModel": "musicgen.models.base",
    "LSTMModel": "musicgen.models.lstm",
    "TransformerModel": "musicgen.models.transformer",
    "KVCache": "musicgen.models.transformer",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'musicgen.models' has no attribute {name!r}")


def build_model(
    kind: str, config: ModelConfig, token_ticks: "list[int] | None" = None
) -> "NextTokenModel":
    """A freshly initialised model of ``kind`` ("lstm" or "transformer") with ``config``.

    ``token_ticks`` (the vocabulary's ``token_ticks()``) is what a Transformer with
    ``bar_position`` counts metrical position with; a checkpoint carries its own. Without it the
    table is all zeros and the bar embedding reads "unknown" everywhere (so pass it for any model
    that will be trained or timed).
    """
    if kind == "lstm" and isinstance(config, LSTMConfig):
        from musicgen.models.lstm import LSTMModel

        return LSTMModel(config)
    if kind == "transformer" and isinstance(config, TransformerConfig):
        from musicgen.models.transformer import TransformerModel

        model = TransformerModel(config)
        if token_ticks is not None:
            model.set_token_ticks(token_ticks)
        return model
    if kind not in MODEL_KINDS:
        raise ModelConfigError(f"unknown model kind {kind!r}: choose lstm or transformer")
    raise ModelConfigError(f"a {kind} model needs a {kind} config, got {type(config).__name__}")
