"""Run by test_ddp.py under torchrun: train both tiny models on the synthetic corpus, one folder each."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: tests.support

from musicgen.corpus import Corpus
from musicgen.train import train
from tests.support import synthetic_melodies, tiny_config


def main(out_dir: str) -> None:
    torch.set_num_threads(1)
    corpus = Corpus.from_melodies(synthetic_melodies(), name="synthetic")
    for kind in ("lstm", "transformer"):
        train(tiny_config(kind), corpus, out_path=Path(out_dir) / kind / "m")


if __name__ == "__main__":
    main(sys.argv[1])
