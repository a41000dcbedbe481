"""Helpers the training tests import (a uniquely named module: `import conftest` is ambiguous across folders)."""

from __future__ import annotations
import random
from musicgen.melody import Key, Melody, Meter
from musicgen.train_config import TrainConfig


MOTIFS = ([60, 62, 64, 65], [67, 65, 64, 62], [64, 64, 67, 67], [72, 71, 69, 67], [60, 64, 67, 72])


def synthetic_melodies(count: int = 40, seed: int = 1) -> list[Melody]:
    """Short tunes stitched from a few motifs (so a model can learn them), in two meters and keys."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        pitches: list[int | None] = []
        for _ in range(rng.randint(3, 9)):
            pitches += rng.choice(MOTIFS)
        pitches.append(60)
        meter = Meter(6, 8) if i % 2 else Meter(4, 4)
        key = Key(rng.choice([0, 2, 7]), "major")
        shift = key.tonic_pc
        out.append(Melody.from_pitches([p + shift for p in pitches], 6 if i % 2 else 12,
                                       meter=meter, key=key, title=f"tune {i}"))
    return out


def tiny_config(kind: str, **changes: object) -> TrainConfig:
    """Settings that train a tiny model for a few quick epochs, deterministically on CPU."""
    base = dict(model=kind, preset="tiny", batch_size=8, max_epochs=3, lr=1e-2, warmup_steps=2,
                patience=0, seed=3, device="cpu", save_every_steps=1000, max_seq_len=48)
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


ABC_NOTES = {60: "C", 62: "D", 64: "E", 65: "F", 67: "G", 69: "A", 71: "B", 72: "c"}


def write_abc_corpus(folder, count: int = 30, seed: int = 2):
    """A folder with one ABC tune book of `count` motif tunes in C major (a real custom corpus)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tunes = []
    for i in range(count):
        pitches: list[int] = []
        for _ in range(rng.randint(2, 6)):
            pitches += rng.choice(MOTIFS)
        body = " ".join("".join(ABC_NOTES[p] + "2" for p in pitches[j:j + 4])
                        for j in range(0, len(pitches), 4))
        tunes.append(f"X:{i + 1}\nT:Tune {i + 1}\nM:4/4\nL:1/8\nK:C\n{body.replace(' ', '|')}|C8|]\n")
    (folder / "book.abc").write_text("\n".join(tunes), encoding="utf-8")
    return folder
