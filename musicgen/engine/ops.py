"""The few array operations both engines share, written for small batches: in place where it pays.

A generation step works on a handful of rows of a few hundred numbers, where NumPy's cost is the
call, not the arithmetic (0.5-3 us each on the build machine, the more as the weights streaming
through evict NumPy's own data from the caches). So every function here takes an ``out`` buffer
or works in place, and the model weights are rearranged once at load (`fold_layer_norm`,
`with_bias_row`, the GELU's constants) so that a step does fewer calls, and packed (`pack`).
"""

from __future__ import annotations

import math
import mmap

import numpy as np

__all__ = ["LN_EPS", "pack", "with_bias_row", "eps_column", "normalize", "fold_layer_norm", "gelu_",
           "GELU_SCALE", "log_softmax_at"]

LN_EPS = 1e-5  # torch.nn.LayerNorm's default

# Abramowitz and Stegun 7.1.26: erfc(z) = t (a1 + t (a2 + ... + t a5)) exp(-z^2), t = 1/(1 + p z),
# for z >= 0, absolute error below 1.5e-7 (NumPy has no erf; GELU's error stays below 2e-6).
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


# (B, C) x (B, C) -> (B,) row dot products in one call (np.vecdot is NumPy 2's; einsum before)
_vecdot = getattr(np, "vecdot", None) or (lambda a, b: np.einsum("ij,ij->i", a, b))
_HUGE_PAGE = 2 << 20  # bytes: a transparent huge page on x86-64 Linux


def pack(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """C-contiguous float32 copies of ``arrays``, laid out one after another in one block that
    starts on a 2 MB boundary (each array on a 64-byte one), in memory the kernel is asked to
    back with huge pages (``madvise``; where transparent huge pages are off it is plain memory).

    A step reads every weight once (7 MB for the shipped Transformer, 3.7 MB for the LSTM); in
    4 KB pages that is up to ~1,800 TLB entries, more than the CPU keeps, while in 2 MB pages it
    is four: the Transformer's products alone ran 1.2-1.8x faster (bench_engine.py,
    ``weight_layouts``).
    """
    sizes = [-(-a.size // 16) * 16 for a in arrays]  # floats, rounded up to 64 bytes
    nbytes = 4 * sum(sizes) + _HUGE_PAGE
    if hasattr(mmap, "MAP_PRIVATE"):  # private: shared anonymous memory gets no huge pages
        memory = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    else:  # Windows: anonymous, page-aligned
        memory = mmap.mmap(-1, nbytes)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            memory.madvise(mmap.MADV_HUGEPAGE)
        except OSError:  # a kernel without transparent huge pages: small pages, same numbers
            pass
    block = np.frombuffer(memory, np.float32)
    offset = (-block.ctypes.data % _HUGE_PAGE) // 4
    out = []
    for array, size in zip(arrays, sizes):
        view = block[offset:offset + array.size].reshape(array.shape)
        view[...] = array
        out.append(view)
        offset += size
    return out


def with_bias_row(weight: np.ndarray, bias: np.ndarray, column: float = 1.0) -> np.ndarray:
    """``[weight; bias / column]`` (in + 1, out) float32: ``[x, column] @ it`` is
    ``x @ weight + bias`` in one product, the input's last column kept in a buffer
    (`transformer._Work`)."""
    return np.ascontiguousarray(np.vstack([weight, np.asarray(bias)[None, :] / column]),
                                dtype=np.float32)


def eps_column(width: int) -> float:
    """The constant `normalize` finds after a row of ``width`` numbers: sqrt(width * LN_EPS)."""
    return math.sqrt(width * LN_EPS)


def normalize(x: np.ndarray, row: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """LayerNorm without its gain and bias (those are folded into the next matrix) of the rows of
    x (B, C), into ``row[:, :C]``, *divided by sqrt(C)* (the next matrix's rows are multiplied by
    it, `fold_layer_norm`). ``row`` (B, C + 1) ends in a column holding ``eps_column(C)``, so
    one dot product of a row with itself gives C * (variance + LN_EPS); that column then
    multiplies the next matrix's bias row (`with_bias_row`). ``mean`` is ``full(C, 1 / C)``.
    Five NumPy calls, whatever B."""
    out = row[:, :-1]
    centre = x @ mean  # (B,) row means
    np.subtract(x, centre[:, None], out=out)
    spread = _vecdot(row, row)  # (B,) C * (variance + eps)
    np.sqrt(spread, out=spread)
    np.divide(out, spread[:, None], out=out)
    return row


def fold_layer_norm(
    gain: np.ndarray, bias: np.ndarray, weight: np.ndarray, weight_bias: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``Linear(LayerNorm(x))`` as ``normalize(x) @ W + b``: W (in, out) float32 and b (out,).

    ``weight`` is torch's (out, in) matrix; W is multiplied by sqrt(in), as `normalize` leaves
    its rows sqrt(in) times too short. Computed in float64, so the only difference from torch is the
    order of float32 additions (relative 1e-7).
    """
    w = weight.astype(np.float64)
    folded = (w * gain.astype(np.float64)[None, :]).T * np.sqrt(w.shape[1])  # (in, out)
    b = w @ bias.astype(np.float64)
    if weight_bias is not None:
        b = b + weight_bias
    return np.ascontiguousarray(folded, dtype=np.float32), b.astype(np.float32)


# GELU's input is taken pre-scaled, y = GELU_SCALE * x (the scale folded into the matrix before),
# so A&S 7.1.26's t = 1 / (1 + p z), z = |x| / sqrt2, is 1 / (1 + |y|); its output is
# GELU(x) * GELU_SCALE (the matrix after divides by it).
GELU_SCALE = _AS_P * _INV_SQRT2
_GELU_C = tuple(a / 2 for a in _AS_A)
_GELU_EXP = -1.0 / _AS_P**2  # -z^2 = -y^2 / p^2


def gelu_(y: np.ndarray, a: np.ndarray, t: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """GELU_SCALE * torch's exact (erf) GELU of x = y / GELU_SCALE, in place; ``a``, ``t`` and
    ``poly`` are scratch of y's shape.

    ``x * Phi(x) = relu(x) - |x| erfc(|x| / sqrt2) / 2`` (both signs), erfc from A&S 7.1.26
    (absolute error below 1.5e-7, so GELU's stays below 2e-6): 19 NumPy calls, whatever the size.
    """
    np.abs(y, out=a)
    np.add(a, 1.0, out=t)
    np.reciprocal(t, out=t)
    np.multiply(t, _GELU_C[-1], out=poly)  # Horner: t (c1 + t (c2 + ... + t c5))
    for coefficient in _GELU_C[-2::-1]:
        poly += coefficient
        poly *= t
    poly *= a  # |y| erfc(z) / 2 before its exp(-z^2)
    np.square(a, out=t)
    t *= _GELU_EXP
    np.exp(t, out=t)  # exp(-z^2): underflows to 0 far out, never overflows
    poly *= t
    np.maximum(y, 0.0, out=y)
    y -= poly
    return y


def log_softmax_at(logits: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """log p(chosen[i]) under softmax(logits[i]) for each row (float64)."""
    rows = logits.astype(np.float64)
    top = rows.max(axis=1)
    total = np.log(np.exp(rows - top[:, None]).sum(axis=1)) + top
    return rows[np.arange(len(rows)), chosen] - total
