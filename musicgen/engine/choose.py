"""Choosing the next ids from logits in NumPy: temperature, top-k, top-p and Gumbel-max draws.

The sampler's per-step cost matters next to a small model's step (the LSTM's is ~0.17 ms), so the
random numbers are drawn in blocks (`GumbelNoise`): one call to the generator per 64 steps, and a
step adds its block row to the masked logits and takes the argmax, ``argmax(z - log E)`` with
``E ~ Exp(1)``: an exact draw from ``softmax(z)`` (forbidden ids, -inf, stay forbidden).

The draws depend only on the generator's seed and the batch's shape, so the same seed gives the
same ids with the same engine and settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["GumbelNoise", "filter_logits", "choose_next", "numpy_rng", "NOISE_BLOCK"]

NOISE_BLOCK = 64  # steps of noise drawn per call to the generator
_TINY = np.float32(1e-30)  # E is clamped above 0 so log E is finite


class GumbelNoise:
    """``log E`` for (rows, V) per step, drawn ``NOISE_BLOCK`` steps at a time.

    ``rng`` is one generator for all rows, or a list of generators that split the rows into equal
    groups (one group per variation, its cadence candidates): a group's noise then depends only
    on its own generator, so a variation sampled alone draws what it drew in a batch.
    """

    def __init__(self, rng: np.random.Generator | list[np.random.Generator], rows: int,
                 vocab_size: int) -> None:
        self._rngs = list(rng) if isinstance(rng, (list, tuple)) else [rng]
        if rows % len(self._rngs):
            raise ValueError(f"{rows} rows do not split into {len(self._rngs)} equal groups")
        self._shape = (NOISE_BLOCK, rows // len(self._rngs), vocab_size)
        self._block: np.ndarray | None = None
        self._next = NOISE_BLOCK

    def take(self) -> np.ndarray:
        """The next step's ``log E`` (rows, V)."""
        if self._next == NOISE_BLOCK:
            parts = [rng.standard_exponential(self._shape, dtype=np.float32) for rng in self._rngs]
            block = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
            np.maximum(block, _TINY, out=block)
            self._block, self._next = np.log(block, out=block), 0
        row = self._block[self._next]  # type: ignore[index]
        self._next += 1
        return row


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
    logits: np.ndarray, temperature: float, top_k: int, top_p: float, noise: GumbelNoise | None
) -> np.ndarray:
    """Next ids (B,) from masked logits (B, V), which it may overwrite: argmax at temperature 0,
    else a draw from the tempered, filtered softmax."""
    if temperature == 0 or noise is None:
        return logits.argmax(axis=-1)
    if temperature != 1.0:
        logits *= np.float32(1.0 / temperature)
    if top_k or top_p < 1.0:
        logits = filter_logits(logits, top_k, top_p)
    logits -= noise.take()
    return logits.argmax(axis=-1)


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
