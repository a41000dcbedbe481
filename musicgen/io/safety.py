"""Input safety: size caps, checked file access, XML without entity expansion, bounded .mxl unzip.

Every failure here is a `SeedError` with one sentence naming the file.
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from musicgen.errors import SeedError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_UNZIPPED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_NOTES",
    "MAX_TUNES",
    "MAX_METER_NUMERATOR",
    "TEMPO_RANGE_BPM",
    "reader_tempo",
    "error_detail",
    "check_musicxml_numbers",
    "read_input_bytes",
    "check_xml_safe",
    "extract_mxl_score",
]

MAX_FILE_BYTES = 20 * 1024 * 1024  # no seed or tune book is anywhere near this
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # total size of the .mxl members we would extract
MAX_COMPRESSION_RATIO = 200  # MusicXML compresses ~10-30x; bombs compress 1000x+
MAX_NOTES = 200_000  # note events handled per file: bounds the work of every reader
MAX_TUNES = 50_000  # tunes listed per tune book
MAX_METER_NUMERATOR = 64  # beats per bar a reader accepts (a bar of 64/4 is already absurd)
TEMPO_RANGE_BPM = (1.0, 1000.0)  # tempo marks outside it are a damaged file: 120 is used


def reader_tempo(bpm: float | None, report: Any = None) -> float:
    """A file's tempo mark as a Melody tempo: 120 when absent, not a number or out of range (the
    reader reports it), so a damaged mark never becomes "tempo must be positive"."""
    if bpm is None:
        return 120.0
    low, high = TEMPO_RANGE_BPM
    try:
        value = round(float(bpm), 3)
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    if math.isfinite(value) and low <= value <= high:
        return value
    if report is not None:
        report.warn(f"the tempo mark ({bpm!r:.20}) is out of range; 120 beats per minute is used")
    return 120.0


def read_input_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A seed file's bytes, after checking it exists, is a regular file, not empty and not huge.

    Special files (FIFOs, devices, sockets) are refused from `stat`, before anything opens them: a
    FIFO named ``tune.abc`` would otherwise block the reader forever. The file is then opened
    non-blocking and checked again, so one swapped in between is refused too.
    """
    p = Path(path)
    try:
        try:
            info = os.stat(p)
        except FileNotFoundError:
            raise SeedError(f"Cannot read {p}: no such file.") from None
        _check_regular(p, info.st_mode)
        if info.st_size > max_bytes:
            raise SeedError(
                f"Cannot read {p}: it is {info.st_size / 1e6:.1f} MB, over the "
                f"{max_bytes / 1e6:.3g} MB limit for a melody file."
            )
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(p, flags)
        with os.fdopen(fd, "rb") as handle:
            _check_regular(p, os.fstat(handle.fileno()).st_mode)
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SeedError(f"Cannot read {p}: {_os_reason(exc)}.") from exc
    if len(data) > max_bytes:
        raise SeedError(f"Cannot read {p}: it is over the {max_bytes / 1e6:.3g} MB limit.")
    if not data.strip():
        raise SeedError(f"Cannot read {p}: the file is empty.")
    return data


def _check_regular(p: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise SeedError(f"Cannot read {p}: it is a folder, not a melody file.")
    what = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
    raise SeedError(f"Cannot read {p}: it is {what}, not a melody file.")


def _os_reason(exc: OSError) -> str:
    """An OSError in a user's words: 'Permission denied', not '[Errno 13] Permission denied'."""
    return (exc.strerror or str(exc) or "the system refused to open it").rstrip(".")


def check_xml_safe(data: bytes, name: str):  # -> xml.etree.ElementTree.Element
    """Parse XML with entity declarations and external references refused (billion laughs).

    Returns the root element, so callers need not parse the text a second time.
    """
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SeedError(
            f"Cannot read {name}: the XML declares entities, which are refused for safety."
        ) from exc
    except ET.ParseError as exc:
        raise SeedError(f"Cannot read {name}: malformed XML ({exc}).") from exc
    except LookupError as exc:  # <?xml encoding="..."?> names a codec Python does not know
        raise SeedError(f"Cannot read {name}: the XML declares an unknown text encoding.") from exc
    except (ValueError, RecursionError) as exc:  # undecodable text; absurd nesting
        raise SeedError(f"Cannot read {name}: malformed XML ({error_detail(exc, 'undecodable text')}).") from exc


def check_musicxml_numbers(root: Any, name: str) -> None:
    """Refuse a <time> with more than MAX_METER_NUMERATOR beats or a beat type over 64, and a key
    of more than 14 sharps or flats: music21 builds a node per beat subdivision of a time
    signature, and walks the circle of fifths once per sharp, so the fuzzer's
    <beats>4294967296</beats> ran it out of memory and <fifths>999999999999</fifths> ran for
    hours (the read budget would stop both; this says why, at once)."""
    for fifths in root.iter("fifths"):
        text = (fifths.text or "").strip()
        if not re.fullmatch(r"[+-]?\d{1,3}", text or "0") or abs(int(text or "0")) > 14:
            raise SeedError(f"Cannot read {name}: the key signature has {text[:20]} sharps or "
                            "flats, more than any key has.")
    # octaves and alterations far outside music overflow music21's pitch arithmetic (the fuzzer's
    # <octave>999...9</octave> raised OverflowError from inside its pitch code)
    for tag, pattern, limit in (("octave", r"[+-]?\d{1,3}", 12), ("display-octave", r"[+-]?\d{1,3}", 12),
                                ("octave-change", r"[+-]?\d{1,3}", 12),
                                ("alter", r"[+-]?\d{1,3}(\.\d{1,8})?", 12)):
        for element in root.iter(tag):
            text = (element.text or "").strip()
            if text and (not re.fullmatch(pattern, text) or abs(float(text)) > limit):
                raise SeedError(f"Cannot read {name}: a note has {tag} {text[:20]}, which no "
                                "pitch has.")
    for time_element in root.iter("time"):
        for tag, limit in (("beats", MAX_METER_NUMERATOR), ("beat-type", 64)):
            for element in time_element.iter(tag):
                numbers = re.findall(r"\d+", element.text or "")
                if any(len(n) > 4 for n in numbers) or sum(int(n) for n in numbers if
                                                           len(n) <= 4) > limit:
                    raise SeedError(f"Cannot read {name}: the time signature has {tag} "
                                    f"{(element.text or '').strip()[:20]}, more than a bar can "
                                    f"hold (at most {limit}).")


def error_detail(exc: BaseException, fallback: str = "no further detail") -> str:
    """The first line of a parser's exception, for the parentheses of a sentence, when it reads
    like words ("Cannot make a step out of 'H'"); `fallback` when it is a programmer's message
    ("list index out of range", "<music21.abcFormat.ABCNote ...>") or empty."""
    text = str(exc).strip()
    line = text.splitlines()[0][:120].strip() if text else ""
    if not line or _INTERNAL.search(line):
        return fallback
    return line


_INTERNAL = re.compile(r"[<>{}\[\]_]|sys\.|\b(division|index|unpack|convert|digits|NoneType|object|"
                       r"attribute|argument|iterable|subscript|literal|int|float|str|tuple|list|"
                       r"dict|key|callable|module|None|method|self|bytes|Infinity|NaN)\b")


def extract_mxl_score(data: bytes, name: str) -> bytes:
    """The score XML inside a compressed MusicXML (.mxl) archive, after size and ratio checks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        total = sum(m.file_size for m in members)
        if total > MAX_UNZIPPED_BYTES:
            raise SeedError(
                f"Cannot read {name}: the archive would unpack to {total / 1e6:.0f} MB, "
                f"over the {MAX_UNZIPPED_BYTES / 1e6:.0f} MB limit."
            )
        for m in members:
            if m.file_size > 1024 and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
                raise SeedError(
                    f"Cannot read {name}: member {m.filename} is compressed "
                    f"{m.file_size // max(m.compress_size, 1)}x, which looks like a zip bomb."
                )
        member = _mxl_rootfile(archive, members, name)
        with archive.open(member) as handle:
            content = handle.read(member.file_size + 1)
        if len(content) > member.file_size:
            raise SeedError(f"Cannot read {name}: member {member.filename} lies about its size.")
        return content
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, ValueError,
            zlib.error, struct.error, IndexError) as exc:  # ValueError: 'negative seek value'
        raise SeedError(f"Cannot read {name}: not a valid compressed MusicXML archive "
                        f"({error_detail(exc, 'its directory or data is damaged')}).") from exc
    except NotImplementedError as exc:  # a compression method zipfile lacks
        raise SeedError(f"Cannot read {name}: the archive uses a compression method musicgen "
                        "cannot unpack.") from exc
    except RuntimeError as exc:  # encrypted members
        raise SeedError(f"Cannot read {name}: the archive cannot be opened ({error_detail(exc)}).") from exc


def _mxl_rootfile(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    by_name = {m.filename: m for m in members}
    container = by_name.get("META-INF/container.xml")
    if container is not None and container.file_size < 1_000_000:
        root = check_xml_safe(archive.read(container), name)
        for element in root.iter():
            path = element.attrib.get("full-path")
            if element.tag.endswith("rootfile") and path in by_name:
                return by_name[path]
    candidates = [
        m for m in members
        if not m.filename.startswith("META-INF/") and m.filename.lower().endswith((".xml", ".musicxml"))
    ]
    if not candidates:
        raise SeedError(f"Cannot read {name}: the archive holds no MusicXML score.")
    return candidates[0]
