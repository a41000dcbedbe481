"""Model tests run torch on one thread (tests/conftest.py `one_torch_thread` says why)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every model test uses the project-wide one-thread fixture."""
