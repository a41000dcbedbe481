"""How many threads the BLAS under NumPy may use while an engine computes.

A step's matrices are too small to split: on the shared 2-core build machine a second BLAS thread
only adds waiting (measured in benchmarks/bench_engine.py), and in the app it would take the core
the window needs. threadpoolctl sets the limit of the BLAS NumPy already loaded and restores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["blas_threads"]

_CONTROLLER: list[Any] = []  # one ThreadpoolController, made on first use (it scans loaded libraries)


@contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """BLAS limited to ``count`` threads inside the block (0: as it is)."""
    if not count:
        yield
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # an optional speed-up: without it the BLAS keeps its own setting
        yield
        return
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=count, user_api="blas"):
        yield
