"""The one interface both next-token models share: a full forward pass and a stateful step.

A model maps token ids to next-token logits. ``forward(ids, targets)`` scores whole sequences for
training; ``init_state`` / ``step`` / ``reorder_state`` generate one chunk at a time with cached
state (LSTM: hidden and cell; Transformer: key/value cache), so sampling code is written once.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from musicgen.models.config import PAD_ID, ModelConfig

__all__ = ["NextTokenModel", "next_token_loss"]


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits (B, T, V) against targets (B, T), PAD targets ignored."""
    flat_logits = logits.reshape(-1, logits.size(-1))  # (B*T, V)
    flat_targets = targets.reshape(-1)  # (B*T,)
    if not bool((flat_targets != PAD_ID).any()):
        # cross_entropy would return nan (0/0); an all-padding batch contributes nothing instead.
        return flat_logits.sum() * 0.0
    return F.cross_entropy(flat_logits.float(), flat_targets, ignore_index=PAD_ID)


class NextTokenModel(nn.Module):
    """Base class: ids (B, T) -> logits (B, T, V) for the token after each position."""

    kind: str = ""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for every position, and the mean loss when targets (B, T) are given."""
        raise NotImplementedError

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> Any:
        """An empty generation state for ``batch_size`` streams (nothing consumed yet)."""
        raise NotImplementedError

    def step(self, ids: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Consume a chunk ids (B, T>=1) after ``state``: logits (B, T, V) and the new state.

        The logits equal those ``forward`` gives for the same positions of the whole sequence.
        Call it under ``torch.no_grad()`` and ``model.eval()`` for generation.
        """
        raise NotImplementedError

    def reorder_state(self, state: Any, index: torch.Tensor) -> Any:
        """A state whose row i is row ``index[i]`` of ``state`` (pick or duplicate streams)."""
        raise NotImplementedError

    @property
    def max_context(self) -> int | None:
        """The longest sequence ``forward`` accepts, or None when unbounded."""
        return None

    def num_parameters(self) -> int:
        """Number of trainable numbers (tied matrices counted once)."""
        return sum(p.numel() for p in self.parameters())

    def _loss(self, logits: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor | None:
        return None if targets is None else next_token_loss(logits, targets)

    def _check_ids(self, ids: torch.Tensor) -> None:
        if ids.dim() != 2 or ids.size(1) < 1:
            raise ValueError(f"ids must have shape (batch, time>=1), got {tuple(ids.shape)}")
