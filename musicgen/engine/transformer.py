"""The decoder-only Transformer in NumPy, with a key/value cache: the maths of
`musicgen.models.transformer`, rearranged once at load so a step makes few NumPy calls.

- Each LayerNorm's gain and bias are folded into the matrix that reads it (``ops.fold_layer_norm``),
  and the query columns are pre-scaled by ``1 / sqrt(head_dim)``; every bias is a last row of its
  matrix (``ops.with_bias_row``), so a product and its bias are one call, and GELU's constants
  are folded into the matrices on either side (``ops.gelu_``).
- A step's buffers are made once per batch size and kept in the state (`_Work`); the weights sit
  in one huge-page block (``ops.pack``).
- Metrical position (``bar_position`` models) is a transition table ``next_bucket[bucket, id]``:
  one lookup per step instead of the count's few comparisons.
- The cache holds every layer's keys (L, B, heads, capacity, head_dim) and values, each head's
  with a column of ones after them (head_dim + 1), so one product with the attention weights gives
  the softmax's numerators and denominator together; positions are absolute, and when it is
  full the model *slides* as torch's does: the last ``max_len // 2`` tokens are re-encoded from
  position 0, so logits after a slide equal torch's.

Where the compiled step is built (`musicgen.engine.native`), ``step`` is one call to it, on the
same folded matrices laid out as panels (a second block, 7 MB for the shipped model) and on the
same cache arrays; ``run`` (a seed) and the slide's re-encoding stay NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from musicgen.engine import native
from musicgen.engine.base import EngineUnsupported, NumpyEngine, count_parameters, require
from musicgen.engine.ops import (GELU_SCALE, eps_column, fold_layer_norm, gelu_, normalize, pack,
                                 with_bias_row)

__all__ = ["TransformerEngine", "KVState", "MAX_BAR_TICKS", "sinusoidal_table"]

MAX_BAR_TICKS = 192  # as musicgen.models.transformer: bucket 0 unknown, 1 + t for t ticks (clipped)
_SINUSOID_SCALE = 0.02 * math.sqrt(2.0)  # as the torch model: sin/cos scaled to the learned RMS


@dataclass
class KVState:
    """Generation state: cached keys/values, the ids they encode, and the metrical position.

    Each head's cached values carry a last column of ones, so one product with the attention
    weights gives the softmax's numerators and its denominator together.
    """

    keys: np.ndarray  # (L, B, nh, capacity, hs)
    values: np.ndarray  # (L, B, nh, capacity, hs + 1), the last column 1 at valid positions
    tokens: np.ndarray  # (B, capacity) int64, re-encoded when the window slides
    length: int  # valid positions
    bucket: np.ndarray  # (B,) int64 metrical-position bucket after the last cached token
    work: dict = field(default_factory=dict, repr=False, compare=False)  # step buffers by rows

    def select(self, rows: np.ndarray) -> "KVState":
        """A state whose row i is row ``rows[i]`` of this one: only the valid positions are copied
        (the rest of the fresh cache is untouched zero pages, which cost no memory)."""
        n = self.length
        layers, _, heads, capacity, _ = self.keys.shape
        keys = np.zeros((layers, len(rows), heads, capacity, self.keys.shape[-1]), np.float32)
        values = np.zeros((layers, len(rows), heads, capacity, self.values.shape[-1]), np.float32)
        if n:  # stream by stream: a fancy index would build the whole copy twice
            for i, row in enumerate(rows.tolist()):
                keys[:, i, :, :n] = self.keys[:, row, :, :n]
                values[:, i, :, :n] = self.values[:, row, :, :n]
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
    """One block's matrices, each with its bias as an extra last row (`ops.with_bias_row`), the
    LayerNorms folded in, the queries pre-scaled, and one extra output column per head that is
    always 1 (zero weights, bias 1): the cached values' column of ones."""

    MATRICES = ("qkv", "proj", "fc", "out")

    def __init__(self, a: dict[str, np.ndarray], prefix: str, heads: int) -> None:
        def get(name: str) -> np.ndarray:
            return a[prefix + name]

        qkv, qkv_bias = fold_layer_norm(get("ln1.weight"), get("ln1.bias"),
                                        get("attn.qkv.weight"), get("attn.qkv.bias"))
        width = qkv.shape[0]
        head_dim = width // heads
        scale = np.float32(1.0 / math.sqrt(head_dim))
        qkv[:, :width] *= scale  # queries pre-scaled
        qkv_bias[:width] *= scale
        # values as (heads, head_dim + 1): each head's block followed by its column of ones
        value_w = np.zeros((width, heads, head_dim + 1), np.float32)
        value_w[:, :, :head_dim] = qkv[:, 2 * width:].reshape(width, heads, head_dim)
        value_b = np.ones((heads, head_dim + 1), np.float32)
        value_b[:, :head_dim] = qkv_bias[2 * width:].reshape(heads, head_dim)
        weight = np.concatenate([qkv[:, :2 * width], value_w.reshape(width, -1)], 1)
        bias = np.concatenate([qkv_bias[:2 * width], value_b.reshape(-1)])
        self.qkv = with_bias_row(weight, bias, eps_column(width))
        self.proj = with_bias_row(get("attn.proj.weight").T, get("attn.proj.bias"))
        fc, fc_bias = fold_layer_norm(get("ln2.weight"), get("ln2.bias"),
                                      get("mlp.fc.weight"), get("mlp.fc.bias"))
        self.fc = with_bias_row(fc * GELU_SCALE, fc_bias * GELU_SCALE,  # `gelu_` takes it scaled
                                eps_column(width))
        self.out = with_bias_row(get("mlp.proj.weight").T / GELU_SCALE, get("mlp.proj.bias"))


class _Work:
    """The buffers of one call's shape (B streams x T tokens), and fixed views into them: a step
    allocates nothing but its logits. The columns of ones after ``normed``, ``attended`` and
    ``hidden`` multiply the matrices' bias rows."""

    def __init__(self, batch: int, count: int, width: int, heads: int, ff: int) -> None:
        rows, head_dim = batch * count, width // heads
        self.x = np.empty((rows, width), np.float32)  # the residual stream (each call's gather)
        self.delta = np.empty((rows, width), np.float32)
        self.normed_1 = _ones_column((rows, width + 1), eps_column(width))  # `ops.normalize`
        self.qkv = np.empty((rows, 2 * width + heads * (head_dim + 1)), np.float32)

        def split(block: np.ndarray, size: int) -> np.ndarray:  # (rows, nh * size) -> (B, nh, T, s)
            view = block.reshape(batch, count, heads, size).transpose(0, 2, 1, 3)
            if not np.shares_memory(view, block):  # a reshape may copy: writes would be lost
                raise AssertionError("a step buffer view is a copy")
            return view
        self.q = split(self.qkv[:, :width], head_dim)
        self.k = split(self.qkv[:, width:2 * width], head_dim)
        self.v = split(self.qkv[:, 2 * width:], head_dim + 1)
        self.attended_1 = _ones_column((rows, width + 1))
        self.heads = split(self.attended_1[:, :width], head_dim)
        self.hidden_1 = _ones_column((rows, ff + 1))
        self.hidden = self.hidden_1[:, :ff]
        self.scratch = (np.empty((rows, ff), np.float32), np.empty((rows, ff), np.float32),
                        np.empty((rows, ff), np.float32))


def _ones_column(shape: tuple[int, int], value: float = 1.0) -> np.ndarray:
    array = np.empty(shape, np.float32)
    array[:, -1] = value
    return array


class TransformerEngine(NumpyEngine):
    """Token + position (+ bar position) embeddings -> blocks -> LayerNorm -> tied head."""

    kind = "transformer"

    def __init__(self, config: dict, arrays: dict[str, np.ndarray], *,
                 compiled: bool = True) -> None:
        self.vocab_size, width = int(config["vocab_size"]), int(config["d_model"])
        self.heads, self.max_context = int(config["n_heads"]), int(config["max_len"])
        self.head_dim, self.width = width // self.heads, width
        self.ff = int(config["d_ff"])
        self._tok = arrays["tok_embed.weight"].copy()
        if config.get("pos_encoding", "learned") == "learned":
            self._pos = arrays["pos_embed.weight"].copy()
        else:
            self._pos = sinusoidal_table(self.max_context, width) * np.float32(_SINUSOID_SCALE)
        self._bar = arrays["bar_embed.weight"].copy() if config.get("bar_position") else None
        if self._bar is not None:
            self._next_bucket = _bucket_table(arrays["token_ticks"])
        self._layers = [_Layer(arrays, f"blocks.{b}.", self.heads)
                        for b in range(int(config["n_layers"]))]
        self._head = with_bias_row(*fold_layer_norm(arrays["ln_f.weight"], arrays["ln_f.bias"],
                                                    arrays["head.weight"], None), eps_column(width))
        self._mean = np.full(width, 1.0 / width, np.float32)  # x @ mean: each row's mean
        self._pack()
        self.parameters = count_parameters(arrays)
        self._lib = native.library() if compiled else None
        if self._lib is not None:
            self._compile()

    def _compile(self) -> None:
        """The compiled step's matrices as panels, its int64 descriptor and float constants."""
        from musicgen.engine.ops import _GELU_C, _GELU_EXP

        matrices = [getattr(layer, m) for layer in self._layers for m in _Layer.MATRICES]
        self._panels = pack([native.panels(m) for m in matrices] + [native.panels(self._head)])
        fields = [self.vocab_size, self.width, self.heads, self.ff, len(self._layers),
                  self.max_context, native.pointer(self._tok), native.pointer(self._pos),
                  native.pointer(self._bar) if self._bar is not None else 0,
                  native.pointer(self._panels[-1])]
        fields += [native.pointer(p) for p in self._panels[:-1]]
        if self._bar is not None:
            self._next_bucket = np.ascontiguousarray(self._next_bucket, np.int64)
            fields += [len(self._bar), native.pointer(self._next_bucket)]
        else:
            fields += [0, 0]
        self._descriptor = np.array(fields, np.int64)
        self._constants = np.array([eps_column(self.width), _GELU_EXP, *_GELU_C], np.float32)
        self._descriptor_at = native.pointer(self._descriptor)
        self._constants_at = native.pointer(self._constants)
        self._padded_vocab = native.padded(self.vocab_size)

    def _pack(self) -> None:
        """Every matrix a step reads, in one huge-page block (`ops.pack`), in the order read."""
        names = ["_tok", "_pos"] + (["_bar"] if self._bar is not None else [])
        tables = [getattr(self, name) for name in names]
        matrices = [getattr(layer, m) for layer in self._layers for m in _Layer.MATRICES]
        packed = pack(tables + matrices + [self._head])
        for name, array in zip(names, packed):
            setattr(self, name, array)
        for n, layer in enumerate(self._layers):
            for m, name in enumerate(_Layer.MATRICES):
                setattr(layer, name, packed[len(names) + 4 * n + m])
        self._head = packed[-1]

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
        return KVState(np.zeros(shape, np.float32), np.zeros(shape[:-1] + (self.head_dim + 1,),
                                                              np.float32),
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
        if self._lib is not None:
            return self._compiled_step(ids, state), state
        return self._extend(ids.reshape(-1, 1), state)[:, 0], state

    def _compiled_step(self, ids: np.ndarray, state: KVState) -> np.ndarray:
        batch, start = len(ids), state.length
        kept = state.work.get(("compiled", batch))
        if kept is None or any(a is not b for a, b in zip(kept[4], (state.keys, state.values,
                                                                   state.tokens, self))):
            # new arrays in the state, or buffers sized for another engine: made afresh
            kept = state.work[("compiled", batch)] = self._compiled_buffers(state, batch)
        feed, pointers, logits, bucket, _ = kept
        if state.bucket is not bucket:  # the NumPy step or a caller replaced it: take it in
            bucket[:] = state.bucket
            state.bucket = bucket
        feed[:] = ids  # into a buffer whose address is known (see `native.pointer`)
        refused = self._lib.mg_transformer_step(self._descriptor_at, self._constants_at, batch,
                                                start, self.max_context, *pointers)
        if refused == -2:
            raise ValueError(f"no room in the cache at position {start}")
        if refused:
            raise IndexError(f"an id outside the vocabulary of {self.vocab_size} or a metrical "
                             f"position outside the table: {feed.tolist()}")
        state.length = start + 1
        return logits[:, :self.vocab_size].copy()  # the buffer is the next step's

    def _compiled_buffers(self, state: KVState, batch: int) -> tuple:
        cache = (len(self._layers), batch, self.heads, self.max_context)
        shapes = {"keys": (cache + (self.head_dim,), np.float32, state.keys),
                  "values": (cache + (self.head_dim + 1,), np.float32, state.values),
                  "tokens": ((batch, self.max_context), np.int64, state.tokens),
                  "bucket": ((batch,), np.int64, np.asarray(state.bucket))}
        for name, (shape, dtype, array) in shapes.items():  # the C step trusts them: checked once
            if array.shape != shape or array.dtype != dtype:
                raise ValueError(f"{batch} ids for a state whose {name} is {array.dtype} "
                                 f"{array.shape}, not {np.dtype(dtype)} {shape}")
        work = np.empty(self._lib.mg_transformer_work(batch, self.width, self.ff, self.heads,
                                                      self.vocab_size, self.max_context),
                        np.float32)
        feed = np.zeros(batch, np.int64)
        bucket = np.array(state.bucket, np.int64)  # a copy the step updates in place
        state.bucket = bucket
        if not all(a.flags.c_contiguous for a in (state.keys, state.values, state.tokens)):
            raise ValueError("the compiled step needs a state of C-contiguous arrays")
        logits = np.empty((batch, self._padded_vocab), np.float32)
        pointers = tuple(native.pointer(a) for a in (feed, bucket, state.tokens, state.keys,
                                                    state.values, work, logits))
        # every array kept (the C step writes to them all), and the state's checked each step
        return feed, pointers, logits, bucket, (state.keys, state.values, state.tokens, self, work)

    def _work(self, batch: int, count: int, state: KVState) -> _Work:
        """Buffers for this shape: a step's are kept in its state (one per caller, so two threads
        stepping their own states never share them); a chunk's are made for it."""
        if count > 1:
            return _Work(batch, count, self.width, self.heads, self.ff)
        work = state.work.get(batch)
        if work is None:
            work = state.work[batch] = _Work(batch, 1, self.width, self.heads, self.ff)
        return work

    def _extend(self, ids: np.ndarray, state: KVState) -> np.ndarray:
        """Run ids (B, T) at positions L..L+T-1 on top of the cache; logits (B, T, V).

        The residual stream is kept as one matrix (B * T, C): NumPy's 2-D products are its fastest.
        """
        batch, count = ids.shape
        start = state.length
        work = self._work(batch, count, state)
        x = work.x = self._tok[ids.reshape(-1)]  # a fancy index: faster than np.take(out=) here
        x.reshape(batch, count, -1)[:] += self._pos[start:start + count]
        if self._bar is not None:
            x += self._bar[self._buckets(ids, state).reshape(-1)]
        mask = None
        if count > 1:  # query i sits at position start + i and sees keys 0..start + i
            mask = np.triu(np.full((count, start + count), -np.inf, np.float32), k=start + 1)
        for n, layer in enumerate(self._layers):
            self._attention_(layer, work, state.keys[n], state.values[n], start, mask)
            normalize(x, work.normed_1, self._mean)
            np.matmul(work.normed_1, layer.fc, out=work.hidden)
            gelu_(work.hidden, *work.scratch)
            x += np.matmul(work.hidden_1, layer.out, out=work.delta)
        state.tokens[:, start:start + count] = ids
        state.length = start + count
        normalize(x, work.normed_1, self._mean)
        return (work.normed_1 @ self._head).reshape(batch, count, -1)

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

    def _attention_(self, layer: _Layer, work: _Work, keys: np.ndarray, values: np.ndarray,
                    start: int, mask: np.ndarray | None) -> None:
        """x (B * T, C) += causal self-attention of LayerNorm(x) over the cache and itself.

        The values' column of ones makes ``weights @ values`` give each softmax denominator
        beside the numerators; the division writes the heads straight into ``attended``.
        """
        normalize(work.x, work.normed_1, self._mean)
        np.matmul(work.normed_1, layer.qkv, out=work.qkv)
        end = start + work.q.shape[2]
        keys[:, :, start:end] = work.k  # (B, nh, T, hs) into the cache
        values[:, :, start:end] = work.v  # (B, nh, T, hs + 1)
        scores = work.q @ keys[:, :, :end].swapaxes(-1, -2)  # (B, nh, T, end)
        if mask is not None:
            scores += mask
        scores -= np.maximum.reduce(scores, axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        summed = scores @ values[:, :, :end]  # (B, nh, T, hs + 1): numerators, then denominator
        np.divide(summed[..., :-1], summed[..., -1:], out=work.heads)
        work.x += np.matmul(work.attended_1, layer.proj, out=work.delta)


POS_ENCODINGS = ("learned", "sinusoidal")


def _bucket_table(token_ticks: np.ndarray) -> np.ndarray:
    """next_bucket[b, id]: the bucket after token ``id`` from bucket ``b`` (0 unknown, 1 + ticks)."""
    ticks = token_ticks.astype(np.int64)[None, :]  # (1, V)
    carry = np.arange(MAX_BAR_TICKS + 2, dtype=np.int64)[:, None]  # (buckets, 1)
    after = np.minimum(carry + ticks, MAX_BAR_TICKS + 1)
    return np.where(ticks < 0, 1, np.where(carry > 0, after, 0)).astype(np.int64)
