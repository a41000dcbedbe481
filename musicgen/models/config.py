"""Model configurations: frozen dataclasses with JSON-native fields, and the named size presets.

Torch-free on purpose: the app's model card and the checkpoint reader use these without paying for
``import torch``. A config is saved inside every checkpoint (``config_to_dict``) and rebuilt from it
(``config_from_dict``), which validates every field.

Presets (``PRESETS[kind][name]``) are measured on the 2-core CPU this project is built on
(``benchmarks/bench_model_speed.py``):

- ``tiny``: a few thousand parameters, for tests (overfits a batch in a second).
- ``small``: quick experiments and demos, trains in minutes.
- ``cpu``: the shipped size; trains to good quality in under an hour on 2 cores and generates fast
  (targets: LSTM >= 5000, Transformer >= 2000 tokens/s single stream with cached state).
- ``gpu``: bigger, for a lent GPU.

Positional encoding: "learned" is the default. On 600 folk tunes, the small Transformer preset after
300 steps (2 seeds) reached 6.75 / 6.75 validation bits per note with learned positions and
6.75 / 6.81 with sinusoids (scaled to the embeddings' size): a tie, learned slightly steadier.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Union

from musicgen.errors import MusicGenError

__all__ = [
    "PAD_ID",
    "MODEL_KINDS",
    "POS_ENCODINGS",
    "ModelConfigError",
    "LSTMConfig",
    "TransformerConfig",
    "ModelConfig",
    "PRESETS",
    "model_config",
    "config_to_dict",
    "config_from_dict",
    "config_class",
    "SIZE_LIMITS",
    "MAX_PARAMETERS",
    "estimated_parameters",
]

# The padding id: the loss ignores it and batches are padded with it (tokens.py puts PAD first).
PAD_ID = 0
MODEL_KINDS = ("lstm", "transformer")
POS_ENCODINGS = ("learned", "sinusoidal")


class ModelConfigError(MusicGenError, ValueError):
    """A model configuration is invalid: unknown kind, preset or field, or an impossible size."""


# Upper bounds, checked when a config is built (so before any tensor is allocated): a config read
# from an unknown checkpoint that claims d_model 2**20 or 10**5 layers would otherwise ask for
# terabytes, or run for minutes. The `gpu` presets use a tenth of each; MAX_PARAMETERS (1 GB of
# float32 weights) is ~40 times the largest preset.
SIZE_LIMITS = {"vocab_size": 65_536, "embed_dim": 8_192, "hidden_dim": 8_192, "num_layers": 64,
               "d_model": 8_192, "n_heads": 256, "n_layers": 64, "d_ff": 32_768, "max_len": 65_536}
MAX_PARAMETERS = 250_000_000


@dataclass(frozen=True)
class LSTMConfig:
    """Size of the LSTM next-token model."""

    vocab_size: int  # number of token ids (the vocabulary's length, PAD included)
    embed_dim: int = 256  # width of the learned token embedding
    hidden_dim: int = 512  # width of each LSTM layer's hidden and cell state
    num_layers: int = 2  # stacked LSTM layers
    dropout: float = 0.2  # between LSTM layers and before the output projection
    tie_weights: bool = False  # share embedding and output matrix (needs embed_dim == hidden_dim)

    def __post_init__(self) -> None:
        _check_positive(self, "vocab_size", "embed_dim", "hidden_dim", "num_layers")
        _check_dropout(self.dropout)
        _check_parameters(self)
        if self.tie_weights and self.embed_dim != self.hidden_dim:
            raise ModelConfigError(
                f"tie_weights needs embed_dim == hidden_dim, got {self.embed_dim} and "
                f"{self.hidden_dim}"
            )


@dataclass(frozen=True)
class TransformerConfig:
    """Size of the decoder-only Transformer next-token model."""

    vocab_size: int  # number of token ids (the vocabulary's length, PAD included)
    d_model: int = 256  # width of the residual stream (embedding size)
    n_heads: int = 4  # attention heads per layer; d_model must divide by it
    n_layers: int = 4  # Transformer blocks
    d_ff: int = 1024  # hidden width of each block's GELU MLP
    max_len: int = 512  # context length in tokens (longer generation slides the window)
    dropout: float = 0.1  # on embeddings, attention weights, residual branches
    # Dropout on the attention weights alone; None: `dropout`. On a CPU only attention without it
    # runs in torch's fused kernel; with it the math path keeps every head's T x T weights for
    # the backward pass (one 1024-token window of the gpu preset: 1.6 GB more).
    attention_dropout: float | None = None
    pos_encoding: str = "learned"  # "learned" (a trained table) or "sinusoidal" (fixed)
    # Add a learned embedding of the ticks since the last bar line (metrical position): the model
    # is told where it is in the bar instead of summing durations through attention. Off in old
    # checkpoints (the field's default); on in the presets.
    bar_position: bool = False

    def __post_init__(self) -> None:
        _check_positive(self, "vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_len")
        _check_dropout(self.dropout)
        if self.attention_dropout is not None:
            _check_dropout(self.attention_dropout)
        if self.d_model % self.n_heads:
            raise ModelConfigError(
                f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})"
            )
        if self.max_len < 2:
            raise ModelConfigError(f"max_len must be at least 2, got {self.max_len}")
        if self.pos_encoding not in POS_ENCODINGS:
            raise ModelConfigError(
                f"pos_encoding must be one of {', '.join(POS_ENCODINGS)}, "
                f"got {str(self.pos_encoding)[:40]!r}"
            )
        _check_parameters(self)


ModelConfig = Union[LSTMConfig, TransformerConfig]


def _check_positive(config: object, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ModelConfigError(f"{name} must be a positive integer, got {_short(value)}")
        if value > SIZE_LIMITS[name]:
            raise ModelConfigError(f"{name} is {_short(value)}, over the limit of "
                                   f"{SIZE_LIMITS[name]:,}")


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 64 else "a huge number"
    return text if len(text) <= 40 else text[:37] + "..."


def estimated_parameters(config: "ModelConfig") -> int:
    """The model's parameter count from its config alone (biases and norms included roughly)."""
    v = config.vocab_size
    if isinstance(config, LSTMConfig):
        e, h, layers = config.embed_dim, config.hidden_dim, config.num_layers
        cells = 4 * h * (e + h) + 4 * h * (2 * h) * (layers - 1) + 8 * h * layers
        return v * e + cells + (0 if config.tie_weights else h * v) + v
    d, f = config.d_model, config.d_ff
    block = 4 * d * d + 2 * d * f + 9 * d + f
    return v * d + config.max_len * d + 100 * d + config.n_layers * block + 2 * d


def _check_parameters(config: "ModelConfig") -> None:
    count = estimated_parameters(config)
    if count > MAX_PARAMETERS:
        raise ModelConfigError(f"the model would have about {count / 1e6:,.0f} million parameters, "
                               f"over the limit of {MAX_PARAMETERS / 1e6:,.0f} million")


def _check_dropout(dropout: object) -> None:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
        raise ModelConfigError(f"dropout must be a number, got {dropout!r}")
    if not 0.0 <= dropout < 1.0:
        raise ModelConfigError(f"dropout must be in [0, 1), got {_short(dropout)}")


# Sizes without vocab_size (it comes from the vocabulary). Chosen by measuring step() speed and
# training throughput on the 2-core CPU; see the module docstring and benchmarks/.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "lstm": {
        "tiny": {"embed_dim": 16, "hidden_dim": 16, "num_layers": 1, "dropout": 0.0,
                 "tie_weights": True},
        "small": {"embed_dim": 64, "hidden_dim": 128, "num_layers": 2, "dropout": 0.1},
        # Single-stream step() on the idle 2-core CPU: 2 x 512 (3.8M parameters) ~2700 tokens/s,
        # 2 x 320 ~5300, 2 x 256 (embed 128) ~9400 (embedding + 2 cells + projection; reading the
        # weights once per token dominates). 2 x 256 tied (1.1M) keeps a margin over 5000.
        "cpu": {"embed_dim": 256, "hidden_dim": 256, "num_layers": 2, "dropout": 0.2,
                "tie_weights": True},
        "gpu": {"embed_dim": 512, "hidden_dim": 1024, "num_layers": 3, "dropout": 0.3},
    },
    "transformer": {
        "tiny": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32, "max_len": 64,
                 "dropout": 0.0},
        "small": {"d_model": 64, "n_heads": 2, "n_layers": 2, "d_ff": 256, "max_len": 256,
                  "dropout": 0.1, "bar_position": True},
        # Per-token cost is per-op overhead plus reading every weight from L3 once per token.
        # Side by side, one thread, busy machine (tokens/s): 4 x 256/1024 (3.3M) 580, 4 x 192/768
        # (1.9M) 1090, 3 x 192 1300, 4 x 160 1190, 4 x 128/512 (0.9M) 1530; the LSTM preset 2830.
        # Two idle threads run about 1.7x that (estimated from the idle runs), so 4 x 128 is the
        # size that clears 2000 with a margin (and matches the LSTM preset's parameter count).
        "cpu": {"d_model": 128, "n_heads": 4, "n_layers": 4, "d_ff": 512, "max_len": 512,
                "dropout": 0.1, "bar_position": True},
        "gpu": {"d_model": 512, "n_heads": 8, "n_layers": 8, "d_ff": 2048, "max_len": 1024,
                "dropout": 0.1, "bar_position": True},
    },
}


def config_class(kind: str) -> type[LSTMConfig] | type[TransformerConfig]:
    """The config dataclass for a model kind ("lstm" or "transformer")."""
    if kind == "lstm":
        return LSTMConfig
    if kind == "transformer":
        return TransformerConfig
    raise ModelConfigError(f"unknown model kind {_short(kind)}: choose lstm or transformer")


def model_config(
    kind: str, vocab_size: int, preset: str = "cpu", /, **overrides: Any
) -> ModelConfig:
    """The named preset for ``kind`` sized for ``vocab_size``, with ``overrides`` applied.

    Overrides are field names only (the first three are positional, so ``kind=...`` is an unknown
    field, not a clash); vocab_size comes from the vocabulary and cannot be overridden.
    """
    config_class(kind)  # validates kind before PRESETS[kind] is read
    if "vocab_size" in overrides:
        raise ModelConfigError("vocab_size comes from the vocabulary and cannot be overridden")
    if preset not in PRESETS[kind]:
        raise ModelConfigError(
            f"unknown {kind} preset {preset!r}: choose one of {', '.join(PRESETS[kind])}"
        )
    fields = {**PRESETS[kind][preset], **overrides, "vocab_size": vocab_size}
    return config_from_dict(kind, fields)


def config_to_dict(config: ModelConfig) -> dict[str, Any]:
    """The config as a JSON-native dict (field name -> value)."""
    return dataclasses.asdict(config)


def config_from_dict(kind: str, d: dict[str, Any]) -> ModelConfig:
    """Rebuild and validate a config of ``kind``; bad or missing fields raise ModelConfigError."""
    cls = config_class(kind)
    if not isinstance(d, dict):
        raise ModelConfigError(f"a {kind} config must be a JSON object, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ModelConfigError(f"unknown {kind} config field(s): {', '.join(unknown)[:120]}")
    if "vocab_size" not in d:
        raise ModelConfigError(f"the {kind} config has no vocab_size")
    _check_types(cls, d)
    return cls(**d)


_FIELD_TYPES = {"int": int, "float": (int, float), "bool": bool, "str": str,
                "float | None": (int, float, type(None))}


def _check_types(cls: type, d: dict[str, Any]) -> None:
    """Refuse values of the wrong JSON type (a config read from an edited file, say)."""
    for f in dataclasses.fields(cls):
        if f.name not in d:
            continue
        expected = _FIELD_TYPES[f.type if isinstance(f.type, str) else f.type.__name__]
        value = d[f.name]
        wrong_bool = isinstance(value, bool) and expected is not bool
        if wrong_bool or not isinstance(value, expected):
            raise ModelConfigError(f"config field {f.name} has the wrong type: {_short(value)}")
