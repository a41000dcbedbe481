"""Project-wide test fixtures: Qt offscreen by default, and tiny checkpoints of both models, really trained."""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from musicgen.melody import Key, Melody, Meter  # noqa: E402  (after the environment is set)

MODEL_KINDS = ("lstm", "transformer")
# Folk-like figures in C major (the vocabulary moves every tune to tonic C anyway).
_FIGURES = ([60, 62, 64, 65], [67, 65, 64, 62], [64, 64, 67, 67], [72, 71, 69, 67], [60, 64, 67, 72])


def training_melodies(count: int = 16, seed: int = 7) -> list[Melody]:
    """Short tunes stitched from a few figures, half in 4/4 (quarters) and half in 6/8 (eighths)."""
    rng = random.Random(seed)
    tunes = []
    for i in range(count):
        pitches: list[int | None] = []
        for _ in range(4):
            pitches += rng.choice(_FIGURES)
        compound = i % 2 == 1
        meter, ticks = (Meter(6, 8), 6) if compound else (Meter(4, 4), 12)
        key = Key(rng.choice([0, 2, 7]), "major")
        tunes.append(Melody.from_pitches([p + key.tonic_pc for p in pitches] + [60 + key.tonic_pc],
                                         ticks, meter=meter, key=key, title=f"figure tune {i}"))
    return tunes


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch on `count` threads inside the block. Tiny models run fastest on one: on a shared
    2-core machine a second OpenMP thread makes each small op wait for a scheduler tick."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Run the test with torch on one thread (see `torch_threads`)."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"lstm": path, "transformer": path}: tiny-preset models trained a few real steps (seconds)."""
    from musicgen.corpus import Corpus
    from musicgen.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("tiny-checkpoints")
    corpus = Corpus.from_melodies(training_melodies(), name="figures")
    paths = {}
    with torch_threads(1):
        for kind in MODEL_KINDS:
            config = TrainConfig(model=kind, preset="tiny", batch_size=4, max_epochs=12, lr=3e-2,
                                 warmup_steps=1, patience=0, seed=0, device="cpu",
                                 save_every_steps=1000, max_seq_len=64)
            result = train(config, corpus, out_path=folder / f"{kind}-tiny.safetensors")
            paths[kind] = Path(result.checkpoint)
    return paths
