"""Shared fixtures for the training tests: a tiny learnable corpus and tiny-model settings."""

from __future__ import annotations

import pytest

from musicgen.corpus import Corpus
from tests.support import synthetic_melodies


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every training test uses the project-wide one-thread fixture (tests/conftest.py)."""


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus.from_melodies(synthetic_melodies(), name="synthetic")


