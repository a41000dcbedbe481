"""The training configuration, the learning-rate schedule and device selection (torch-light).

``TrainConfig`` is a frozen dataclass with JSON-native fields, saved inside every checkpoint it
produced. ``lr_at`` is the schedule: linear warmup, then cosine decay to ``min_lr_ratio`` of the peak.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from musicgen.errors import TrainingError

__all__ = ["TrainConfig", "DEFAULT_LR", "fit_to_cpu", "lr_at", "resolve_device", "config_differences"]

# Peak learning rates measured on the folk corpus (higher ones diverge or plateau early).
DEFAULT_LR = {"lstm": 3e-3, "transformer": 1e-3}

# Training on a CPU keeps within 1.5 GB (`benchmarks/bench_memory.py`, the folk corpus) with
# batches of at most these many padded tokens: 32 whole folk tunes reach 96,000 tokens, and an
# LSTM keeps about 17 KB a token for the backward pass. The gpu preset, sized for a GPU's memory,
# also trains its Transformer without dropout on the attention weights: attention then runs in
# torch's fused kernel, which keeps no T x T weights per head for the backward pass (the math
# path that dropout needs on a CPU does). Measured peaks of one step, model and AdamW included,
# corpus not: LSTM cpu preset 778 / 1,226 MB at 16,384 / 32,768 tokens, Transformer cpu preset
# (with attention dropout) 1,412 / 2,501 MB at 8,192 / 16,384; gpu preset LSTM 811 / 953 / 1,228
# MB at 1,024 / 2,048 / 4,096 tokens, Transformer 971 / 1,232 MB at 1,024 / 2,048 tokens without
# attention dropout and 2,836 MB at 2,048 with it.
CPU_BATCH_TOKENS = {"lstm": 16_384, "transformer": 4_096}
CPU_BATCH_TOKENS_GPU_PRESET = {"lstm": 2_048, "transformer": 1_024}

# Fields a resumed run must share with the run it continues (they shape the model or the data).
RESUME_FIXED = ("model", "preset", "overrides", "batch_size", "batch_tokens", "seed",
                "max_seq_len", "augment_semitones")


@dataclass(frozen=True)
class TrainConfig:
    """How to train one model; every field is JSON-native."""

    model: str = "lstm"  # model kind: "lstm" or "transformer"
    preset: str = "cpu"  # size preset of musicgen.models.PRESETS: "tiny", "small", "cpu", "gpu"
    overrides: dict[str, Any] = field(default_factory=dict)  # model config fields over the preset's
    batch_size: int = 32  # sequences per optimizer step (the global batch, all ranks together)
    batch_tokens: int = 0  # > 0: also end a batch before it passes this many padded tokens
    lr: float | None = None  # peak learning rate; None takes DEFAULT_LR[model]
    weight_decay: float = 0.01  # AdamW decoupled weight decay (matrices only, not biases/norms)
    warmup_steps: int = 100  # linear warmup (capped at a fifth of the schedule for short runs)
    min_lr_ratio: float = 0.1  # the cosine decays to this share of the peak
    max_epochs: int = 30  # passes over the training split
    minutes: float | None = None  # wall-clock budget; training stops and validates when spent
    grad_clip: float = 1.0  # clip the global gradient norm (the cure for exploding gradients)
    patience: int = 5  # epochs without a better validation figure before stopping; 0: never
    seed: int = 0  # seeds model init, data order and dropout (reproducible on CPU)
    max_seq_len: int | None = None  # window length; None: the model's context (LSTM: whole tunes)
    device: str = "auto"  # "auto" (cuda, then cpu), "cpu", "cuda" or "cuda:N"
    augment_semitones: int = 0  # > 0: random transposition up to +-N each epoch (off: tunes are in C)
    save_every_steps: int = 200  # also write the last checkpoint and resume state this often
    save_every_seconds: float = 300.0  # ... or after this much time, whichever comes first

    def __post_init__(self) -> None:
        problems = []
        if self.model not in DEFAULT_LR:
            problems.append(f"unknown model kind {self.model!r} (choose lstm or transformer)")
        for name in ("batch_size", "max_epochs", "save_every_steps"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if self.lr is not None and not self.lr > 0:
            problems.append("the learning rate must be positive")
        if not 0.0 <= self.weight_decay < float("inf"):
            problems.append("the weight decay must be zero or positive")
        if self.minutes is not None and not self.minutes > 0:
            problems.append("the minutes budget must be positive")
        if self.max_seq_len is not None and self.max_seq_len < 1:
            problems.append("max_seq_len must be at least 1")
        if self.batch_tokens < 0 or self.warmup_steps < 0 or self.patience < 0:
            problems.append("batch_tokens, warmup_steps and patience cannot be negative")
        if problems:
            raise TrainingError(f"Invalid training settings: {'; '.join(problems)}.")

    @property
    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.model]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def config_differences(saved: TrainConfig, current: TrainConfig) -> list[str]:
    """Names of the fields a resume cannot change that differ between two configs."""
    return [name for name in RESUME_FIXED if getattr(saved, name) != getattr(current, name)]


def lr_at(step: int, *, peak: float, warmup: int, horizon: int, min_ratio: float) -> float:
    """Learning rate for optimizer step ``step`` (0-based): linear warmup, then cosine decay."""
    warmup = min(warmup, max(1, horizon // 5))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    return peak * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def resolve_device(name: str, local_rank: int = 0):
    """The torch device for ``name`` ("auto" prefers CUDA); TrainingError if it is unavailable."""
    import torch

    if name == "auto":
        name = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(f"Cannot train on {name}: this machine has no usable CUDA device.")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise TrainingError(f"Unknown device {name!r}: use auto, cpu or cuda.") from exc


def fit_to_cpu(config: TrainConfig, on_cpu: bool) -> tuple[TrainConfig, str]:
    """``config`` fitted to a CPU's memory (see CPU_BATCH_TOKENS), and a sentence saying what
    changed ("" when nothing did). What the user set explicitly is kept."""
    if not on_cpu:
        return config, ""
    gpu = config.preset == "gpu"
    changes, overrides = [], dict(config.overrides)
    batch_tokens = config.batch_tokens
    if batch_tokens == 0:
        batch_tokens = (CPU_BATCH_TOKENS_GPU_PRESET if gpu else CPU_BATCH_TOKENS)[config.model]
        changes.append(f"batches of at most {batch_tokens:,} tokens")
    if gpu and config.model == "transformer" and "attention_dropout" not in overrides:
        overrides["attention_dropout"] = 0.0
        changes.append("no dropout on the attention weights")
    if not changes:
        return config, ""
    fitted = dataclasses.replace(config, batch_tokens=batch_tokens, overrides=overrides)
    head = "The gpu preset is sized for a GPU; on this CPU it trains" if gpu else \
        "On this CPU training runs"
    choose = "--batch-tokens and --set attention_dropout=... choose" if gpu else \
        "--batch-tokens chooses"
    return fitted, (f"{head} with {' and '.join(changes)}, which keeps it within 1.5 GB of "
                    f"memory ({choose} otherwise).")
