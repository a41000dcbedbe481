"""The decoder-only Transformer in NumPy, with a key/value cache: the maths of
`musicgen.models.transformer`, rearranged once at load so a step makes few NumPy calls.

- Each LayerNorm's gain and bias are folded into the matrix that reads it (``ops.fold_layer_norm``),
  and the query columns are pre-scaled by ``1 / sqrt(head_dim)``.
- Metrical position (``bar_position`` models) is a transition table ``next_bucket[bucket, id]``:
  one lookup per step instead of the count's few comparisons.
- The cache holds every layer's keys and values (L, B, heads, capacity, head_dim); positions are
  absolute, and when it is full the model *slides* as torch's does: the last ``max_len // 2``
  tokens are re-encoded from position 0, so logits after a slide equal torch's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from musicgen.engine.base import EngineUnsupported, NumpyEngine, count_parameters, require
from musicgen.engine.ops import Dense, fold_layer_norm, gelu_, normalize, softmax_

__all__ = ["TransformerEngine", "KVState", "MAX_BAR_TICKS", "sinusoidal_table"]

MAX_BAR_TICKS = 192  # as musicgen.models.transformer: bucket 0 unknown, 1 + t for t ticks (clipped)
_SINUSOID_SCALE = 0.02 * math.sqrt(2.0)  # as the torch model: sin/cos scaled to the learned RMS


@dataclass
class KVState:
    """Generation state: cached keys/values, the ids they encode, and the metrical position."""

    keys: np.ndarray  # (L, B, nh, capacity, hs)
    values: np.ndarray  # (L, B, nh, capacity, hs)
    tokens: np.ndarray  # (B, capacity) int64, re-encoded when the window slides
    length: int  # valid positions
    bucket: np.ndarray  # (B,) int64 metrical-position bucket after the last cached token

    def select(self, rows: np.ndarray) -> "KVState":
        """A state whose row i is row ``rows[i]`` of this one (only the valid positions copied)."""
        n = self.length
        keys, values = np.zeros_like(self.keys[:, rows]), np.zeros_like(self.values[:, rows])
        keys[..., :n, :] = self.keys[:, rows, :, :n]
        values[..., :n, :] = self.values[:, rows, :, :n]
        return KVState(keys, values, self.tokens[rows], n, self.bucket[rows])


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """The fixed encodings (max_len, d_model) of the torch model, in float32 as torch computes them."""
    position = np.arange(max_len, dtype=np.float32)[:, None]
    even = np.arange(0, d_model, 2, dtype=np.float32)
    rate = np.exp(even * np.float32(-math.log(10000.0) / d_model)).astype(np.float32)
    table = np.zeros((max_len, d_model), np.float32)
    table[:, 0::2] = np.sin(position * rate)
    table[:, 1::2] = np.cos(position * rate[: d_model // 2])
    return table


def expected_shapes(config: dict) -> dict[str, tuple]:
    """Every tensor a Transformer checkpoint of ``config`` holds, and its shape."""
    v, c, f, n = (config.get(k) for k in ("vocab_size", "d_model", "d_ff", "n_layers"))
    shapes: dict[str, tuple] = {"tok_embed.weight": (v, c), "head.weight": (v, c),
                                "ln_f.weight": (c,), "ln_f.bias": (c,)}
    if config.get("pos_encoding", "learned") == "learned":
        shapes["pos_embed.weight"] = (config.get("max_len"), c)
    if config.get("bar_position"):
        shapes["bar_embed.weight"] = (MAX_BAR_TICKS + 2, c)
        shapes["token_ticks"] = (v,)
    for b in range(n if isinstance(n, int) else 0):
        p = f"blocks.{b}."
        shapes.update({p + "ln1.weight": (c,), p + "ln1.bias": (c,), p + "ln2.weight": (c,),
                       p + "ln2.bias": (c,), p + "attn.qkv.weight": (3 * c, c),
                       p + "attn.qkv.bias": (3 * c,), p + "attn.proj.weight": (c, c),
                       p + "attn.proj.bias": (c,), p + "mlp.fc.weight": (f, c),
                       p + "mlp.fc.bias": (f,), p + "mlp.proj.weight": (c, f),
                       p + "mlp.proj.bias": (c,)})
    return shapes


class _Layer:
    """One block's matrices, LayerNorms folded in; the stream x is (rows, C)."""

    def __init__(self, a: dict[str, np.ndarray], prefix: str, head_dim: int) -> None:
        def get(name: str) -> np.ndarray:
            return a[prefix + name]

        qkv, qkv_bias = fold_layer_norm(get("ln1.weight"), get("ln1.bias"),
                                        get("attn.qkv.weight"), get("attn.qkv.bias"))
        width = qkv.shape[0]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        qkv[:, :width] *= scale  # queries pre-scaled
        qkv_bias[:width] *= scale
        self.qkv = Dense(qkv, qkv_bias)
        self.proj = Dense(get("attn.proj.weight").T, get("attn.proj.bias"))
        self.fc = Dense(*fold_layer_norm(get("ln2.weight"), get("ln2.bias"),
                                         get("mlp.fc.weight"), get("mlp.fc.bias")))
        self.out = Dense(get("mlp.proj.weight").T, get("mlp.proj.bias"))

    def mlp_(self, x: np.ndarray, scratch: np.ndarray) -> None:
        """x += MLP(LayerNorm(x)), in place."""
        hidden = self.fc(normalize(x, scratch))
        gelu_(hidden, np.empty_like(hidden), np.empty_like(hidden))
        x += self.out(hidden)

    def attend_(self, y: np.ndarray, x: np.ndarray) -> None:
        """x += proj(y) for the attention output y (rows, C), in place."""
        x += self.proj(y)


class TransformerEngine(NumpyEngine):
    """Token + position (+ bar position) embeddings -> blocks -> LayerNorm -> tied head."""

    kind = "transformer"

    def __init__(self, config: dict, arrays: dict[str, np.ndarray]) -> None:
        self.vocab_size, width = int(config["vocab_size"]), int(config["d_model"])
        self.heads, self.max_context = int(config["n_heads"]), int(config["max_len"])
        self.head_dim = width // self.heads
        self._tok = arrays["tok_embed.weight"].copy()
        if config.get("pos_encoding", "learned") == "learned":
            self._pos = arrays["pos_embed.weight"].copy()
        else:
            self._pos = sinusoidal_table(self.max_context, width) * np.float32(_SINUSOID_SCALE)
        self._bar = arrays["bar_embed.weight"].copy() if config.get("bar_position") else None
        if self._bar is not None:
            self._next_bucket = _bucket_table(arrays["token_ticks"])
        self._layers = [_Layer(arrays, f"blocks.{b}.", self.head_dim)
                        for b in range(int(config["n_layers"]))]
        self._head = Dense(*fold_layer_norm(arrays["ln_f.weight"], arrays["ln_f.bias"],
                                            arrays["head.weight"], None))
        self.parameters = count_parameters(arrays)

    @classmethod
    def check(cls, config: dict, arrays: dict[str, np.ndarray]) -> None:
        """Refuse (`EngineUnsupported`) any tensor, encoding or size this engine does not implement."""
        if config.get("pos_encoding", "learned") not in POS_ENCODINGS:
            raise EngineUnsupported(f"the position encoding {config.get('pos_encoding')!r}")
        require(arrays, expected_shapes(config))
        if not np.array_equal(arrays["head.weight"], arrays["tok_embed.weight"]):
            raise EngineUnsupported("an output matrix not tied to the embedding")

    # ------------------------------------------------------------------------------- state
    def new_state(self, batch: int) -> KVState:
        """An empty cache for ``batch`` streams (untouched positions cost no memory: calloc)."""
        shape = (len(self._layers), batch, self.heads, self.max_context, self.head_dim)
        return KVState(np.zeros(shape, np.float32), np.zeros(shape, np.float32),
                       np.zeros((batch, self.max_context), np.int64), 0,
                       np.zeros(batch, np.int64))

    def run(self, ids: Sequence[int], state: KVState) -> tuple[np.ndarray, KVState]:
        """One stream's chunk after ``state`` (sliding the window as needed): logits (T, V)."""
        chunk = np.asarray(ids, dtype=np.int64).reshape(1, -1)
        pieces, start = [], 0
        while start < chunk.shape[1]:
            if state.length >= self.max_context:
                state = self._slide(state)
            piece = chunk[:, start:start + self.max_context - state.length]
            pieces.append(self._extend(piece, state)[0])
            start += piece.shape[1]
        return np.concatenate(pieces), state

    def forward(self, ids: Sequence[int]) -> np.ndarray:
        """Logits (T, V) of one sequence of at most ``max_context`` ids, no cache kept."""
        if len(ids) > self.max_context:
            raise ValueError(f"{len(ids)} tokens exceed the context of {self.max_context}")
        return self.run(ids, self.new_state(1))[0]

    def _slide(self, state: KVState) -> KVState:
        """Re-encode the last max_len // 2 cached tokens from position 0 (as the torch model)."""
        kept = state.tokens[:, state.length - self.max_context // 2:state.length].copy()
        fresh = self.new_state(kept.shape[0])
        self._extend(kept, fresh)
        return fresh

    # ------------------------------------------------------------------------------- compute
    def step(self, ids: np.ndarray, state: KVState) -> tuple[np.ndarray, KVState]:
        """One token per stream, ids (B,): logits (B, V) and the grown cache (updated in place)."""
        if state.length >= self.max_context:
            state = self._slide(state)
        return self._extend(ids.reshape(-1, 1), state)[:, 0], state

    def _extend(self, ids: np.ndarray, state: KVState) -> np.ndarray:
        """Run ids (B, T) at positions L..L+T-1 on top of the cache; logits (B, T, V).

        The residual stream is kept as one matrix (B * T, C): NumPy's 2-D products are its fastest.
        """
        batch, count = ids.shape
        start = state.length
        x = self._tok[ids.reshape(-1)]  # (B * T, C), a copy
        x.reshape(batch, count, -1)[:] += self._pos[start:start + count]
        if self._bar is not None:
            x += self._bar[self._buckets(ids, state).reshape(-1)]
        scratch = np.empty_like(x)
        for n, layer in enumerate(self._layers):
            self._attention_(layer, x, scratch, state.keys[n], state.values[n], (batch, start))
            layer.mlp_(x, scratch)
        state.tokens[:, start:start + count] = ids
        state.length = start + count
        return self._head(normalize(x, scratch)).reshape(batch, count, -1)

    def _buckets(self, ids: np.ndarray, state: KVState) -> np.ndarray:
        """Metrical-position buckets (B, T) after each token; the state keeps the last."""
        table, carry = self._next_bucket, state.bucket
        if ids.shape[1] == 1:
            state.bucket = table[carry, ids[:, 0]]
            return state.bucket[:, None]
        out = np.empty(ids.shape, np.int64)
        for t in range(ids.shape[1]):
            carry = out[:, t] = table[carry, ids[:, t]]
        state.bucket = out[:, -1].copy()
        return out

    def _attention_(self, layer: _Layer, x: np.ndarray, scratch: np.ndarray, keys: np.ndarray,
                    values: np.ndarray, where: tuple[int, int]) -> None:
        """x (B * T, C) += causal self-attention of LayerNorm(x) over the cache and itself."""
        batch, start = where
        count, width = x.shape[0] // batch, x.shape[1]
        qkv = layer.qkv(normalize(x, scratch))
        q, k, v = qkv.reshape(batch, count, 3, self.heads, self.head_dim).transpose(2, 0, 3, 1, 4)
        end = start + count
        keys[:, :, start:end] = k  # (B, nh, T, hs) into the cache
        values[:, :, start:end] = v
        scores = q @ keys[:, :, :end].swapaxes(-1, -2)  # (B, nh, T, end)
        if count > 1:  # query i sits at position start + i and sees keys 0..start + i
            scores += np.triu(np.full((count, end), -np.inf, np.float32), k=start + 1)
        softmax_(scores)
        y = scores @ values[:, :, :end]  # (B, nh, T, hs)
        layer.attend_(y.transpose(0, 2, 1, 3).reshape(batch * count, width), x)


POS_ENCODINGS = ("learned", "sinusoidal")


def _bucket_table(token_ticks: np.ndarray) -> np.ndarray:
    """next_bucket[b, id]: the bucket after token ``id`` from bucket ``b`` (0 unknown, 1 + ticks)."""
    ticks = token_ticks.astype(np.int64)[None, :]  # (1, V)
    carry = np.arange(MAX_BAR_TICKS + 2, dtype=np.int64)[:, None]  # (buckets, 1)
    after = np.minimum(carry + ticks, MAX_BAR_TICKS + 1)
    return np.where(ticks < 0, 1, np.where(carry > 0, after, 0)).astype(np.int64)
