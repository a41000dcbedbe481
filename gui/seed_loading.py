"""Reading seeds for the window: files (with their tunes or tracks), pasted ABC, the corpus.

The functions here run on the worker thread (music21 and mido load there, not at start-up) and
return plain values. `builtin_seed` is the fallback when the shipped example tune is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from musicgen.melody import Key, Melody, Meter

__all__ = ["LoadedSeed", "load_seed_file", "parse_abc_text", "load_corpus_tunes", "builtin_seed",
           "DEFAULT_SEED_PATH", "SEED_SUFFIXES"]

DEFAULT_SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "kesh-jig.abc"
SEED_SUFFIXES = (".mid", ".midi", ".abc", ".musicxml", ".mxl", ".xml")

Progress = Callable[..., None] | None
Stop = Callable[[], bool] | None


@dataclass(frozen=True)
class LoadedSeed:
    """A melody read from a file, with the file's tunes or tracks when it has several."""

    melody: Melody
    path: str
    kind: str = ""  # "tune", "track" or "" for a file with one melody
    parts: tuple[str, ...] = ()
    part: int = 1


def load_seed_file(path: str, part: int | None = None, *, on_progress: Progress = None,
                   should_stop: Stop = None) -> LoadedSeed:
    """Read tune/track `part` (1-based) of a file; the first one when not given."""
    from musicgen import io

    suffix = Path(path).suffix.lower()
    kind, names = "", ()
    if suffix == ".abc":
        tunes = io.read_tunes(path)
        kind, names = "tune", tuple(t.title or f"Tune {t.index}" for t in tunes)
    elif suffix in (".mid", ".midi"):
        tracks = io.list_tracks(path)
        kind = "track"
        names = tuple(f"{t.name or 'Track ' + str(t.index)} ({t.note_count} notes"
                      f"{', drums' if t.is_drum else ''})" for t in tracks)
    if len(names) > 1:
        chosen = part or 1
        arg = {"tune": chosen} if kind == "tune" else {"track": chosen}
        melody = io.read_melody(path, **arg)
        return LoadedSeed(melody, str(path), kind, names, chosen)
    return LoadedSeed(io.read_melody(path), str(path), kind, names, 1)


def parse_abc_text(text: str, *, on_progress: Progress = None, should_stop: Stop = None) -> Melody:
    from musicgen import io

    return io.abc_text_to_melody(text)


def load_corpus_tunes(name: str = "folk", *, on_progress: Progress = None,
                      should_stop: Stop = None) -> list[Any]:
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
