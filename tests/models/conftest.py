"""Model tests run torch on one thread: on a shared 2-core machine two OpenMP threads can stall
each tiny op for a scheduler tick (50x slower when the other core is busy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
