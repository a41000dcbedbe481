"""The melodies read from ABC and MusicXML seeds, kept so a second `generate` from the same file
starts without music21.

music21 parses ABC and MusicXML, and importing it costs a command about 0.3 s, more than all the
rest of `musicgen generate SEED --bars 8` (a MIDI seed needs no music21 and starts in under 0.3 s).
Users generate from the same seed again and again (another variation, another temperature), so
the command line keeps what the reader made of each file: the melody and its report, as JSON in
the user cache folder (``seeds/``, `musicgen.userdirs.cache_dir`), keyed by

- the file's bytes (SHA-256) and name (a reading names its file), the tune, the track and
  whether repeats are expanded, and
- the reader itself: the text of every module of `musicgen.io` and of `musicgen/melody.py`, and
  music21's version file, so a changed reader or music21 never serves an old reading.

Only readings that succeeded are kept; an entry that cannot be read back is read afresh. An entry
decodes only into the melody and report classes (`_TYPES`): no code runs from the cache.
At most `MAX_ENTRIES` are kept, the least recently written going first.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from musicgen.io.types import ReadReport
from musicgen.melody import Key, Melody, Meter, Note, PartForm, TuneForm

__all__ = ["MAX_ENTRIES", "cache_key", "load", "store", "entry_path"]

MAX_ENTRIES = 256
_FORMAT = 1  # bump when the entry layout changes
_TYPES = {cls.__name__: cls for cls in (Melody, Note, Meter, Key, TuneForm, PartForm, ReadReport)}
_READER: list[str] = []  # the reader's fingerprint, computed once per process


def _reader_fingerprint() -> str:
    """A digest of the reader's code and of music21's version file (read, not imported)."""
    if not _READER:
        import hashlib
        import importlib.util

        h = hashlib.sha256(f"seed-cache-{_FORMAT}\n".encode())
        here = Path(__file__).resolve().parent
        for path in sorted(here.glob("*.py")) + [here.parent / "melody.py"]:
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
    path = entry_path(key)
    try:
        entry = json.loads(path.read_bytes())
        melody, report = _decode(entry["melody"]), _decode(entry["report"])
    except Exception:  # noqa: BLE001  (damaged in any way: the file is simply read again)
        return None
    if not (isinstance(melody, Melody) and isinstance(report, ReadReport)):
        return None
    return melody, report


def store(key: str, melody: Melody, report: ReadReport) -> None:
    """Keep a reading (atomically); a cache folder that cannot be written is left alone."""
    from musicgen.errors import WriteError
    from musicgen.io.atomic import atomic_write_bytes

    path = entry_path(key)
    try:
        entry = {"melody": _encode(melody), "report": _encode(report)}
        text = json.dumps(entry, separators=(",", ":"), allow_nan=False)
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


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _TYPES.get(name) is not type(value):
            raise TypeError(f"{name} is not kept in the seed cache")
        return {"__type__": name, **{f.name: _encode(getattr(value, f.name))
                                     for f in dataclasses.fields(value)}}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} is not kept in the seed cache")


def _decode(value: Any) -> Any:
    """JSON back into the classes of `_TYPES` (sequences as tuples, as the dataclasses hold them),
    each field checked against its annotation (`_fits`): an entry edited into another shape is
    refused (TypeError), not served."""
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        cls = _TYPES[value.pop("__type__")]
        fields = {name: _decode(v) for name, v in value.items()}
        hints = _hints(cls)
        for name, v in fields.items():
            if name not in hints or not _fits(v, hints[name]):
                raise TypeError(f"{cls.__name__}.{name} does not hold {v!r:.40}")
        return cls(**fields)
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        import typing

        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fits(value: Any, hint: Any) -> bool:
    """Whether a decoded value is of the annotated type (int, float, str, bool, None, the classes
    of `_TYPES`, unions of them, and tuples of them)."""
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(args) == len(value) and all(_fits(v, a) for v, a in zip(value, args))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)
