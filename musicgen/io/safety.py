"""Input safety: size caps, checked file access, XML without entity expansion, bounded .mxl unzip.

Every failure here is a `SeedError` with one sentence naming the file.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from musicgen.errors import SeedError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_UNZIPPED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_NOTES",
    "MAX_TUNES",
    "read_input_bytes",
    "check_xml_safe",
    "extract_mxl_score",
]

MAX_FILE_BYTES = 20 * 1024 * 1024  # no seed or tune book is anywhere near this
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # total size of the .mxl members we would extract
MAX_COMPRESSION_RATIO = 200  # MusicXML compresses ~10-30x; bombs compress 1000x+
MAX_NOTES = 200_000  # note events handled per file: bounds the work of every reader
MAX_TUNES = 50_000  # tunes listed per tune book


def read_input_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a seed file's bytes after checking it exists, is a file, is not empty and not huge."""
    p = Path(path)
    try:
        if not p.exists():
            raise SeedError(f"Cannot read {p}: no such file.")
        if p.is_dir():
            raise SeedError(f"Cannot read {p}: it is a folder, not a melody file.")
        size = p.stat().st_size
        if size > max_bytes:
            raise SeedError(
                f"Cannot read {p}: it is {size / 1e6:.1f} MB, over the "
                f"{max_bytes / 1e6:.3g} MB limit for a melody file."
            )
        with p.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SeedError(f"Cannot read {p}: {exc.strerror or exc}.") from exc
    if len(data) > max_bytes:
        raise SeedError(f"Cannot read {p}: it is over the {max_bytes / 1e6:.3g} MB limit.")
    if not data.strip():
        raise SeedError(f"Cannot read {p}: the file is empty.")
    return data


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
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError) as exc:
        raise SeedError(f"Cannot read {name}: not a valid compressed MusicXML archive ({exc}).") from exc
    except RuntimeError as exc:  # encrypted members
        raise SeedError(f"Cannot read {name}: the archive cannot be opened ({exc}).") from exc


def _mxl_rootfile(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    by_name = {m.filename: m for m in members}
    container = by_name.get("META-INF/container.xml")
    if container is not None and container.file_size < 1_000_000:
        text = archive.read(container)
        check_xml_safe(text, name)
        from defusedxml.ElementTree import fromstring

        for element in fromstring(text).iter():
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
