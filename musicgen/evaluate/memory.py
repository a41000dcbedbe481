"""A baseline with memory: the corpus n-gram blended with a short-term model of the tune so far.

Music-cognition models of melody (IDyOM: Pearce 2005, after Conklin & Witten 1995) pair a long-term
model, learnt over a corpus, with a short-term model built from the piece being heard, so a passage
that comes round again is predicted from its first hearing. Here the long-term model is the
Kneser-Ney n-gram (`ngram`), and the short-term model is a variable-order Markov model of the tokens
of the same tune before the one predicted, blended PPM-style (Witten-Bell escapes) on top of it:

    P_k(w) = (c_k(w) + b * E_k * P_{k-1}(w)) / (N_k + b * E_k)     for k = k_min .. k_max

where, for the context of the last k tokens, N_k counts its earlier occurrences in the tune, c_k(w)
how often w followed them and E_k how many distinct tokens did; a context not yet seen leaves P as it
is; P_{k_min - 1} is the n-gram's probability. Each level is a proper distribution, so the blend is.
The orders k_min..k_max and the escape weight b are chosen on the validation split (never on test),
by a grid over all three.

Counting is vectorised: contexts are 64-bit rolling hashes that include the tune's index, and the
counts before each position come from ranks within sorted groups, so no Python loop runs per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from musicgen.evaluate.ngram import KneserNeyModel

__all__ = ["MemoryConfig", "ContextCounts", "context_counts", "blend_probs", "memory_token_bits",
           "choose_memory", "MIN_ORDERS", "MAX_ORDERS", "ESCAPES"]

MIN_ORDERS = (1, 2, 3, 4, 6, 8)
MAX_ORDERS = (8, 12, 16, 24, 32, 48)
ESCAPES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier for the rolling context hash


@dataclass(frozen=True)
class MemoryConfig:
    """The short-term model's orders and escape weight (chosen on validation)."""

    min_order: int = 2
    max_order: int = 16
    escape: float = 1.0

    def to_dict(self) -> dict:
        return {"min_order": self.min_order, "max_order": self.max_order, "escape": self.escape}


@dataclass(frozen=True)
class ContextCounts:
    """Per scored token (every token after <bos>, tunes concatenated) and order k = 1..K (column
    k-1): earlier occurrences of its k-token context in the tune (n), of that context followed by
    the token (c), and distinct followers of the context so far (e)."""

    n: np.ndarray  # (T, K) int32
    c: np.ndarray  # (T, K) int32
    e: np.ndarray  # (T, K) int32
    lengths: tuple[int, ...]  # scored tokens per tune


def _group_ranks(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For keys in time order: rank of each among equal keys before it, and the sort used."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    size = keys.size
    first = np.ones(size, dtype=bool)
    first[1:] = ranked[1:] != ranked[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(size), 0))
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size) - group_start
    return rank, order, group_start


def context_counts(sequences: Sequence[Sequence[int]], max_order: int) -> ContextCounts:
    """Counts of every scored token's contexts in its tune so far (see `ContextCounts`)."""
    arrays = [np.asarray(s, dtype=np.int64) for s in sequences]
    lengths = tuple(max(a.size - 1, 0) for a in arrays)
    tokens = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
    tune = np.repeat(np.arange(len(arrays)), [a.size for a in arrays])
    pos = np.concatenate([np.arange(a.size) for a in arrays]) if arrays else np.zeros(0, np.int64)
    targets = np.flatnonzero(pos >= 1)
    shape = (targets.size, max_order)
    n, c, e = (np.zeros(shape, np.int32) for _ in range(3))
    with np.errstate(over="ignore"):
        h = (tune.astype(np.uint64) + np.uint64(1)) * _MULT  # the empty context, per tune
        for k in range(1, max_order + 1):
            before = np.zeros_like(tokens)
            before[k:] = tokens[:-k]
            h = h * _MULT + before.astype(np.uint64) + np.uint64(1)
            valid = targets[pos[targets] >= k]
            if valid.size == 0:
                break
            col = np.searchsorted(targets, valid)
            key = h[valid]
            rank, order, group_start = _group_ranks(key)
            pair_rank, _, _ = _group_ranks(key * _MULT + tokens[valid].astype(np.uint64))
            firsts = (pair_rank == 0)[order].astype(np.int64)
            before_firsts = np.cumsum(firsts) - firsts
            distinct = np.empty(valid.size, dtype=np.int64)
            distinct[order] = before_firsts - before_firsts[group_start]
            n[col, k - 1], c[col, k - 1], e[col, k - 1] = rank, pair_rank, distinct
    return ContextCounts(n, c, e, lengths)


def blend_probs(ltm: np.ndarray, counts: ContextCounts, config: MemoryConfig) -> np.ndarray:
    """The blended probability of each scored token, given the n-gram's (`ltm`, shape (T,))."""
    p = ltm.astype(np.float64).copy()
    for k in range(config.min_order, min(config.max_order, counts.n.shape[1]) + 1):
        n, c = counts.n[:, k - 1], counts.c[:, k - 1]
        escape = config.escape * counts.e[:, k - 1]
        seen = n > 0
        p = np.where(seen, (c + escape * p) / np.where(seen, n + escape, 1.0), p)
    return p


def _split(values: np.ndarray, lengths: Sequence[int]) -> list[np.ndarray]:
    return np.split(values, np.cumsum(lengths)[:-1]) if lengths else []


def memory_token_bits(
    ngram: KneserNeyModel, order: int, sequences: Sequence[Sequence[int]], config: MemoryConfig,
    counts: ContextCounts | None = None,
) -> list[np.ndarray]:
    """Per tune, the bits of each token after <bos> under the n-gram blended with memory."""
    ltm = np.concatenate([2.0 ** lp for lp in ngram.log2_probs_many(sequences, order)] or [np.zeros(0)])
    counts = counts or context_counts(sequences, config.max_order)
    bits = -np.log2(blend_probs(ltm, counts, config))
    return _split(bits, counts.lengths)


def choose_memory(
    ngram: KneserNeyModel, order: int, val_sequences: Sequence[Sequence[int]], note_total: int,
    *, min_orders: Sequence[int] = MIN_ORDERS, max_orders: Sequence[int] = MAX_ORDERS,
    escapes: Sequence[float] = ESCAPES,
) -> tuple[MemoryConfig, float]:
    """The grid point with the lowest validation bits per note, and that figure."""
    ltm = np.concatenate([2.0 ** lp for lp in ngram.log2_probs_many(val_sequences, order)])
    counts = context_counts(val_sequences, max(max_orders))
    best, best_bpn = MemoryConfig(), math.inf
    for low in min_orders:
        for escape in escapes:
            p = ltm.copy()
            for k in range(low, max(max_orders) + 1):  # one pass serves every max order
                p = blend_probs(p, counts, MemoryConfig(k, k, escape))
                if k in max_orders and k >= low:
                    bpn = float(-np.log2(p).sum()) / max(note_total, 1)
                    if bpn < best_bpn:
                        best, best_bpn = MemoryConfig(low, k, escape), bpn
    return best, best_bpn
