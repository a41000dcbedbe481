"""The few array operations both engines share, written for small batches: in place where it pays.

A generation step works on a handful of rows of a few hundred numbers, where NumPy's cost is the
call, not the arithmetic (about half a microsecond each on the build machine). So every function
here takes an ``out`` buffer or works in place, and the model weights are rearranged once at load
(`fold_layer_norm`) so that a step does fewer calls.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LN_EPS", "Dense", "normalize", "fold_layer_norm", "gelu_", "softmax_", "log_softmax_at"]

LN_EPS = 1e-5  # torch.nn.LayerNorm's default

# Abramowitz and Stegun 7.1.26: erfc(z) = t (a1 + t (a2 + ... + t a5)) exp(-z^2), t = 1/(1 + p z),
# for z >= 0, absolute error below 1.5e-7 (NumPy has no erf; GELU's error stays below 2e-6).
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_HALF_A = tuple(a / 2 for a in _AS_A)


# OpenBLAS (NumPy's BLAS) multiplies with a fast kernel up to rows * in * out = 100^3 and a slow
# general one above; for a handful of rows, splitting the matrix into column blocks that fit the
# small kernel is 1.3-2x faster (8 rows x 256 x 1024: 145 -> 77 us), from 32 rows on it is not
# (benchmarks/bench_engine.py, `blocked_matmul`).
_SMALL_KERNEL = 950_000
_BLOCK_ROWS_MAX = 32


class Dense:
    """``x @ weight + bias`` for x (rows, in), weight (in, out), split for OpenBLAS as above."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None = None) -> None:
        self.weight = np.ascontiguousarray(weight, dtype=np.float32)
        self.bias = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
        self._blocks: dict[int, list[tuple[int, np.ndarray]]] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        rows, (inputs, outputs) = x.shape[0], self.weight.shape
        if rows * inputs * outputs <= _SMALL_KERNEL or rows > _BLOCK_ROWS_MAX:
            y = x @ self.weight
        else:
            y = np.empty((rows, outputs), np.float32)
            for start, block in self._split(max(16, _SMALL_KERNEL // (rows * inputs) // 16 * 16)):
                np.matmul(x, block, out=y[:, start:start + block.shape[1]])
        if self.bias is not None:
            y += self.bias
        return y

    def _split(self, width: int) -> list[tuple[int, np.ndarray]]:
        blocks = self._blocks.get(width)
        if blocks is None:
            blocks = self._blocks[width] = [
                (j, np.ascontiguousarray(self.weight[:, j:j + width]))
                for j in range(0, self.weight.shape[1], width)]
        return blocks


def normalize(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """LayerNorm without its gain and bias (those are folded into the next matrix): rows of x (..., C)."""
    width = x.shape[-1]
    mean = np.add.reduce(x, axis=-1, keepdims=True)
    mean *= 1.0 / width
    np.subtract(x, mean, out=out)
    var = np.add.reduce(out * out, axis=-1, keepdims=True)
    var *= 1.0 / width
    var += LN_EPS
    np.sqrt(var, out=var)
    out /= var
    return out


def fold_layer_norm(
    gain: np.ndarray, bias: np.ndarray, weight: np.ndarray, weight_bias: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``Linear(LayerNorm(x))`` as ``normalize(x) @ W + b``: W (in, out) float32 and b (out,).

    ``weight`` is torch's (out, in) matrix. Computed in float64, so the only difference from
    torch is the order of float32 additions (relative 1e-7).
    """
    w = weight.astype(np.float64)
    folded = (w * gain.astype(np.float64)[None, :]).T  # (in, out)
    b = w @ bias.astype(np.float64)
    if weight_bias is not None:
        b = b + weight_bias
    return np.ascontiguousarray(folded, dtype=np.float32), b.astype(np.float32)


def gelu_(x: np.ndarray, scratch: np.ndarray, scratch2: np.ndarray) -> np.ndarray:
    """torch's exact (erf) GELU of x, in place; ``scratch`` and ``scratch2`` have x's shape.

    ``x * Phi(x) = relu(x) - |x| erfc(|x| / sqrt2) / 2`` (both signs), erfc from A&S 7.1.26.
    """
    a, t = scratch, scratch2
    np.abs(x, out=a)
    np.multiply(a, _AS_P * _INV_SQRT2, out=t)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = np.multiply(t, _HALF_A[-1])  # Horner: t (a1 + t (a2 + ... + t a5)), halved
    for coefficient in _HALF_A[-2::-1]:
        poly += coefficient
        poly *= t
    np.multiply(a, a, out=t)
    t *= -0.5
    np.exp(t, out=t)  # exp(-z^2), z = |x| / sqrt2
    poly *= t
    poly *= a  # |x| erfc(z) / 2
    np.maximum(x, 0.0, out=x)
    x -= poly
    return x


def softmax_(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place."""
    scores -= np.maximum.reduce(scores, axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= np.add.reduce(scores, axis=-1, keepdims=True)
    return scores


def log_softmax_at(logits: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """log p(chosen[i]) under softmax(logits[i]) for each row (float64)."""
    rows = logits.astype(np.float64)
    top = rows.max(axis=1)
    total = np.log(np.exp(rows - top[:, None]).sum(axis=1)) + top
    return rows[np.arange(len(rows)), chosen] - total
