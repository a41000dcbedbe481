"""The seed work `gui.seed_control` runs in the worker: read a file (with its tunes or tracks),
parse pasted ABC, load the corpus.

These run on the worker thread (music21 and mido load there, not at start-up) and return plain
values. A file is read once and its format told from its content, as the command line does, so a
tune book saved as ``.txt`` still lists its tunes. `builtin_seed` is the fallback when the shipped
example tune is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicgen.melody import Key, Melody, Meter
from musicgen.progress import ProgressFn, StopFn

__all__ = [
    "DEFAULT_SEED_PATH",
    "LoadedSeed",
    "builtin_seed",
    "load_corpus_tunes",
    "load_seed_file",
    "parse_abc_text",
]

DEFAULT_SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "kesh-jig.abc"


@dataclass(frozen=True)
class LoadedSeed:
    """A melody read from a file, with the file's tunes or tracks when it has several."""

    melody: Melody
    path: str
    kind: str = ""  # "tune", "track" or "" for a file with one melody
    parts: tuple[str, ...] = ()
    part: int = 1


def load_seed_file(path: str, part: int | None = None, *, on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> LoadedSeed:
    """Read tune/track `part` (1-based) of a file, the first one when not given; the file is read
    once and its format sniffed from its bytes (SeedError, one sentence, when it is no melody)."""
    from musicgen.io import sniff
    from musicgen.io.safety import read_input_bytes

    file = Path(path)
    data = read_input_bytes(file)
    fmt = sniff.detect_format(data, file)
    if fmt == sniff.ABC:
        return _abc_seed(sniff.decode_text(data), file, part)
    if fmt == sniff.MIDI:
        return _midi_seed(data, file, part)
    from musicgen.io.musicxml import read_musicxml_bytes

    melody, _report = read_musicxml_bytes(data, name=str(file), compressed=fmt == sniff.MXL,
                                          fallback_title=file.stem)
    return LoadedSeed(melody, str(file))


def _abc_seed(text: str, file: Path, part: int | None) -> LoadedSeed:
    from musicgen.io import abc_text_to_melody
    from musicgen.io.abc_reader import list_abc_tunes

    names = tuple(t.title or f"Tune {t.index}" for t in list_abc_tunes(text))
    tune = (part or 1) if len(names) > 1 else None
    melody = abc_text_to_melody(text, tune=tune, source_name=str(file))
    if not melody.title:
        melody = melody.replace(title=file.stem)
    return LoadedSeed(melody, str(file), "tune", names, tune or 1)


def _midi_seed(data: bytes, file: Path, part: int | None) -> LoadedSeed:
    from musicgen.io.midi_reader import list_midi_tracks, read_midi_bytes

    tracks = list_midi_tracks(data, name=str(file))
    names = tuple(f"{t.name or 'Track ' + str(t.index)} ({t.note_count} notes"
                  f"{', drums' if t.is_drum else ''})" for t in tracks)
    track = (part or 1) if len(names) > 1 else None
    melody, _report = read_midi_bytes(data, name=str(file), track=track, fallback_title=file.stem)
    return LoadedSeed(melody, str(file), "track", names, track or 1)


def parse_abc_text(text: str, *, on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> Melody:
    from musicgen import io

    return io.abc_text_to_melody(text)


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
