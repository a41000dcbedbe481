"""`write_melody`: pick a writer by the file suffix; a tiny registry so others can plug in (.wav).

A writer turns a Melody into bytes; `write_melody` stores them atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from musicgen.errors import WriteError
from musicgen.melody import Melody
from musicgen.io.atomic import atomic_write_bytes

__all__ = ["Writer", "register_writer", "write_melody", "melody_to_bytes", "WRITABLE_SUFFIXES"]

Writer = Callable[[Melody, Path], bytes]
_WRITERS: dict[str, Writer] = {}


def register_writer(suffix: str, writer: Writer) -> None:
    """Make `write_melody` handle files ending in `suffix` ('.wav') with `writer(melody, path)`."""
    if not suffix.startswith("."):
        raise ValueError(f"a suffix starts with a dot: {suffix!r}")
    _WRITERS[suffix.lower()] = writer


def _midi(melody: Melody, path: Path) -> bytes:
    from musicgen.io.midi_writer import melody_to_midi_bytes

    return melody_to_midi_bytes(melody)


def _abc(melody: Melody, path: Path) -> bytes:
    from musicgen.io.abc_writer import melody_to_abc

    return melody_to_abc(melody).encode("utf-8")


def _musicxml(melody: Melody, path: Path) -> bytes:
    from musicgen.io.musicxml import melody_to_musicxml_bytes

    return melody_to_musicxml_bytes(melody, compressed=path.suffix.lower() == ".mxl",
                                    member_name=path.stem + ".musicxml")


for _suffix, _writer in {".mid": _midi, ".midi": _midi, ".abc": _abc, ".musicxml": _musicxml,
                         ".xml": _musicxml, ".mxl": _musicxml}.items():
    register_writer(_suffix, _writer)

WRITABLE_SUFFIXES = tuple(_WRITERS)  # the built-in ones; `register_writer` may add more


def melody_to_bytes(melody: Melody, path: str | os.PathLike[str]) -> bytes:
    """The bytes `write_melody` would store at `path` (format chosen by its suffix)."""
    p = Path(path)
    writer = _WRITERS.get(p.suffix.lower())
    if writer is None:
        known = ", ".join(sorted(_WRITERS))
        raise WriteError(f"Cannot write {p}: unknown file type {p.suffix or '(none)'}; use {known}.")
    if not melody.notes:
        raise WriteError(f"Cannot write {p}: the melody has no notes.")
    return writer(melody, p)


def write_melody(melody: Melody, path: str | os.PathLike[str]) -> Path:
    """Write `melody` to `path` atomically in the format its suffix names; returns the path."""
    return atomic_write_bytes(path, melody_to_bytes(melody, path))
