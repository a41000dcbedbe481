"""Hypothesis strategies for hostile inputs: arbitrary bytes and mutations of valid files.

A mutated input is a seed file (`seeds`) put through one to five operations:

- bit flips and interesting bytes (0x00, 0x7f, 0x80, 0xff, digits, signs) at random places;
- truncation; duplication of a chunk (up to 64 times: long bars, deep nesting, many tracks);
- length-field tampering: the 4-byte lengths of MIDI chunks, the size and offset fields of zip
  headers, set to 0, one off, or huge; in text formats a number replaced by an extreme one;
- spliced garbage (random bytes) and spliced tokens of the format (``|:``, ``[1``, ``M:``,
  ``<measure>``, ``<divisions>0``...), so mutations reach the parser behind the sniffing;
- structure-keeping changes: a MIDI data byte set to another data byte, an XML leaf's text
  replaced or a whole element (note, measure) deleted or repeated, so the file still parses.

Hypothesis draws the seed file, the number of operations and a random seed; the operations use a
`random.Random` from that seed, so positions are uniform over the file (hypothesis's own integers
favour the edges) and every input is reproducible from what hypothesis drew. For .mxl the
mutation may act on the archive's bytes or on the score inside, re-zipped.
"""

from __future__ import annotations

import random
import re
import struct
from collections.abc import Callable

from hypothesis import strategies as st

from tests.fuzz.seeds import seed_files, zip_mxl

__all__ = ["arbitrary_input", "mutated_input", "fuzz_input", "mutate"]

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x2F, 0x39, 0x2D, 0x0A, 0x3C, 0x7C, 0x3A)
INTERESTING_NUMBERS = (b"0", b"-1", b"1", b"65535", b"4294967296", b"999999999999", b"1e308",
                       b"-0.0", b"NaN", b"0.00001", b"3/0", b"1" * 80, b"9" * 5000)
INTERESTING_LENGTHS = (0, 1, 6, 0x7F, 0x80, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
TOKENS = {
    "abc": [b"|:", b":|", b"::", b"[1", b"[2", b"|]", b"(3", b"(9:7:5", b">>>", b"<", b"{", b"}",
            b"[", b"]", b"^^", b"__", b"=", b"z", b"Z99", b"x", b"-", b"/", b"//////", b"M:",
            b"\nM:13/64\n", b"\nL:1/1024\n", b"\nK:", b"\nK:Hp\n", b"\nQ:1/4=0\n", b"\nV:9\n",
            b"\nX:", b"[M:0/0]", b"[K:]", b"!trill!", b"\"Am\"", b"%%MIDI program 1", b"&",
            b"\nP:A\n", b"A" * 400, b"|" * 200, b"9" * 40, b"\nM:1000000/4\n", b"\nL:1/0\n"],
    "musicxml": [b"<measure>", b"</measure>", b"<note>", b"</note>", b"<chord/>", b"<grace/>",
                 b"<divisions>0</divisions>", b"<duration>-4</duration>", b"<beats>0</beats>",
                 b"<beats>1000000</beats>", b"<beat-type>3</beat-type>", b"<fifths>99</fifths>",
                 b"<octave>-99</octave>", b"<alter>1e9</alter>", b"<backup><duration>99999"
                 b"</duration></backup>", b"<repeat direction=\"backward\" times=\"99999\"/>",
                 b"<ending number=\"1,2,3\" type=\"start\"/>", b"<tie type=\"stop\"/>",
                 b"<time-modification><actual-notes>0</actual-notes></time-modification>",
                 b"<sound tempo=\"0\"/>", b"<?xml version=\"1.0\" encoding=\"x-bogus\"?>",
                 b"<!DOCTYPE a [<!ENTITY e \"x\">]>", b"&e;", b"<part id=\"P1\">", b"]]>"],
    "midi": [b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60", b"MTrk", b"\xff\x51\x03\x00\x00\x00",
             b"\xff\x58\x04\x00\x00\x18\x08", b"\xff\x59\x02\x7f\x05", b"\xff\x2f\x00",
             b"\x90\x3c\x40", b"\x80\x3c\x00", b"\xff\x7f\xff\xff\xff\xff\x7f", b"\xf0\x05",
             b"\xff\x01\x05music", b"\x8f\xff\xff\xff\x7f", b"\xff\x58\x04\x7f\x7f\x7f\x7f"],
}
TOKENS["mxl"] = TOKENS["musicxml"]
MAGIC = {"midi": b"MThd", "abc": b"X:1\nK:C\n", "musicxml": b"<score-partwise>",
         "mxl": b"PK\x03\x04"}
_LEAF = re.compile(rb"<([A-Za-z][\w.-]*)([^<>]*)>([^<]*)</\1>")
_BLOCK = re.compile(rb"<(note|measure|attributes|barline|direction|time|key|part)\b.*?</\1>", re.S)

Mutation = Callable[[random.Random, bytes, str], bytes]


def _flip(rng: random.Random, data: bytes, fmt: str) -> bytes:
    if not data:
        return data
    out, pos = bytearray(data), rng.randrange(len(data))
    out[pos] = out[pos] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.choice(INTERESTING_BYTES)
    return bytes(out)


def _truncate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def _duplicate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    chunk = data[start: start + rng.randint(1, 512)]
    at = rng.randint(0, len(data))
    return data[:at] + chunk * rng.choice((1, 2, 8, 64)) + data[at:]


def _garbage(rng: random.Random, data: bytes, fmt: str) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at + rng.randint(0, 16):]


def _token(rng: random.Random, data: bytes, fmt: str) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + rng.choice(TOKENS[fmt]) + data[at:]


def _length(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """A length or size field set to an extreme value (binary formats), or a number (text)."""
    if fmt in ("midi", "mxl"):
        marks = (b"MThd", b"MTrk") if fmt == "midi" else (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06")
        places = [m.start() for mark in marks for m in re.finditer(re.escape(mark), data)]
        if places:
            at = rng.choice(places)
            # MIDI: the length follows the tag; zip: sizes and offsets sit 10-42 bytes in.
            offset = 4 if fmt == "midi" else rng.choice((10, 12, 16, 18, 20, 22, 24, 26, 28, 42))
            field = struct.pack(">I" if fmt == "midi" else "<I", rng.choice(INTERESTING_LENGTHS))
            return data[: at + offset] + field + data[at + offset + 4:]
    numbers = [m.span() for m in re.finditer(rb"\d+", data)]
    if not numbers:
        return data
    start, end = rng.choice(numbers)
    return data[:start] + rng.choice(INTERESTING_NUMBERS) + data[end:]


def _midi_data(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """A MIDI data byte (< 0x80) set to another data byte: the file stays parseable while the
    values (pitches, delta times, tempos, meters, keys) go wild."""
    places = [i for i in range(14, len(data)) if data[i] < 0x80]
    if not places:
        return data
    out = bytearray(data)
    out[rng.choice(places)] = rng.randrange(0x80)
    return bytes(out)


def _xml_element(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """Well-formed XML stays well-formed: a leaf's text replaced by an extreme number or word,
    or a whole element (a note, a measure) deleted or repeated, so the mutation reaches music21."""
    if rng.random() < 0.5:
        leaves = list(_LEAF.finditer(data))
        if leaves:
            m = rng.choice(leaves)
            value = rng.choice(INTERESTING_NUMBERS + (b"", b"up", b"start", b"x" * 300))
            return data[: m.start(3)] + value + data[m.end(3):]
    blocks = list(_BLOCK.finditer(data))
    if not blocks:
        return data
    m = rng.choice(blocks)
    return data[: m.start()] + m.group(0) * rng.choice((0, 2, 3, 50)) + data[m.end():]


_COMMON: tuple[Mutation, ...] = (_flip, _truncate, _duplicate, _garbage, _token, _length)
_OPERATIONS = {
    "midi": _COMMON + (_midi_data,) * 4,
    "abc": _COMMON + (_token, _length, _duplicate),
    "musicxml": _COMMON + (_xml_element,) * 4,
    "mxl": _COMMON + (_xml_element,) * 3,
}


def mutate(data: bytes, fmt: str, rng: random.Random, operations: int) -> bytes:
    """`data` put through `operations` random mutations suited to `fmt`."""
    for _ in range(operations):
        data = rng.choice(_OPERATIONS[fmt])(rng, data, fmt)
    return data


@st.composite
def mutated_input(draw: st.DrawFn, fmt: str) -> bytes:
    """A valid seed of `fmt`, mutated (for .mxl: the archive, or the score inside re-zipped)."""
    rng = random.Random(draw(st.integers(0, 2**64 - 1)))
    operations = draw(st.integers(1, 5))
    if fmt == "mxl" and draw(st.booleans()):
        xml = draw(st.sampled_from(seed_files("musicxml")))
        return zip_mxl(mutate(xml, "musicxml", rng, operations), container=draw(st.booleans()))
    return mutate(draw(st.sampled_from(seed_files(fmt))), fmt, rng, operations)


@st.composite
def arbitrary_input(draw: st.DrawFn, fmt: str) -> bytes:
    """Arbitrary bytes, half of them behind the format's magic so the parser is reached."""
    body = draw(st.binary(max_size=4096))
    return MAGIC[fmt] + body if draw(st.booleans()) else body


def fuzz_input(fmt: str) -> st.SearchStrategy[bytes]:
    """One input for `fmt`: a mutation of a valid file four times in five, else arbitrary bytes."""
    seed_files(fmt), seed_files("musicxml")  # built now: music21's writer draws random ids
    mutated = mutated_input(fmt)
    return st.one_of(mutated, mutated, mutated, mutated, arbitrary_input(fmt))
