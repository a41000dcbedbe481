"""Causal multi-head self-attention, with past keys and values for incremental decoding.

Each position's query is compared with the keys of itself and every earlier position; the scaled
dot products ``q . k / sqrt(d_k)`` go through a softmax and weight the values. ``n_heads`` heads do
this in parallel on ``d_model / n_heads``-wide slices, and a projection mixes their outputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CausalSelfAttention"]

class CausalSelfAttention(nn.Module):
    """Fused Q, K, V projection, heads split, causal scaled dot-product attention, projection."""

    def __init__(self, d_model: int, n_heads: int, dropout: float,
                 attention_dropout: float | None = None) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout if attention_dropout is None else attention_dropout  # on weights
        self.resid_drop = nn.Dropout(dropout)

    def _split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.n_heads, self.head_dim)  # (B, T, 3, nh, hs)
        # -> 3 x (B, nh, T, hs): heads become a batch dimension
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def _merge_heads(self, y: torch.Tensor) -> torch.Tensor:
        B, nh, T, hs = y.shape
        y = self.proj(y.transpose(1, 2).reshape(B, T, nh * hs))  # (B, T, C): heads side by side
        return self.resid_drop(y) if self.training else y  # skipping the call saves time per token

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Causal self-attention of x (B, T, C) over itself; output (B, T, C)."""
        q, k, v = self._split_heads(x)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=q.size(2) > 1
        )  # (B, nh, T, hs)
        return self._merge_heads(y)

    def forward_cached(
        self, x: torch.Tensor, key_buffer: torch.Tensor, value_buffer: torch.Tensor, past_len: int
    ) -> torch.Tensor:
        """Attend x (B, T, C) at positions past_len.. over the cached keys/values and itself.

        The new keys and values are written into the buffers (B, nh, capacity, hs) in place, at
        positions past_len..past_len+T-1: no copy of the whole cache per token.
        """
        q, k, v = self._split_heads(x)  # (B, nh, T, hs)
        T = q.size(2)
        end = past_len + T
        key_buffer.narrow(2, past_len, T).copy_(k)  # narrow: cheaper than slice assignment
        value_buffer.narrow(2, past_len, T).copy_(v)
        mask = None
        if past_len and T > 1:
            # Query i sits at position past_len + i and may see keys 0..past_len + i. SDPA's
            # is_causal aligns the triangle to the top-left, wrong when keys outnumber queries.
            mask = torch.ones(T, end, dtype=torch.bool, device=x.device).tril(diagonal=past_len)
        y = F.scaled_dot_product_attention(
            q, key_buffer.narrow(2, 0, end), value_buffer.narrow(2, 0, end),
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=past_len == 0 and T > 1,
        )  # (B, nh, T, hs)
        return self._merge_heads(y)

    def explicit(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same attention spelled out, no cache: output (B, T, C) and weights (B, nh, T, T)."""
        q, k, v = self._split_heads(x)  # (B, nh, T, hs)
        T = q.size(2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, nh, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(diagonal=1)
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)  # rows sum to 1
        y = weights @ v  # (B, nh, T, hs)
        return self._merge_heads(y), weights
