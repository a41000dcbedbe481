"""Project-wide test fixtures: Qt offscreen by default, and tiny checkpoints of both models, really trained."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Caches of this run only, never the user's nor an earlier run's (a seed reading kept by an earlier
# run would skip the reader a test means to exercise); subprocesses inherit it.
_CACHE = tempfile.mkdtemp(prefix="musicgen-test-cache-")
os.environ["MUSICGEN_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)

from tests.support import MODEL_KINDS, torch_threads, training_melodies


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
