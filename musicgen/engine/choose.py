"""Choosing the next ids from logits in NumPy: temperature, top-k, top-p and inverse-CDF draws.

The sampler's per-step cost matters next to a small model's step (the LSTM's is ~0.06 ms
compiled), so a step draws one uniform number per row (`Uniforms`, drawn 64 steps at a time)
and takes the id where the row's cumulative softmax first exceeds it: an exact draw from
``softmax(z / T)`` to float precision, in one call to the compiled step's ``mg_draw`` where it is
built (`musicgen.engine.native`), else in a few NumPy calls (`draw`). A forbidden id (-inf)
is never drawn.

(Until this round the draw was Gumbel-max, ``argmax(z - log E)`` with ``E ~ Exp(1)``: exact too,
but V exponentials and logarithms a row and step: 10-11 us of a batch-8 step's 21.)

The draws depend only on the generator's seed and the batch's shape, so the same seed gives the
same ids with the same engine and settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from musicgen.engine import native

__all__ = ["Uniforms", "draw", "filter_logits", "choose_next", "numpy_rng", "NOISE_BLOCK"]

NOISE_BLOCK = 64  # steps of uniform numbers drawn per call to the generator
# the compiled draw takes 1 / temperature as a float32: a temperature below ~3e-39 would make it
# inf (and every allowed id equally likely); this is as near greedy as float32 gets
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class Uniforms:
    """One uniform number in [0, 1) per row and step, drawn ``NOISE_BLOCK`` steps at a time, and
    the draws made with them (`Uniforms.draw`).

    ``rng`` is one generator for all rows, or a list of generators that split the rows into equal
    groups (one group per variation, its cadence candidates): a group's numbers then depend only
    on its own generator, so a variation sampled alone draws what it drew in a batch.
    """

    def __init__(self, rng: np.random.Generator | list[np.random.Generator], rows: int) -> None:
        self._rngs = list(rng) if isinstance(rng, (list, tuple)) else [rng]
        if rows % len(self._rngs):
            raise ValueError(f"{rows} rows do not split into {len(self._rngs)} equal groups")
        self.rows = rows
        self._shape = (NOISE_BLOCK, rows // len(self._rngs))
        self._block: np.ndarray | None = None
        self._next = NOISE_BLOCK
        # for the compiled draw: buffers whose addresses are taken once (`native.pointer`)
        self._block_at = 0
        self._ids: np.ndarray | None = None
        self._ids_at = 0
        self._seen: tuple[np.ndarray, int] | None = None  # the last logits array and its address

    def _refill(self) -> None:
        parts = [rng.random(self._shape) for rng in self._rngs]
        self._block = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        self._block_at = native.pointer(self._block)
        self._next = 0

    def take(self) -> np.ndarray:
        """The next step's numbers (rows,) float64."""
        if self._next == NOISE_BLOCK:
            self._refill()
        row = self._block[self._next]  # type: ignore[index]
        self._next += 1
        return row

    def draw(self, logits: np.ndarray, inverse_temperature: float) -> np.ndarray:
        """The next step's ids (rows,) drawn from ``logits`` (`draw`, with this step's numbers)."""
        lib = native.library()
        if (lib is None or logits.dtype != np.float32 or logits.strides[1] != 4
                or logits.shape[0] != self.rows):
            return draw(logits, inverse_temperature, self.take())
        if self._next == NOISE_BLOCK:
            self._refill()
        if self._ids is None:
            self._ids = np.empty(self.rows, np.int64)
            self._ids_at = native.pointer(self._ids)
        if self._seen is None or self._seen[0] is not logits:  # the sampler keeps one buffer
            # (rows may be apart: a view's address, without `native.pointer`'s contiguity check)
            self._seen = (logits, logits.__array_interface__["data"][0])
        numbers = self._block_at + 8 * self.rows * self._next  # this step's row of the block
        lib.mg_draw(self._seen[1], self.rows, logits.shape[1], logits.strides[0] // 4,
                    min(inverse_temperature, _FLOAT32_MAX), numbers, self._ids_at)
        self._next += 1
        return self._ids.copy()


def draw(logits: np.ndarray, inverse_temperature: float, uniforms: np.ndarray) -> np.ndarray:
    """Ids (B,) int64: for each row, where the cumulative softmax of ``logits * inverse_temperature``
    first exceeds its uniform number (an inverse-CDF draw; -inf ids are never drawn). NumPy's
    draw: the compiled one (`Uniforms.draw`, ``mg_draw``) follows the same rule."""
    rows, vocab = logits.shape
    z = logits.astype(np.float64)
    top = z.max(axis=1, keepdims=True)
    allowed = z > -np.inf
    with np.errstate(invalid="ignore"):  # a row with nothing allowed: -inf - -inf
        p = np.where(allowed, np.exp((z - top) * inverse_temperature), 0.0)
    cumulative = np.cumsum(p, axis=1)
    passed = cumulative <= (uniforms * cumulative[:, -1])[:, None]
    ids = passed.sum(axis=1)
    beyond = ids >= vocab  # rounding at the very top: the last allowed id
    if beyond.any():
        last = vocab - 1 - np.argmax(allowed[:, ::-1], axis=1)
        ids = np.where(beyond, np.where(allowed.any(axis=1), last, 0), ids)
    return ids.astype(np.int64)


def filter_logits(logits: np.ndarray, top_k: int = 0, top_p: float = 1.0) -> np.ndarray:
    """Logits (B, V) with everything outside the top-k and the top-p nucleus set to -inf (a copy
    when anything is filtered)."""
    vocab_size = logits.shape[-1]
    if 0 < top_k < vocab_size:
        kth = np.partition(logits, vocab_size - top_k, axis=-1)[:, vocab_size - top_k:][:, :1]
        logits = np.where(logits < kth, np.float32(-np.inf), logits)
    if top_p < 1.0:
        order = np.argsort(-logits, axis=-1, kind="stable")  # most likely first
        ranked = np.take_along_axis(logits, order, axis=-1).astype(np.float64)
        probs = np.exp(ranked - ranked[:, :1])
        probs /= probs.sum(axis=-1, keepdims=True)
        drop = np.cumsum(probs, axis=-1) - probs >= top_p  # mass of the more likely ids
        drop[:, 0] = False  # the most likely id always stays
        kept = np.where(drop, -np.inf, np.take_along_axis(logits, order, axis=-1))
        logits = np.empty_like(logits)
        np.put_along_axis(logits, order, kept.astype(logits.dtype), axis=-1)
    return logits


def choose_next(
    logits: np.ndarray, temperature: float, top_k: int, top_p: float, noise: Uniforms | None
) -> np.ndarray:
    """Next ids (B,) from masked logits (B, V), which it may overwrite: argmax at temperature 0,
    else a draw from the tempered, filtered softmax."""
    if temperature == 0 or noise is None:
        return logits.argmax(axis=-1)
    inverse = 1.0 / temperature
    if top_k or top_p < 1.0:  # the nucleus of the tempered distribution
        if temperature != 1.0:
            logits *= np.float32(inverse)
        logits, inverse = filter_logits(logits, top_k, top_p), 1.0
    return noise.draw(logits, inverse)


def numpy_rng(rng: Any) -> np.random.Generator:
    """A NumPy generator from what callers pass: a generator, a seed, a `torch.Generator` (its
    next number seeds ours, so a fresh ``manual_seed(n)`` gives the same draws every time), or
    None (fresh entropy)."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if hasattr(rng, "manual_seed") and hasattr(rng, "initial_seed"):
        import torch

        return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=rng)))
    raise TypeError(f"rng must be a NumPy Generator, a seed or a torch.Generator, not "
                    f"{type(rng).__name__}")
