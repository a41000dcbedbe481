"""Which format a melody file is in, decided from its content first and its suffix second."""

from __future__ import annotations

import re
from pathlib import Path

from musicgen.errors import SeedError

__all__ = ["MIDI", "ABC", "MUSICXML", "MXL", "SUFFIXES", "detect_format", "decode_text"]

MIDI, ABC, MUSICXML, MXL = "midi", "abc", "musicxml", "mxl"
SUFFIXES = {
    ".mid": MIDI, ".midi": MIDI, ".kar": MIDI,
    ".abc": ABC,
    ".musicxml": MUSICXML, ".xml": MUSICXML,
    ".mxl": MXL,
}
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"RIFF": "a RIFF (WAV/AVI) file",
    b"ID3": "an MP3 file",
    b"OggS": "an Ogg file",
    b"fLaC": "a FLAC file",
}
_ABC_FIELD = re.compile(r"^[A-Za-z]:", re.MULTILINE)
_ABC_KEY = re.compile(r"^K:", re.MULTILINE)


def decode_text(data: bytes) -> str:
    """Text decoded by detection (UTF-8, then CJK or Windows-1252: `text`); line ends made '\\n'."""
    from musicgen.io.text import decode_text_bytes

    text = decode_text_bytes(data)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_format(data: bytes, path: Path) -> str:
    """One of MIDI, ABC, MUSICXML, MXL, or SeedError naming the file and what it seems to be."""
    suffix = path.suffix.lower()
    head = data[:64]
    if head.startswith(b"MThd"):
        return MIDI
    if head.startswith(b"PK\x03\x04"):
        return MXL
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise SeedError(f"Cannot read {path}: it is {what}, not a melody file.")
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text_head.startswith(b"<"):
        return MUSICXML
    if SUFFIXES.get(suffix) == MIDI:
        raise SeedError(f"Cannot read {path}: not a MIDI file (it does not start with 'MThd').")
    if SUFFIXES.get(suffix) == MXL:
        raise SeedError(f"Cannot read {path}: not a compressed MusicXML file (not a zip archive).")
    if SUFFIXES.get(suffix) == MUSICXML:
        raise SeedError(f"Cannot read {path}: not a MusicXML file (it does not start with '<').")
    if b"\x00" in data[:4096]:
        raise SeedError(f"Cannot read {path}: it is binary data, not a melody file.")
    text = decode_text(data[:200_000])
    if _ABC_KEY.search(text) or (suffix == ".abc" and _ABC_FIELD.search(text)):
        return ABC
    if suffix == ".abc":
        raise SeedError(f"Cannot read {path}: no ABC header fields (X:, T:, K:) were found.")
    raise SeedError(
        f"Cannot read {path}: unknown format; expected MIDI (.mid), ABC (.abc) or MusicXML "
        "(.musicxml, .xml, .mxl)."
    )
