"""A seed file as the app opens it: the melody, its reader's report, and the file's tunes, tracks
or parts to choose from, read once with the format told from the bytes.

The default part is the command line's: the first tune of a book, the first part (top staff) of a
score, and the pitched non-drum MIDI track with the most notes (`midi_reader.default_track`).
`SeedFile.notes` are the reader's notes worth showing beside the seed: which track or part was used
when there was a choice, then what the reader changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from musicgen.melody import Melody
from musicgen.io import sniff
from musicgen.io.safety import read_input_bytes
from musicgen.io.types import ReadReport

__all__ = ["SeedFile", "read_seed_file"]


@dataclass(frozen=True)
class SeedFile:
    """One melody of a file, with what the reader did and what else the file holds."""

    melody: Melody
    report: ReadReport
    path: str
    kind: str = ""  # "tune", "track", "part", or "" for a file with one melody
    parts: tuple[str, ...] = ()  # every tune, track or part, in `part=` order
    part: int = 1  # the one read, 1-based

    @property
    def notes(self) -> tuple[str, ...]:
        """Sentences for the user: "Using track 2: Flute" when the file offered a choice, then the
        reader's report; empty when there is nothing to say."""
        out = []
        if len(self.report.part_names) > 1 and self.report.source_part:
            out.append(f"Using {self.report.source_part}")
        out += [_sentence(w) for w in self.report.warnings if w.strip() and not self._says_nothing(w)]
        return tuple(out)

    def _says_nothing(self, sentence: str) -> bool:
        """Edges moved by under half a tick: a file written at another resolution, not playing."""
        return sentence.startswith("quantisation moved") and self.report.max_shift_ticks < 0.5


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def read_seed_file(path: str | os.PathLike[str], part: int | None = None) -> SeedFile:
    """Read tune, track or part `part` (1-based; the default one when None) of a melody file.

    Raises `SeedError` (one sentence naming the file) when it is not a melody we can read."""
    file = Path(path)
    data = read_input_bytes(file)
    fmt = sniff.detect_format(data, file)
    if fmt == sniff.ABC:
        return _abc(sniff.decode_text(data), file, part)
    if fmt == sniff.MIDI:
        return _midi(data, file, part)
    from musicgen.io.musicxml import read_musicxml_bytes

    melody, report = read_musicxml_bytes(data, name=str(file), compressed=fmt == sniff.MXL,
                                         track=part, fallback_title=file.stem)
    names = report.part_names
    chosen = part or 1
    return SeedFile(melody, report, str(file), "part" if len(names) > 1 else "", tuple(names),
                    chosen)


def _abc(text: str, file: Path, part: int | None) -> SeedFile:
    from musicgen.io.abc_reader import list_abc_tunes
    from musicgen.io.reader import read_abc_text

    names = tuple(t.title or f"Tune {t.index}" for t in list_abc_tunes(text))
    tune = (part or 1) if len(names) > 1 else None
    melody, report = read_abc_text(text, str(file), tune=tune, fallback_title=file.stem)
    return SeedFile(melody, report, str(file), "tune", names, tune or 1)


def _midi(data: bytes, file: Path, part: int | None) -> SeedFile:
    from musicgen.io.midi_reader import default_track, list_midi_tracks, read_midi_bytes

    tracks = list_midi_tracks(data, name=str(file))
    names = tuple(f"{t.name or 'Track ' + str(t.index)} ({t.note_count} notes"
                  f"{', drums' if t.is_drum else ''})" for t in tracks)
    track = part if part is not None else default_track(tracks)
    melody, report = read_midi_bytes(data, name=str(file), track=track, fallback_title=file.stem)
    return SeedFile(melody, report, str(file), "track", names, track or 1)
