"""Interpolated modified Kneser-Ney n-gram over token ids: the baseline bits per note is compared to.

Chen & Goodman's estimator (1999): at each order k the probability of token w after context h is

    P_k(w | h) = (max(a(h w) - D_k(a), 0) + gamma_k(h) * P_{k-1}(w | h')) / sum_w a(h w)

with three discounts per order (for counts 1, 2 and 3+) estimated from counts of counts, and
gamma_k(h) = D1 N1(h .) + D2 N2(h .) + D3 N3+(h .). The highest order uses raw counts; lower orders use
continuation counts (how many distinct tokens precede the n-gram), except n-grams that start with
<bos>, which have no left context and keep raw counts. The bottom level interpolates with the uniform
distribution over the vocabulary, so every id has non-zero probability. A context never seen falls
back to the next lower order.

N-grams never cross a tune boundary. Counts are numpy arrays indexed by a trie: the k-gram ending at a
position is identified by (id of the (k-1)-gram before it) * V + token, so fitting is a few
``np.unique`` calls per order, and one fit at ``max_order`` serves every order up to it (order is then
chosen on validation data). Torch-free and deterministic; saved as ``.npz`` (no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

__all__ = ["KneserNeyModel", "NGRAM_FORMAT_VERSION"]

NGRAM_FORMAT_VERSION = 1
_MIN_DISCOUNT = 0.05  # keeps some mass for the lower order even when counts of counts degenerate


@dataclass(frozen=True)
class _Stats:
    """Per-context totals and discounts for one order and one count type (raw or continuation)."""

    total: np.ndarray  # (contexts,) sum of counts after each context
    gamma: np.ndarray  # (contexts,) D1*N1 + D2*N2 + D3*N3+ after each context
    discounts: tuple[float, float, float]


@dataclass(frozen=True)
class _Level:
    """The k-grams of one order: sorted trie keys and their counts."""

    keys: np.ndarray  # (grams,) int64, parent_context_id * V + token, sorted
    raw: np.ndarray  # (grams,) int32 occurrence counts
    cont: np.ndarray | None  # (grams,) adjusted counts for use as a lower order (None at the top)


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from counts of counts (clipped to valid ranges)."""
    n1, n2, n3, n4 = (int(np.count_nonzero(counts == c)) for c in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.5
    d1 = 1 - 2 * y * n2 / n1 if n1 else 0.5
    d2 = 2 - 3 * y * n3 / n2 if n2 else 1.0
    d3 = 3 - 4 * y * n4 / n3 if n3 else 1.5
    return (
        float(np.clip(d1, _MIN_DISCOUNT, 1.0)),
        float(np.clip(d2, _MIN_DISCOUNT, 2.0)),
        float(np.clip(d3, _MIN_DISCOUNT, 3.0)),
    )


def _stats(level: _Level, counts: np.ndarray, vocab_size: int, n_contexts: int) -> _Stats:
    d1, d2, d3 = _discounts(counts)
    parents = level.keys // vocab_size
    total = np.bincount(parents, weights=counts, minlength=n_contexts)
    discount = np.where(counts >= 3, d3, np.where(counts == 2, d2, d1))
    gamma = np.bincount(parents, weights=np.where(counts > 0, discount, 0.0), minlength=n_contexts)
    return _Stats(total=total, gamma=gamma, discounts=(d1, d2, d3))


def _flatten(sequences: Iterable[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated tokens and, per position, the index where its sequence starts."""
    arrays = [np.asarray(s, dtype=np.int64) for s in sequences]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lengths = np.array([a.size for a in arrays])
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.concatenate(arrays), starts


class KneserNeyModel:
    """An interpolated modified Kneser-Ney model of every order 1..max_order over ids 0..V-1."""

    def __init__(self, vocab_size: int, levels: list[_Level]) -> None:
        self.vocab_size = vocab_size
        self.levels = levels  # levels[k-1] holds the k-grams
        self._raw_stats: list[_Stats] = []
        self._cont_stats: list[_Stats | None] = []
        for k, level in enumerate(levels, start=1):
            n_contexts = 1 if k == 1 else len(levels[k - 2].keys)
            self._raw_stats.append(_stats(level, level.raw, vocab_size, n_contexts))
            cont = None if level.cont is None else _stats(level, level.cont, vocab_size, n_contexts)
            self._cont_stats.append(cont)

    @property
    def max_order(self) -> int:
        return len(self.levels)

    # --- fitting ------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, sequences: Iterable[Sequence[int]], vocab_size: int, max_order: int = 10
    ) -> KneserNeyModel:
        """Count every k-gram (k <= max_order) of the sequences; each should start with <bos>."""
        if max_order < 1:
            raise ValueError(f"max_order must be at least 1, got {max_order}")
        tokens, starts = _flatten(sequences)
        if tokens.size == 0:
            raise ValueError("cannot fit an n-gram model on no tokens")
        if tokens.min() < 0 or tokens.max() >= vocab_size:
            raise ValueError(f"token ids must lie in 0..{vocab_size - 1}")
        levels: list[_Level] = []
        nodes = np.zeros(tokens.size, np.int64)  # the empty context is node 0 everywhere
        prev_keys = prev_raw = None
        for k in range(1, max_order + 2):  # one extra order gives the top level's left extensions
            longer, keys, raw = cls._count_level(k, nodes, tokens, starts, vocab_size)
            if prev_keys is not None:  # finish level k-1 now that its extensions are known
                cont = cls._continuation_counts(prev_keys.size, nodes, longer) if k <= max_order else None
                levels.append(_Level(keys=prev_keys, raw=prev_raw, cont=cont))
            nodes, prev_keys, prev_raw = longer, keys, raw
        return cls(vocab_size, levels)

    @staticmethod
    def _count_level(
        k: int, nodes: np.ndarray, tokens: np.ndarray, starts: np.ndarray, vocab_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids of the k-grams ending at each position (-1: crosses a tune start), keys and counts."""
        if k == 1:
            parent = nodes
        else:  # the (k-1)-gram ending just before; none at a tune start
            parent = np.concatenate(([-1], nodes[:-1]))
            parent[np.arange(tokens.size) == starts] = -1
        valid = parent >= 0
        keys, inverse, raw = np.unique(
            parent[valid] * vocab_size + tokens[valid], return_inverse=True, return_counts=True
        )
        longer = np.full(tokens.size, -1, np.int64)
        longer[valid] = inverse.reshape(-1)
        return longer, keys, raw.astype(np.int32)

    @staticmethod
    def _continuation_counts(n_grams: int, nodes: np.ndarray, longer: np.ndarray) -> np.ndarray:
        """Distinct left extensions of each k-gram; raw counts for k-grams with no left context."""
        valid = longer >= 0
        # each distinct (k+1)-gram counts once for the k-gram it ends with (its suffix)
        _, first = np.unique(longer[valid], return_index=True)
        cont = np.bincount(nodes[valid][first], minlength=n_grams).astype(np.int32)
        # k-grams starting at a tune start (with <bos>) have no left extension: keep raw counts
        no_left = (nodes >= 0) & ~valid
        cont += np.bincount(nodes[no_left], minlength=n_grams)
        return cont

    # --- scoring ------------------------------------------------------------------------------
    def _check_order(self, order: int) -> None:
        if not 1 <= order <= self.max_order:
            raise ValueError(f"order must be in 1..{self.max_order}, got {order}")

    def _lookup(self, k: int, parents: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the k-grams (parent, token) and their index validity (-1 where unseen)."""
        keys = self.levels[k - 1].keys
        if keys.size == 0:
            return np.full(tokens.shape, -1, np.int64), np.zeros(tokens.shape, bool)
        query = parents * self.vocab_size + tokens
        idx = np.searchsorted(keys, query)
        idx_clipped = np.minimum(idx, keys.size - 1)
        found = (parents >= 0) & (keys[idx_clipped] == query)
        return np.where(found, idx_clipped, -1), found

    def _interpolate(
        self, k: int, order: int, contexts: np.ndarray, targets: np.ndarray, lower: np.ndarray
    ) -> np.ndarray:
        """P_k for each (context id at order k-1, target) given P_{k-1} (`lower`)."""
        stats = self._raw_stats[k - 1] if k == order else self._cont_stats[k - 1]
        assert stats is not None  # lower orders always carry continuation counts
        level = self.levels[k - 1]
        counts_of = level.raw if k == order else level.cont
        has_ctx = contexts >= 0
        safe_ctx = np.where(has_ctx, contexts, 0)
        total = np.where(has_ctx, stats.total[safe_ctx], 0.0)
        gram, found = self._lookup(k, np.where(has_ctx, contexts, -1), targets)
        count = np.where(found, counts_of[np.maximum(gram, 0)], 0).astype(np.float64)
        d1, d2, d3 = stats.discounts
        discount = np.where(count >= 3, d3, np.where(count == 2, d2, np.where(count == 1, d1, 0.0)))
        mixed = (np.maximum(count - discount, 0.0) + stats.gamma[safe_ctx] * lower) / np.maximum(total, 1e-300)
        return np.where(total > 0, mixed, lower)

    def log2_probs(self, sequence: Sequence[int], order: int) -> np.ndarray:
        """log2 P(token_i | up to order-1 previous tokens) for every token after the first."""
        return self.log2_probs_many([sequence], order)[0]

    def log2_probs_many(self, sequences: Sequence[Sequence[int]], order: int) -> list[np.ndarray]:
        """`log2_probs` of each sequence, computed in one vectorised pass over all of them."""
        self._check_order(order)
        tokens, starts = _flatten(sequences)
        lengths = [len(s) for s in sequences]
        is_start = np.arange(tokens.size) == starts
        targets = np.flatnonzero(~is_start)
        prob = np.full(targets.size, 1.0 / self.vocab_size)
        nodes = np.zeros(tokens.size, np.int64)  # ids of the (k-1)-grams ending at each position
        for k in range(1, order + 1):
            before = np.concatenate(([-1], nodes[:-1]))  # the (k-1)-gram ending just before
            before[is_start] = -1
            prob = self._interpolate(k, order, before[targets], tokens[targets], prob)
            if k == order:
                break
            parents = np.zeros(tokens.size, np.int64) if k == 1 else before
            nodes, _ = self._lookup(k, parents, tokens)
        log2p = np.log2(prob)
        out, cursor = [], 0
        for n in lengths:
            count = max(n - 1, 0)
            out.append(log2p[cursor:cursor + count])
            cursor += count
        return out

    def distribution(self, context: Sequence[int], order: int) -> np.ndarray:
        """P(w | context) for every id w (the last order-1 tokens of `context` are used)."""
        self._check_order(order)
        ctx = [int(t) for t in context]
        targets = np.arange(self.vocab_size, dtype=np.int64)
        prob = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(1, order + 1):
            context_id = self._gram_id(ctx[len(ctx) - (k - 1):] if k > 1 else [])
            if k > 1 and len(ctx) < k - 1:
                context_id = -1
            contexts = np.full(self.vocab_size, context_id, np.int64)
            prob = self._interpolate(k, order, contexts, targets, prob)
        return prob

    def _gram_id(self, gram: Sequence[int]) -> int:
        """Trie id of an m-gram (0 for the empty one, -1 when it was never seen)."""
        node = 0
        for m, token in enumerate(gram, start=1):
            ids, _ = self._lookup(m, np.array([node]), np.array([token], dtype=np.int64))
            node = int(ids[0])
            if node < 0:
                return -1
        return node

    # --- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the counts to a compressed .npz (numbers only; loads without pickle)."""
        arrays: dict[str, np.ndarray] = {}
        meta = {"format": NGRAM_FORMAT_VERSION, "vocab_size": self.vocab_size, "max_order": self.max_order}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        for k, level in enumerate(self.levels, start=1):
            arrays[f"keys{k}"] = level.keys
            arrays[f"raw{k}"] = level.raw
            if level.cont is not None:
                arrays[f"cont{k}"] = level.cont
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> KneserNeyModel:
        """Read a model written by `save`; raises ValueError for a file of another format."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != NGRAM_FORMAT_VERSION:
                raise ValueError(f"{path} is an n-gram file of another format version")
            levels = [
                _Level(
                    keys=data[f"keys{k}"],
                    raw=data[f"raw{k}"],
                    cont=data[f"cont{k}"] if f"cont{k}" in data.files else None,
                )
                for k in range(1, int(meta["max_order"]) + 1)
            ]
        return cls(int(meta["vocab_size"]), levels)
