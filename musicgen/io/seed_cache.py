"""The melodies read from ABC and MusicXML seeds, kept so a second `generate` from the same file
starts without music21.

music21 parses ABC and MusicXML, and importing it costs a command about 0.3 s, more than all the
rest of `musicgen generate SEED --bars 8` (a MIDI seed needs no music21 and starts in under 0.3 s).
Users generate from the same seed again and again (another variation, another temperature), so
the command line keeps what the reader made of each file: the melody and its report, as JSON in
the user cache folder (``seeds/``, `musicgen.userdirs.cache_dir`), keyed by

- the file's bytes (SHA-256) and name (a reading names its file), the tune, the track and
  whether repeats are expanded, and
- the reader itself: the text of every module of `musicgen.io`, of `musicgen/melody.py` and
  `musicgen/melody_codec.py`, and music21's version file, so a changed reader or music21 never
  serves an old reading.

Only readings that succeeded are kept; an entry that cannot be read back is read afresh. The
melody is kept as the app's session keeps it (`musicgen.melody_codec.melody_to_dict`, every field,
checked on reading back), the report as its plain fields: no code runs from the cache.
At most `MAX_ENTRIES` are kept, the least recently written going first.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from musicgen.io.types import ReadReport
from musicgen.melody import Melody
from musicgen.melody_codec import melody_from_dict, melody_to_dict

__all__ = ["MAX_ENTRIES", "cache_key", "load", "store", "entry_path"]

MAX_ENTRIES = 256
_FORMAT = 2  # bump when the entry layout changes
_READER: list[str] = []  # the reader's fingerprint, computed once per process


def _reader_fingerprint() -> str:
    """A digest of the reader's code and of music21's version file (read, not imported)."""
    if not _READER:
        import hashlib
        import importlib.util

        h = hashlib.sha256(f"seed-cache-{_FORMAT}\n".encode())
        here = Path(__file__).resolve().parent
        for path in sorted(here.glob("*.py")) + [here.parent / "melody.py",
                                                  here.parent / "melody_codec.py"]:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        spec = importlib.util.find_spec("music21")
        if spec is not None and spec.origin:
            version = Path(spec.origin).parent / "_version.py"
            h.update(version.read_bytes() if version.is_file() else spec.origin.encode())
        _READER.append(h.hexdigest())
    return _READER[0]


def cache_key(data: bytes, name: str, tune: int | None, track: int | None,
              expand_repeats: bool) -> str:
    """The entry name of one reading of ``data`` from the file called ``name``."""
    import hashlib

    h = hashlib.sha256(_reader_fingerprint().encode())
    h.update(f"\0{name}\0{tune}\0{track}\0{expand_repeats}\0".encode("utf-8", "surrogateescape"))
    h.update(data)
    return h.hexdigest()[:40]


def entry_path(key: str) -> Path:
    from musicgen.userdirs import cache_dir

    return cache_dir() / "seeds" / f"{key}.json"


def load(key: str) -> tuple[Melody, ReadReport] | None:
    """The reading kept under ``key``, or None (absent, damaged or of another layout)."""
    try:
        entry = json.loads(entry_path(key).read_bytes())
        return melody_from_dict(entry["melody"]), _report_from_dict(entry["report"])
    except Exception:  # noqa: BLE001  (damaged in any way: the file is simply read again)
        return None


def store(key: str, melody: Melody, report: ReadReport) -> None:
    """Keep a reading (atomically); a cache folder that cannot be written is left alone."""
    from musicgen.errors import WriteError
    from musicgen.io.atomic import atomic_write_bytes

    path = entry_path(key)
    try:
        text = json.dumps({"melody": melody_to_dict(melody), "report": dataclasses.asdict(report)},
                          separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # something JSON cannot hold exactly: read afresh next time
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode())
        _prune(path)
    except (OSError, WriteError):
        pass


def _prune(kept: Path) -> None:
    """At most `MAX_ENTRIES` beside ``kept`` (just written, never the one to go), oldest first."""
    others = [p for p in kept.parent.glob("*.json") if p.is_file() and p != kept]
    if len(others) < MAX_ENTRIES:
        return
    others.sort(key=lambda p: p.stat().st_mtime_ns)
    for old in others[:len(others) - MAX_ENTRIES + 1]:
        old.unlink(missing_ok=True)


def _report_from_dict(data: dict[str, Any]) -> ReadReport:
    """The report `dataclasses.asdict` wrote; each field of its default's type (a float field takes
    an int, a tuple field a list of text), or TypeError: an entry edited into another shape is
    refused, not served."""
    fields = {}
    for f in dataclasses.fields(ReadReport):
        value, default = data[f.name], f.default
        if isinstance(default, tuple):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TypeError(f"ReadReport.{f.name}")
            value = tuple(value)
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"ReadReport.{f.name}")
            value = float(value)
        elif type(value) is not type(default):  # noqa: E721  (bool is not an int here)
            raise TypeError(f"ReadReport.{f.name}")
        fields[f.name] = value
    return ReadReport(**fields)
