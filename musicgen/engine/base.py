"""What every engine offers, and how one says it cannot run a checkpoint.

An engine is a next-token model evaluated without torch, on NumPy arrays:

- ``kind`` ("lstm" or "transformer"), ``vocab_size``, ``max_context`` (None: unbounded),
  ``parameters`` (numbers stored, tied matrices once);
- ``new_state(batch)``: the empty state of ``batch`` streams;
- ``run(ids, state) -> (logits (T, V), state)``: one stream consumes a chunk (a seed);
- ``step(ids (B,), state) -> (logits (B, V), state)``: one token per stream, the cached step;
- ``forward(ids) -> logits (T, V)``: a whole sequence from nothing, no cache (T <= max_context);
- ``select(state, rows)``: a state whose row i is row ``rows[i]`` (duplicate a seed's state);
- ``running(threads)``: a context to compute in (BLAS threads for NumPy; eval mode, no autograd
  and torch's threads for the torch adapter), restored on leaving; 0 keeps the library's setting.

Logits are float32 NumPy arrays; a state may be updated in place, so a caller keeps the one a
call returns and drops the one it passed.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol, Sequence

import numpy as np

from musicgen.errors import MusicGenError

__all__ = ["Engine", "EngineUnsupported", "NumpyEngine", "count_parameters", "require"]


class EngineUnsupported(MusicGenError):
    """The NumPy engine does not implement something this checkpoint uses (the caller falls back)."""


class Engine(Protocol):
    kind: str
    vocab_size: int
    max_context: int | None
    parameters: int

    def new_state(self, batch: int) -> Any: ...

    def run(self, ids: Sequence[int], state: Any) -> tuple[np.ndarray, Any]: ...

    def step(self, ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]: ...

    def forward(self, ids: Sequence[int]) -> np.ndarray: ...

    def select(self, state: Any, rows: np.ndarray) -> Any: ...

    def running(self, threads: int) -> AbstractContextManager[None]: ...


def require(arrays: dict[str, np.ndarray], shapes: dict[str, tuple]) -> None:
    """Refuse unless ``arrays`` holds exactly these float32 tensors of these shapes."""
    missing = sorted(set(shapes) - set(arrays))
    extra = sorted(set(arrays) - set(shapes))
    if missing or extra:
        names = [f"no {n}" for n in missing[:2]] + [f"an unknown tensor {n}" for n in extra[:2]]
        raise EngineUnsupported(", ".join(names))
    for name, shape in shapes.items():
        array = arrays[name]
        wanted = np.int64 if name == "token_ticks" else np.float32
        if array.dtype != wanted or tuple(array.shape) != tuple(shape):
            raise EngineUnsupported(f"{name} is {array.dtype} {tuple(array.shape)}, "
                                    f"not {np.dtype(wanted)} {tuple(shape)}")


class NumpyEngine:
    """What the two NumPy engines share: states select their own rows; BLAS threads limited;
    ``step`` compiled where the library is built (``_lib``, set by each engine)."""

    _lib: Any = None  # the compiled step's library (`musicgen.engine.native`), or None

    @property
    def compiled(self) -> bool:
        """Whether ``step`` runs the compiled step (`musicgen.engine.native`)."""
        return self._lib is not None

    def select(self, state: Any, rows: np.ndarray) -> Any:
        return state.select(np.asarray(rows, dtype=np.int64))

    def running(self, threads: int) -> AbstractContextManager[None]:
        from musicgen.engine.threads import blas_threads

        return blas_threads(threads)


def count_parameters(arrays: dict[str, np.ndarray]) -> int:
    """Trainable numbers, each shared (tied) matrix once and the ``token_ticks`` buffer left out."""
    seen = {array.__array_interface__["data"][0]: array.size
            for name, array in arrays.items() if name != "token_ticks"}
    return int(sum(seen.values()))
