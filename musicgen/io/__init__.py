"""Reading and writing melody files: MIDI (mido), ABC and MusicXML (music21), our ABC writer.

API map:

- `read_melody(path, tune=None, track=None) -> Melody`: any supported file; `tune` and `track`
  are 1-based (the first tune of a book is 1). `read_melody_with_report` also returns a
  `ReadReport` of what was reduced (quantisation, chords, grace notes, ties, voices).
- `read_tunes(path) -> list[TuneInfo]`: the tunes of an ABC book (a text scan, no parsing).
- `list_tracks(path) -> list[TrackInfo]`: the note-bearing lines of a MIDI file.
- `read_seed_file(path, part=None) -> SeedFile`: what the app opens: the melody, its report, the
  file's tunes, tracks or parts, and the reader's notes to show ("Using track 2: Flute").
- `read_tune_book(path) -> list[TuneResult]`: every tune parsed independently (for corpora).
- `abc_text_to_melody(text)`: ABC pasted as text; `read_abc_text` also returns its report.
- `write_melody(melody, path)`: format by suffix (.mid/.midi, .abc, .musicxml/.xml/.mxl);
  `register_writer` plugs in more (e.g. .wav). Writes are atomic (`atomic_write_bytes`).

Every reading failure raises `SeedError` with one sentence naming the file; writing failures
raise `WriteError`. music21 and mido are imported only when a file is read or written.
"""

from __future__ import annotations

from musicgen.io.atomic import atomic_write_bytes, atomic_write_text
from musicgen.io.reader import (
    abc_text_to_melody,
    list_tracks,
    read_abc_text,
    read_melody,
    read_melody_with_report,
    read_tune_book,
    read_tunes,
)
from musicgen.io.safety import MAX_FILE_BYTES
from musicgen.io.seed_file import SeedFile, read_seed_file
from musicgen.io.types import ReadReport, TrackInfo, TuneInfo, TuneResult
from musicgen.io.writers import WRITABLE_SUFFIXES, register_writer, write_melody

__all__ = [
    "read_melody",
    "read_melody_with_report",
    "read_tunes",
    "list_tracks",
    "read_tune_book",
    "read_seed_file",
    "SeedFile",
    "abc_text_to_melody",
    "read_abc_text",
    "write_melody",
    "register_writer",
    "WRITABLE_SUFFIXES",
    "atomic_write_bytes",
    "atomic_write_text",
    "ReadReport",
    "TrackInfo",
    "TuneInfo",
    "TuneResult",
    "MAX_FILE_BYTES",
]
