"""Our small ABC writer for monophonic tunes (music21 cannot write ABC).

Output: X:, T:, provenance comments (``% musicgen model: ...``), M:, L:1/8, Q:, K: with the mode,
then bars separated by ``|`` (a pickup bar first when there is one), four bars a line, ``|]`` at
the end. A tune with a `TuneForm` (a whole tune in AABB form) is written with its repeat signs,
``|:``, ``:|``, ``|1`` and ``:|2``, each part once, as a musician reads it. Durations are multiples of L: (``A3``, ``A/``, ``A3/2``); durations the 1/8 grid cannot
express (triplet values) go in ``(3:2:n`` groups, written as ``(3`` for the usual three notes.
Accidentals are relative to the key signature; once a letter has had an accidental in a bar,
every later note of that letter in the bar gets an explicit one, so readers that carry
accidentals per octave and readers that carry them per letter agree. Notes crossing a bar line
are split and tied with ``-``.
"""

from __future__ import annotations

from fractions import Fraction

from musicgen.melody import TICKS_PER_QUARTER, Melody, Note
from musicgen.io.keysig import key_sharps, signature_alters, spell, tonic_name

__all__ = ["melody_to_abc", "UNIT_TICKS"]

UNIT_TICKS = TICKS_PER_QUARTER // 2  # L:1/8
_MODE_SUFFIX = {"major": "", "minor": "m", "dorian": "dor", "mixolydian": "mix",
                "phrygian": "phr", "lydian": "lyd", "locrian": "loc"}
_ACCIDENTAL = {-1: "_", 0: "=", 1: "^"}
_BARS_PER_LINE = 4


def melody_to_abc(melody: Melody, number: int = 1) -> str:
    """The ABC text of one tune."""
    lines = [f"X:{number}", f"T:{_one_line(melody.title) or 'Untitled'}"]
    lines += [f"% musicgen {_one_line(k)}: {_one_line(v)}" for k, v in melody.metadata]
    tempo = round(melody.tempo_bpm)
    lines += [f"M:{melody.meter}", "L:1/8", f"Q:1/4={tempo}",
              f"K:{tonic_name(melody.key)}{_MODE_SUFFIX[melody.key.mode]}"]
    opening, bars = _written_bars(melody)
    for start in range(0, len(bars), _BARS_PER_LINE):
        chunk = bars[start : start + _BARS_PER_LINE]
        text = " ".join(f"{bar} {line}" for bar, line in chunk)
        lines.append(f"{opening} {text}" if start == 0 and opening else text)
    return "\n".join(lines) + "\n"


def _written_bars(melody: Melody) -> tuple[str, list[tuple[str, str]]]:
    """(the bar line before the first bar, [(bar text, the bar line after it)]).

    A melody with a `TuneForm` is written as a musician reads it: each part once between ``|:``
    and ``:|``, with ``|1`` and ``:|2`` endings; without one, bar after bar as played.
    """
    if melody.form is None:
        return "", _bars_with_lines(melody, "|]")
    opening, out = "", []
    first = melody.form.parts[0].start
    if first > 0:  # the pickup, played once before the first repeat
        out += _bars_with_lines(melody.slice_ticks(0, first), "|")
    for part in melody.form.parts:
        if out:  # the bar line before the part opens the repeat (":|:" right after another)
            out[-1] = (out[-1][0], ":|:" if out[-1][1] == ":|" else "|:")
        else:
            opening = "|:"
        spans = {kind: (start, end) for kind, start, end in part.written_spans()}
        close = "|1" if part.has_endings else ":|"
        out += _bars_with_lines(melody.slice_ticks(*spans["body"]), close)
        if part.has_endings:
            out += _bars_with_lines(melody.slice_ticks(*spans["ending1"]), ":|2")
            out += _bars_with_lines(melody.slice_ticks(*spans["ending2"]), "|")
    if out[-1][1] == "|":
        out[-1] = (out[-1][0], "|]")
    return opening, out


def _bars_with_lines(melody: Melody, last_line: str) -> list[tuple[str, str]]:
    bars = [_bar_text(bar, melody) for bar in _split_bars(melody)]
    return [(bar, "|" if i < len(bars) - 1 else last_line) for i, bar in enumerate(bars)]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _split_bars(melody: Melody) -> list[list[tuple[Note, bool]]]:
    """Notes cut at bar lines: each bar a list of (piece, tied to the next piece)."""
    bar_ticks = melody.meter.bar_ticks
    lines = [0] + list(range(melody.pickup_ticks or bar_ticks, melody.duration_ticks, bar_ticks))
    lines.append(melody.duration_ticks)
    bars: list[list[tuple[Note, bool]]] = [[] for _ in range(len(lines) - 1)]
    for note in melody.notes:
        for i in range(len(lines) - 1):
            start, end = max(note.onset_ticks, lines[i]), min(note.end_ticks, lines[i + 1])
            if start < end:
                tied = not note.is_rest and end < note.end_ticks
                bars[i] += _notatable_pieces(Note(note.pitch, start, end - start), tied)
    return [bar for bar in bars if bar]


def _notatable_pieces(piece: Note, tied: bool) -> list[tuple[Note, bool]]:
    """Split a duration ABC readers can't take in one note into tied pieces they can.

    Multiples of 3 ticks are plain lengths on the L:1/8 grid; powers of two (1, 2, 4, 8, 16
    ticks) are triplet-group notes. Anything else (5, 7, 10, 11... ticks) becomes a plain piece
    tied to a 1- or 2-tick triplet piece (music21 refuses tuplet notes of 'complex' length and
    abc2midi refuses non-power-of-two length denominators).
    """
    d = piece.duration_ticks
    if d % 3 == 0 or d in (1, 2, 4, 8, 16, 32):
        return [(piece, tied)]
    rest = 1 if d % 3 == 1 else 2
    head = Note(piece.pitch, piece.onset_ticks, d - rest)
    tail = Note(piece.pitch, piece.onset_ticks + d - rest, rest)
    return [(head, not piece.is_rest), (tail, tied)]


def _bar_text(bar: list[tuple[Note, bool]], melody: Melody) -> str:
    sharps = key_sharps(melody.key)
    signature = signature_alters(sharps)
    touched: set[str] = set()
    out: list[str] = []
    i = 0
    while i < len(bar):
        run = _triplet_run(bar, i)
        if run:
            out.append(" (3" if run == 3 else f" (3:2:{run}")
            for piece, tied in bar[i : i + run]:
                out.append(_note_text(piece, tied, sharps, signature, touched, Fraction(3, 2)))
            i += run
            continue
        piece, tied = bar[i]
        if (piece.onset_ticks - melody.pickup_ticks) % melody.meter.beat_ticks == 0 and out:
            out.append(" ")
        out.append(_note_text(piece, tied, sharps, signature, touched, Fraction(1)))
        i += 1
    return "".join(out).strip()


def _triplet_run(bar: list[tuple[Note, bool]], start: int) -> int:
    """How many pieces from `start` need triplet notation (durations not on the 1/8 grid)."""
    run = 0
    while start + run < len(bar) and bar[start + run][0].duration_ticks % 3 != 0 and run < 9:
        run += 1
    return run


def _note_text(
    note: Note, tied: bool, sharps: int, signature: dict[str, int], touched: set[str],
    stretch: Fraction,
) -> str:
    length = _length(Fraction(note.duration_ticks, UNIT_TICKS) * stretch)
    if note.pitch is None:
        return "z" + length
    letter, alter, octave = spell(note.pitch, sharps)
    accidental = ""
    if alter != signature[letter] or letter in touched:
        accidental = _ACCIDENTAL[alter]
        touched.add(letter)
    if octave >= 5:
        name = letter.lower() + "'" * (octave - 5)
    else:
        name = letter + "," * (4 - octave)
    return accidental + name + length + ("-" if tied else "")


def _length(units: Fraction) -> str:
    if units == 1:
        return ""
    if units.denominator == 1:
        return str(units.numerator)
    if units.numerator == 1:
        return "/" if units.denominator == 2 else f"/{units.denominator}"
    return f"{units.numerator}/{units.denominator}"
