"""Shared fixtures for the training tests: a tiny learnable corpus and tiny-model settings."""

from __future__ import annotations

import random

import pytest

from train_helpers import MOTIFS, synthetic_melodies, tiny_config, ABC_NOTES, write_abc_corpus  # noqa: F401  (shared with the tests)

from musicgen.corpus import Corpus
from musicgen.melody import Key, Melody, Meter
from musicgen.train_config import TrainConfig


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread, and the 2 shared cores are often oversubscribed."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus.from_melodies(synthetic_melodies(), name="synthetic")


