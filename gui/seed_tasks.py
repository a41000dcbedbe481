"""The seed work `gui.seed_control` runs in the worker: read a file (with its tunes or tracks),
parse pasted ABC, load the corpus.

These run on the worker thread (music21 and mido load there, not at start-up) and return plain
values. A file is read through `musicgen.io.read_seed_file`: once, its format told from its
content as the command line does (a tune book saved as ``.txt`` still lists its tunes), on the
command line's default track. `builtin_seed` is the fallback when the shipped
example tune is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicgen.melody import Key, Melody, Meter
from musicgen.progress import ProgressFn, StopFn

if TYPE_CHECKING:
    from musicgen.io import SeedFile

__all__ = [
    "DEFAULT_SEED_PATH",
    "builtin_seed",
    "load_corpus_tunes",
    "load_seed_file",
    "parse_abc_text",
]

DEFAULT_SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "kesh-jig.abc"


def load_seed_file(path: str, part: int | None = None, *, on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> SeedFile:
    """Read tune/track/part `part` (1-based) of a file, the default one when not given (the
    command line's: the first tune or part, the fullest pitched MIDI track); SeedError, one
    sentence, when it is no melody."""
    from musicgen.io import read_seed_file

    return read_seed_file(path, part)


def parse_abc_text(text: str, *, on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> SeedFile:
    """Typed or pasted ABC (its first tune), with the reader's notes."""
    from musicgen.errors import SeedError
    from musicgen.io import SeedFile, read_abc_text

    if not text.strip():
        raise SeedError("Cannot read pasted ABC: it is empty.")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    melody, report = read_abc_text(text, "pasted ABC")
    return SeedFile(melody, report, "")


def load_corpus_tunes(name: str = "folk", *, on_progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None) -> list[Any]:
    from musicgen import corpus

    loaded = corpus.load_corpus(name, on_progress=on_progress, should_stop=should_stop)
    return list(loaded.tunes)


def builtin_seed() -> Melody:
    """The opening of The Kesh (a jig in G major), used when data/kesh-jig.abc is missing."""
    g4, a4, b4, d5, e5, fs4 = 67, 69, 71, 74, 76, 66
    eighths = [g4, g4, g4, g4, a4, b4, a4, a4, a4, a4, b4, d5,
               e5, e5, d5, e5, d5, b4, a4, g4, fs4, g4, a4, b4]
    return Melody.from_pitches(eighths, duration_ticks=6, meter=Meter(6, 8), key=Key(7, "major"),
                               tempo_bpm=180.0, title="The Kesh (opening)")
