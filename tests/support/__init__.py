"""Helpers the tests share: tiny learnable tunes, seed files of every format, torch threading.

Imported as ``from tests.support import ...`` (pytest puts the repository root on the path, see
pyproject.toml), never from a conftest by bare name. GUI helpers live in `tests.support.gui`, the
private PulseAudio server in `tests.support.audio`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from musicgen.melody import Key, Melody, Meter

__all__ = [
    "ABC_NOTES",
    "KESH_ABC",
    "MODEL_KINDS",
    "MOTIFS",
    "MUSICXML",
    "TUNE_BOOK_ABC",
    "step_losses",
    "synthetic_melodies",
    "tiny_config",
    "torch_threads",
    "training_melodies",
    "write_abc_corpus",
    "write_midi",
]

MODEL_KINDS = ("lstm", "transformer")
# Folk-like figures in C major (the vocabulary moves every tune to tonic C anyway).
MOTIFS = ([60, 62, 64, 65], [67, 65, 64, 62], [64, 64, 67, 67], [72, 71, 69, 67], [60, 64, 67, 72])

def training_melodies(count: int = 16, seed: int = 7) -> list[Melody]:
    """Short tunes stitched from a few figures, half in 4/4 (quarters) and half in 6/8 (eighths)."""
    rng = random.Random(seed)
    tunes = []
    for i in range(count):
        pitches: list[int | None] = []
        for _ in range(4):
            pitches += rng.choice(MOTIFS)
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


# --- training ----------------------------------------------------------------------------------
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


def tiny_config(kind: str, **changes: object):  # -> TrainConfig
    """Settings that train a tiny model for a few quick epochs, deterministically on CPU."""
    base = dict(model=kind, preset="tiny", batch_size=8, max_epochs=3, lr=1e-2, warmup_steps=2,
                patience=0, seed=3, device="cpu", save_every_steps=1000, max_seq_len=48)
    base.update(changes)
    from musicgen.train.config import TrainConfig

    return TrainConfig(**base)  # type: ignore[arg-type]


ABC_NOTES = {60: "C", 62: "D", 64: "E", 65: "F", 67: "G", 69: "A", 71: "B", 72: "c"}


def step_losses(stem: Path) -> dict[int, float]:
    """Training loss per optimizer step, read from a run's metrics log."""
    import json

    from musicgen.train.run_folder import run_files

    rows = [json.loads(line) for line in run_files(stem).metrics.read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if r["event"] == "step"}


def isolated_smoke_corpus(folder: Path, count: int) -> Path:
    """For a benchmark's --smoke run: user folders inside ``folder`` (MUSICGEN_DATA_DIR and
    MUSICGEN_CACHE_DIR point there for this process) and a folder corpus of ``count`` tunes."""
    import os

    os.environ["MUSICGEN_DATA_DIR"] = str(folder / "data")
    os.environ["MUSICGEN_CACHE_DIR"] = str(folder / "cache")
    return write_abc_corpus(folder / "tunes", count=count)


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


# --- seed files ----------------------------------------------------------------------------------
KESH_ABC = """X:1
T:The Kesh
M:6/8
L:1/8
K:G
|:GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G3:|
"""


TUNE_BOOK_ABC = """X:1
T:First Tune
M:4/4
L:1/8
K:D
DEFG ABcd|efge fdec|d8|]

X:2
T:Second Tune
M:3/4
L:1/4
K:G
GAB|cde|d3|]

X:3
T:Third Tune
M:2/4
L:1/8
K:A
ABcd|e4|]
"""


MUSICXML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.1 Partwise//EN"
  "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="3.1">
  <work><work-title>XML Air</work-title></work>
  <part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><key><fifths>0</fifths></key>
        <time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>G</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
    </measure>
    <measure number="2">
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration><type>half</type></note>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration><type>half</type></note>
    </measure>
  </part>
</score-partwise>
"""


def write_midi(path: Path, tracks: list[list[int]], ticks_per_beat: int = 480) -> Path:
    """A type-1 MIDI file with one track per pitch list (quarter notes, channel = track number)."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    mid.tracks.append(meta)
    for channel, pitches in enumerate(tracks):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=f"Line {channel + 1}", time=0))
        for pitch in pitches:
            track.append(mido.Message("note_on", note=pitch, velocity=80, channel=channel, time=0))
            track.append(mido.Message("note_off", note=pitch, velocity=0, channel=channel,
                                      time=ticks_per_beat))
        mid.tracks.append(track)
    mid.save(str(path))
    return path
