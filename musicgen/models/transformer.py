"""The decoder-only Transformer next-token model, with a key/value cache for generation.

Built from the lecture's parts: token embedding plus a positional encoding (a learned table or
fixed sinusoids), ``n_layers`` pre-norm blocks (LayerNorm -> causal multi-head self-attention ->
residual, LayerNorm -> GELU MLP -> residual), a final LayerNorm and an output projection tied to the
embedding.

With ``bar_position`` on, each position also gets a learned embedding of its metrical position: the
ticks since the last bar line, counted from the token ids with a per-token table (``token_ticks``:
a duration token's ticks, -1 for a token that restarts the count: bar line, header, end; 0 for the
rest). The table comes from the vocabulary (``set_token_ticks``) and is saved with the weights, so
the model itself knows ids and tensors only. Until a sequence has seen its first restarting token
(a window cut from the middle of a tune) the position is "unknown" (bucket 0). Measured reason: the
GPU-trained 4 x 128 Transformer without it wrote 9% of its sampled validation bars at the wrong
length (it has to sum durations through attention), with it 3%; the LSTM 2%.

Generation keeps, per layer, the keys and values of every token seen (``KVCache``), so each new
token costs one query against the cache instead of a pass over the whole sequence. Positions are
absolute and the context is ``max_len`` tokens: when a step would overflow the cache, the model
*slides*: it keeps the last ``max_len // 2`` tokens (held in the cache), re-encodes them from
position 0 and carries on, so callers may step forever. Logits after a slide equal ``forward`` over
that window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from musicgen.models.attention import CausalSelfAttention
from musicgen.models.base import NextTokenModel
from musicgen.models.config import TransformerConfig

__all__ = ["TransformerModel", "KVCache", "sinusoidal_table"]

_INIT_STD = 0.02  # GPT-2's initial weight scale
MAX_BAR_TICKS = 192  # the longest bar the vocabulary has (4/1 at 12 ticks a quarter); longer clip
_SINUSOID_SCALE = _INIT_STD * math.sqrt(2.0)  # sin/cos have RMS 1/sqrt(2)


@dataclass(frozen=True)
class KVCache:
    """Generation state: per-layer key/value buffers and the token ids they encode.

    The buffers have room for max_len positions; the first ``length`` are valid. ``step`` writes
    new positions in place (copying the whole cache per token would dominate the cost), so a state
    that has been stepped from once is copied first if stepped from again (``written`` records
    how far its buffers have been written): every state stays usable, forks included.
    """

    keys: tuple[torch.Tensor, ...]  # n_layers x (B, nh, max_len, hs)
    values: tuple[torch.Tensor, ...]  # n_layers x (B, nh, max_len, hs)
    tokens: torch.Tensor  # (B, max_len) ids of the cached positions, re-encoded when sliding
    length: int  # valid positions (L)
    written: list[int] = field(default_factory=lambda: [0])  # shared high-water mark
    # the metrical-position bucket after the last cached token (bar_position models): 0 unknown,
    # 1 + ticks since the bar line
    bar_bucket: torch.Tensor | None = None  # (B,) long

    @property
    def batch_size(self) -> int:
        """Number of streams (B)."""
        return int(self.tokens.size(0))

    def copy(self) -> "KVCache":
        """The same state in fresh buffers."""
        return KVCache(
            keys=tuple(k.clone() for k in self.keys),
            values=tuple(v.clone() for v in self.values),
            tokens=self.tokens.clone(),
            length=self.length,
            written=[self.length],
            bar_bucket=None if self.bar_bucket is None else self.bar_bucket.clone(),
        )


def sinusoidal_table(max_len: int, d_model: int) -> torch.Tensor:
    """Fixed encodings (max_len, d_model): sin on even, cos on odd channels (Vaswani et al.)."""
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)  # (max_len, 1)
    even = torch.arange(0, d_model, 2, dtype=torch.float32)  # (ceil(d_model / 2),)
    rate = torch.exp(even * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: d_model // 2])
    return table


class MLP(nn.Module):
    """Position-wise feed-forward: d_model -> d_ff -> GELU -> d_model, dropout on the way out."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.d_model, config.d_ff)
        self.proj = nn.Linear(config.d_ff, config.d_model)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(F.gelu(self.fc(x)))
        return self.drop(x) if self.training else x


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config.d_model, config.n_heads, config.dropout,
                                        config.attention_dropout)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))

    def forward_cached(
        self, x: torch.Tensor, key_buffer: torch.Tensor, value_buffer: torch.Tensor, past_len: int
    ) -> torch.Tensor:
        x = x + self.attn.forward_cached(self.ln1(x), key_buffer, value_buffer, past_len)
        return x + self.mlp(self.ln2(x))


class TransformerModel(NextTokenModel):
    """Decoder-only Transformer: ids (B, T<=max_len) -> next-token logits (B, T, V)."""

    kind = "transformer"

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__(config)
        self.config: TransformerConfig = config
        self.tok_embed = nn.Embedding(config.vocab_size, config.d_model)
        if config.pos_encoding == "learned":
            self.pos_embed = nn.Embedding(config.max_len, config.d_model)
        else:
            # Scaled to the learned table's initial size (RMS 0.02 like the token embedding): at
            # full size (RMS 0.7) the positions drown the tokens and training starts far behind.
            # Not persistent: rebuilt from the config, so checkpoints never store it.
            table = sinusoidal_table(config.max_len, config.d_model) * _SINUSOID_SCALE
            self.register_buffer("pos_table", table, persistent=False)
        if config.bar_position:
            # bucket 0: unknown, 1 + t: t ticks since the bar line (t clipped at MAX_BAR_TICKS)
            self.bar_embed = nn.Embedding(MAX_BAR_TICKS + 2, config.d_model)
            self.register_buffer("token_ticks", torch.zeros(config.vocab_size, dtype=torch.long))
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.head.weight = self.tok_embed.weight  # tied: one matrix reads and scores tokens
        self._init_weights()

    def _init_weights(self) -> None:
        # GPT-2's scheme: N(0, 0.02), residual projections shrunk by sqrt(2 * n_layers) so the
        # residual stream's variance does not grow with depth.
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layers)
        for block in self.blocks:
            nn.init.normal_(block.attn.proj.weight, std=residual_std)
            nn.init.normal_(block.mlp.proj.weight, std=residual_std)

    def set_token_ticks(self, ticks: "list[int] | torch.Tensor") -> None:
        """Each token id's ticks (durations), -1 for ids that restart the bar count, 0 otherwise."""
        table = torch.as_tensor(ticks, dtype=torch.long)
        if table.shape != (self.config.vocab_size,):
            raise ValueError(f"token_ticks needs {self.config.vocab_size} entries, got "
                             f"{tuple(table.shape)}")
        if self.config.bar_position:
            self.token_ticks.copy_(table.to(self.token_ticks.device))

    def _bar_buckets(self, ids: torch.Tensor, carry: torch.Tensor) -> torch.Tensor:
        """Metrical-position buckets (B, T) after each token of ids, given the buckets (B,) before.

        Bucket 0 is "unknown", 1 + t is t ticks since the bar line (t clipped at MAX_BAR_TICKS:
        clipping is absorbing, so summing first and clipping once equals clipping every step).
        """
        if ids.size(1) == 1:  # a generation step: the same count in a few element-wise ops
            ticks = self.token_ticks[ids[:, 0]]  # (B,)
            after = (carry + ticks).clamp(max=MAX_BAR_TICKS + 1)  # from bucket 1 + t to 1 + t + d
            return torch.where(ticks < 0, 1, torch.where(carry > 0, after, 0))[:, None]
        table = self.token_ticks[ids]  # (B, T)
        reset = table < 0
        cum = table.clamp(min=0).cumsum(1)  # ticks up to and including each token
        index = torch.arange(ids.size(1), device=ids.device).expand_as(ids)
        last = torch.where(reset, index, torch.full_like(index, -1)).cummax(1).values
        seen = last >= 0
        since = cum - cum.gather(1, last.clamp(min=0))  # restarting tokens have no ticks
        carry_known = carry > 0
        ticks = torch.where(seen, since, (carry - 1).clamp(min=0)[:, None] + cum)
        known = seen | carry_known[:, None]
        return torch.where(known, ticks.clamp(max=MAX_BAR_TICKS) + 1, torch.zeros_like(ticks))

    @property
    def max_context(self) -> int:
        """The context length ``max_len``: the longest sequence ``forward`` accepts."""
        return self.config.max_len

    def _embed(
        self, ids: torch.Tensor, start: int, bar: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Token plus position encodings for ids (B, T) placed at positions start..start+T-1.

        ``bar`` (B, T): metrical-position buckets (bar_position models; None: count from ``ids``
        as a sequence of its own).
        """
        positions = torch.arange(start, start + ids.size(1), device=ids.device)  # (T,)
        if self.config.pos_encoding == "learned":
            pos = self.pos_embed(positions)  # (T, C)
        else:
            pos = self.pos_table[positions]  # (T, C)
        x = self.tok_embed(ids) + pos
        if self.config.bar_position:
            if bar is None:
                bar = self._bar_buckets(ids, torch.zeros(ids.size(0), dtype=torch.long,
                                                         device=ids.device))
            x = x + self.bar_embed(bar)
        return self.drop(x)  # (B, T, C)

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) with causal attention, and the mean loss when targets are given."""
        self._check_length(ids, 0)
        x = self._embed(ids, 0)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        return logits, self._loss(logits, targets)

    def _check_length(self, ids: torch.Tensor, start: int) -> None:
        self._check_ids(ids)
        if start + ids.size(1) > self.config.max_len:
            raise ValueError(
                f"{start + ids.size(1)} tokens exceed the context of {self.config.max_len}; "
                "use step(), which slides the window"
            )

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> KVCache:
        """An empty cache for ``batch_size`` streams (buffers for max_len positions)."""
        weight = self.tok_embed.weight
        device = device if device is not None else weight.device
        c = self.config
        shape = (batch_size, c.n_heads, c.max_len, c.d_model // c.n_heads)
        return KVCache(
            keys=tuple(torch.zeros(shape, device=device, dtype=weight.dtype)
                       for _ in range(c.n_layers)),
            values=tuple(torch.zeros(shape, device=device, dtype=weight.dtype)
                         for _ in range(c.n_layers)),
            tokens=torch.zeros((batch_size, c.max_len), dtype=torch.long, device=device),
            length=0,
            bar_bucket=torch.zeros(batch_size, dtype=torch.long, device=device),
        )

    def step(self, ids: torch.Tensor, state: KVCache) -> tuple[torch.Tensor, KVCache]:
        """Consume ids (B, T>=1) after the cache; logits (B, T, V) and the grown cache.

        A chunk that would overflow ``max_len`` is taken in pieces, sliding the window between them.
        """
        self._check_ids(ids)
        pieces = []
        start = 0
        while start < ids.size(1):
            room = self.config.max_len - state.length
            if room <= 0:
                state = self._slide(state)
                room = self.config.max_len - state.length
            piece = ids[:, start : start + room]
            logits, state = self._extend(piece, state)
            pieces.append(logits)
            start += piece.size(1)
        return (pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=1)), state

    def _extend(self, ids: torch.Tensor, state: KVCache) -> tuple[torch.Tensor, KVCache]:
        """Run ids (B, T) at positions L..L+T-1 on top of the cache (L + T <= max_len)."""
        if state.written[0] != state.length:
            state = state.copy()  # its buffers were written past it by an earlier step: fork
        past_len, end = state.length, state.length + ids.size(1)
        bar_bucket, buckets = state.bar_bucket, None
        if self.config.bar_position:
            buckets = self._bar_buckets(ids, bar_bucket)
            bar_bucket = buckets[:, -1]
        x = self._embed(ids, past_len, buckets)  # (B, T, C)
        for block, key_buffer, value_buffer in zip(self.blocks, state.keys, state.values):
            x = block.forward_cached(x, key_buffer, value_buffer, past_len)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        state.tokens[:, past_len:end] = ids
        state.written[0] = end
        return logits, KVCache(state.keys, state.values, state.tokens, end, state.written,
                               bar_bucket)

    def _slide(self, state: KVCache) -> KVCache:
        """Re-encode the last max_len // 2 cached tokens from position 0 (absolute positions)."""
        kept = state.tokens[:, state.length - self.config.max_len // 2 : state.length].clone()
        _, state = self._extend(kept, self.init_state(kept.size(0), kept.device))
        return state

    def reorder_state(self, state: KVCache, index: torch.Tensor) -> KVCache:
        """Rows ``index`` of every cached tensor (batch is dimension 0), in new buffers."""
        index = index.to(state.tokens.device)
        return KVCache(
            keys=tuple(k.index_select(0, index) for k in state.keys),
            values=tuple(v.index_select(0, index) for v in state.values),
            tokens=state.tokens.index_select(0, index),
            length=state.length,
            written=[state.length],
            bar_bucket=None if state.bar_bucket is None else state.bar_bucket.index_select(0, index),
        )

    @torch.no_grad()
    def attention_weights(self, ids: torch.Tensor) -> torch.Tensor:
        """Attention probabilities (n_layers, n_heads, T, T) for one sequence ids (1, T).

        Row t of each map is how much position t attends to each earlier position (rows sum to 1,
        zero above the diagonal). Computed in eval mode, without dropout.
        """
        self._check_length(ids, 0)
        if ids.size(0) != 1:
            raise ValueError(f"attention_weights takes one sequence (1, T), got {tuple(ids.shape)}")
        was_training = self.training
        self.eval()
        try:
            x = self._embed(ids, 0)
            maps = []
            for block in self.blocks:
                attended, weights = block.attn.explicit(block.ln1(x))  # (1, T, C), (1, nh, T, T)
                x = x + attended
                x = x + block.mlp(block.ln2(x))
                maps.append(weights[0])
            return torch.stack(maps)  # (n_layers, nh, T, T)
        finally:
            self.train(was_training)
