"""Engraving a melody as staff notation: verovio draws our ABC; each drawn note knows its melody note.

`engrave(melody, width_px)` writes the melody as ABC (`musicgen.io.abc_writer`, so a whole tune
shows its repeat signs and endings), has verovio lay it out in systems that wrap at ``width_px``,
and returns an `Engraving`: SVG that QtSvg draws in full (`musicgen.svgtiny`), seed and
continuation notes in their two colours, and where each note and rest sits on the page, with the
melody notes it stands for (a written note of a repeated part stands for two played notes; a note
tied across a bar line is drawn twice, both pieces standing for the one note).

Each drawn note is matched to the ABC token it came from: verovio draws the notes and rests of a
one-voice tune in the order they are written, so the k-th ``<g class="note|rest">`` of the page is
the k-th note or rest of the ABC text, whose written onset the text itself gives. When the two
counts disagree (verovio changed its output), verovio's own timemap is asked instead (slower).
Torch-free and Qt-free; verovio is imported on first use.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from musicgen.errors import MusicGenError
from musicgen.melody import TICKS_PER_QUARTER, Melody
from musicgen.svgtiny import attributes_of, simplify_svg

__all__ = [
    "CONTINUATION_COLOUR",
    "SEED_COLOUR",
    "EngraveError",
    "EngravedNote",
    "Engraving",
    "engrave",
]

SEED_COLOUR = "#3a78c9"
CONTINUATION_COLOUR = "#e07b2a"
DEFAULT_SCALE = 45  # verovio's zoom in percent: staff lines 8 px apart
_NOTEHEAD_HALF_WIDTH = 100  # verovio units: a black notehead at the default size is ~210 wide
_ELEMENT = re.compile(r'<g id="([^"]+)" class="(note|rest)[^"]*"[^>]*>\s*(?:<g class="notehead">\s*)?'
                      r'<use [^>]*transform="translate\(([-\d.]+),\s*([-\d.]+)\)')
_MARGIN = re.compile(r'class="page-margin" transform="translate\(([-\d.]+),\s*([-\d.]+)\)"')
_VIEWBOX = re.compile(r'<svg[^>]*class="definition-scale"[^>]*viewBox="([^"]+)"')
# what the writer puts in a body, in the order tried: an annotation ("^continuation") or a
# decoration, a tuplet ("(3", "(3:2:6"), a bar line (with an ending number), broken rhythm (">"),
# a note or rest and its length
_ABC_ITEM = re.compile(r'"[^"]*"|![^!]*!|\((\d)(?::(\d*))?(?::(\d*))?|[:|\]\[]+\d?|(>+|<+)'
                       r"|[_=^]*([A-Ga-gz])[,']*(\d*/*\d*)")
_LOCK = threading.Lock()  # verovio's log switch is global state


class EngraveError(MusicGenError):
    """Verovio could not lay the melody out."""


@dataclass(frozen=True)
class EngravedNote:
    """One drawn note or rest: where it sits (page pixels) and the melody notes it stands for."""

    element_id: str
    x: float  # the notehead's centre
    y: float
    note_indices: tuple[int, ...]  # indices into melody.notes (two for a repeated part's note)
    is_rest: bool


@dataclass(frozen=True)
class Engraving:
    """A laid-out page: SVG for QtSvg, its size in pixels, and every drawn note."""

    svg: str
    width_px: float
    height_px: float
    notes: tuple[EngravedNote, ...]
    scale: float  # pixels per verovio unit

    def notes_of(self, note_index: int) -> list[EngravedNote]:
        """The drawn notes that stand for melody note ``note_index``."""
        return [n for n in self.notes if note_index in n.note_indices]


def engrave(melody: Melody, width_px: int = 800, *, scale: int = DEFAULT_SCALE,
            seed_colour: str = SEED_COLOUR, continuation_colour: str = CONTINUATION_COLOUR) -> Engraving:
    """Lay ``melody`` out in systems ``width_px`` wide (see the module docstring)."""
    from musicgen.io.abc_writer import melody_to_abc

    if not melody.notes:
        raise EngraveError("There is no melody to engrave.")
    abc = _for_verovio(melody_to_abc(melody.replace(metadata=(), title="")))
    toolkit = _toolkit(width_px, scale)
    if not toolkit.loadData(abc):
        raise EngraveError("Verovio could not read the melody's ABC.")
    raw = toolkit.renderToSVG(1)
    for page in range(2, toolkit.getPageCount() + 1):  # pageHeight is huge: one page in practice
        raw += toolkit.renderToSVG(page)
    played = _played_onsets(abc, melody)
    found = _ELEMENT.findall(raw)
    if len(found) != len(played):
        played = _timemap_onsets(toolkit, [element_id for element_id, *_ in found])
    placed = _place(raw, found, played, melody)
    colours = {n.element_id: _colour(melody, n, seed_colour, continuation_colour)
               for n in placed if not n.is_rest}
    attributes = attributes_of(raw[: raw.find(">")])
    width = float(re.sub(r"[^\d.]", "", attributes.get("width", "0")) or 0)
    height = float(re.sub(r"[^\d.]", "", attributes.get("height", "0")) or 0)
    return Engraving(simplify_svg(raw, colours), width, height, tuple(placed), scale / 1000)


def _toolkit(width_px: int, scale: int):  # -> verovio.toolkit
    import verovio

    with _LOCK:
        verovio.enableLog(verovio.LOG_OFF)  # per thread, as is the resource path:
        toolkit = verovio.toolkit(False)
        # a toolkit made on a thread other than the one that imported verovio gets a build-time
        # resource path and cannot load its fonts (every loadData then fails): set it each time
        toolkit.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    toolkit.setOptions({
        "inputFrom": "abc", "scale": scale, "pageWidth": max(600, int(width_px * 100 / scale)),
        "pageHeight": 60000, "adjustPageHeight": True, "breaks": "auto", "header": "none",
        "footer": "none", "pageMarginLeft": 40, "pageMarginRight": 40, "pageMarginTop": 60,
        "pageMarginBottom": 40, "svgRemoveXlink": False,
    })
    return toolkit


def _for_verovio(abc: str) -> str:
    """Our ABC without what verovio warns about (tempo) or draws needlessly (title), and with
    each tuplet set apart by spaces: verovio stretches every note of a beamed group that holds a
    tuplet (``d/(3cde`` or ``(3fgafd``) as if all of them were in it."""
    lines = [line for line in abc.splitlines() if not line.startswith(("Q:", "T:", "%"))]
    return "\n".join(line if len(line) > 1 and line[1] == ":" and line[0].isalpha()
                     else _spaced_tuplets(line) for line in lines)


def _notatable(units: Fraction) -> bool:
    """Whether one note (dotted at most twice) can last ``units`` unit lengths."""
    return units in _NOTATABLE_SET


def _split_length(letter_text: str, length: str, tie: str) -> str:
    """``B5`` as ``B4-B`` (verovio rounds a length no single note has: 5, 9, 11 units...)."""
    units = _abc_length(length)
    if _notatable(units):
        return letter_text + length + tie
    pieces, left = [], units
    while left > 0:
        part = max(p for p in _NOTATABLE if p <= left)
        pieces.append(part)
        left -= part
    joint = "" if letter_text.lstrip("_=^").startswith("z") else "-"
    return joint.join(letter_text + _length_text(part) for part in pieces) + tie


_NOTATABLE = sorted({Fraction(k, 4) * Fraction(2) ** j for k in (4, 6, 7) for j in range(-4, 6)})
_NOTATABLE_SET = frozenset(_NOTATABLE)


def _length_text(units: Fraction) -> str:
    if units == 1:
        return ""
    if units.denominator == 1:
        return str(units.numerator)
    return ("" if units.numerator == 1 else str(units.numerator)) + f"/{units.denominator}"


def _spaced_tuplets(line: str) -> str:
    """A space before each tuplet and after its last note (beams break there; rhythm is kept),
    and a length no single note has written as tied notes."""
    out, left, position = [], 0, 0
    for match in _ABC_ITEM.finditer(line):
        out.append(line[position:match.start()])  # spaces and anything unread, as they were
        position = match.end()
        p, _q, r, _dots, letter, _length = match.groups()
        text = match.group(0)
        if p is not None:
            out.append(" " + text)
            left = int(r) if r else int(p)
        elif letter is not None and left:
            left -= 1
            out.append(text + ("" if left else " "))
        elif letter is not None:
            head = text[: len(text) - len(_length)]
            tie = "-" if line[position:position + 1] == "-" else ""
            position += len(tie)
            out.append(_split_length(head, _length, tie))
        else:
            out.append(text)
    return "".join(out) + line[position:]


def _colour(melody: Melody, note: EngravedNote, seed: str, continuation: str) -> str:
    boundary = melody.seed_end_ticks
    onset = melody.notes[note.note_indices[0]].onset_ticks
    return continuation if boundary is not None and onset >= boundary else seed


# --- which melody note each drawn note stands for ------------------------------------------------
def _abc_body(abc: str) -> tuple[str, Fraction]:
    """The tune's body (header fields left out) and its unit note length (L:)."""
    unit, body = Fraction(1, 8), []
    for line in abc.splitlines():
        if line.startswith("L:"):
            num, _, den = line[2:].strip().partition("/")
            unit = Fraction(int(num), int(den or 1))
        elif not (len(line) > 1 and line[1] == ":" and line[0].isalpha()):
            body.append(line)
    return " ".join(body), unit


def _written_items(abc: str) -> list[tuple[int, bool]]:
    """(written onset in ticks, is a rest) of each note and rest of the ABC body, in order."""
    text, unit = _abc_body(abc)
    lengths: list[Fraction] = []  # each note's written length in ticks
    rests: list[bool] = []
    stretch_left, stretch, broken = 0, Fraction(1), ""
    for match in _ABC_ITEM.finditer(text):
        p, q, r, dots, letter, length = match.groups()
        if p is not None:  # a tuplet: (p:q:r, r notes in the time of q
            stretch = Fraction(int(q) if q else (3 if int(p) in (2, 4, 8) else 2), int(p))
            stretch_left = int(r) if r else int(p)
        elif dots is not None:  # broken rhythm: a>b dots a and halves b (a>>b, a<b...)
            broken = dots
        elif letter is not None:
            duration = _abc_length(length) * unit * 4 * TICKS_PER_QUARTER
            if stretch_left:
                duration, stretch_left = duration * stretch, stretch_left - 1
            if broken and lengths:
                share = Fraction(1, 2 ** len(broken))
                longer, shorter = 2 - share, share
                lengths[-1] *= longer if broken[0] == ">" else shorter
                duration *= shorter if broken[0] == ">" else longer
                broken = ""
            lengths.append(duration)
            rests.append(letter == "z")
    onsets, onset = [], Fraction(0)
    for duration in lengths:
        onsets.append(int(onset))
        onset += duration
    return list(zip(onsets, rests))


def _abc_length(text: str) -> Fraction:
    if not text:
        return Fraction(1)
    num, slashes, den = re.match(r"(\d*)(/*)(\d*)", text).groups()  # type: ignore[union-attr]
    value = Fraction(int(num) if num else 1)
    if den:
        return value / int(den)
    return value / (2 ** len(slashes))


def _written_to_played(melody: Melody) -> list[tuple[int, int, tuple[int, ...]]]:
    """(written start, written end, played starts) of each stretch of the written tune."""
    if melody.form is None:
        return [(0, melody.duration_ticks, (0,))]
    segments, written = [], 0
    first = melody.form.parts[0].start
    if first > 0:
        segments.append((0, first, (0,)))
        written = first
    for part in melody.form.parts:
        for kind, start, end in part.written_spans():
            again = start + part.body_ticks + part.first_ending_ticks
            played = (start, again) if kind == "body" else (start,)
            segments.append((written, written + end - start, played))
            written += end - start
    return [(w0, w1, tuple(p - w0 for p in played)) for w0, w1, played in segments]


def _played_onsets(abc: str, melody: Melody) -> list[tuple[int, ...]]:
    """For each written note or rest, its played onsets (ticks of the melody as played)."""
    segments = _written_to_played(melody)
    starts = [w0 for w0, _, _ in segments]
    out = []
    for onset, _rest in _written_items(abc):
        _, _, shifts = segments[max(0, bisect.bisect_right(starts, onset) - 1)]
        out.append(tuple(onset + shift for shift in shifts))
    return out


def _timemap_onsets(toolkit, element_ids: list[str]) -> list[tuple[int, ...]]:
    """The played onsets of each element from verovio's timemap (repeats expanded)."""
    onsets: dict[str, list[int]] = {}
    for event in toolkit.renderToTimemap({"includeRests": True}):
        for element_id in event.get("on", []) + event.get("restsOn", []):
            base = element_id.split("-rend")[0]
            onsets.setdefault(base, []).append(round(event["qstamp"] * TICKS_PER_QUARTER))
    return [tuple(onsets.get(element_id, [])) for element_id in element_ids]


def _place(raw: str, found: list[tuple[str, str, str, str]], played: list[tuple[int, ...]],
           melody: Melody) -> list[EngravedNote]:
    """Drawn notes in page pixels, each with the melody notes under its played onsets."""
    width = float(re.search(r'width="([\d.]+)', raw).group(1))  # type: ignore[union-attr]
    box = [float(v) for v in _VIEWBOX.search(raw).group(1).split()]  # type: ignore[union-attr]
    margin = _MARGIN.search(raw)
    mx, my = (float(margin.group(1)), float(margin.group(2))) if margin else (0.0, 0.0)
    px = width / box[2]
    onsets = [n.onset_ticks for n in melody.notes]
    placed = []
    for (element_id, kind, x, y), ticks in zip(found, played):
        indices = tuple(sorted({bisect.bisect_right(onsets, t) - 1 for t in ticks
                                if 0 <= t < melody.duration_ticks}))
        if not indices:
            continue
        placed.append(EngravedNote(element_id, (float(x) + mx + _NOTEHEAD_HALF_WIDTH) * px,
                                   (float(y) + my) * px, indices, kind == "rest"))
    return placed
