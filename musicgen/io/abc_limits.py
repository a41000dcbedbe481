"""ABC checks before music21 sees a tune, and music21's slow paths bounded while it parses.

The fuzzer found ABC that keeps music21 busy for minutes or makes it allocate gigabytes, from a few
hundred bytes: ``M:1000000/4`` (a time signature with a million beats, each a node of music21's
meter tree), ``L:999999999999/8`` or a note 10^9 units long (music21 builds the bars to hold it),
and a long bar without bar lines, which music21's re-barring splits and then fits with a "best"
time signature, at a cost that grows with the square of the bar. The read budget (`bounded`)
would stop each of them after seconds; these checks refuse them at once with a sentence that says
what is wrong, and the budget stays the backstop.

`check_abc_numbers(text, name)` refuses absurd meters, unit lengths and note lengths.
`lean_music21()` (used only inside the read budget's child process, where nothing else runs)
skips the two music21 steps a melody reader does not need and whose cost explodes on hostile
input: beaming (quadratic in the length of a part) and the best-time-signature guess for an
overflowing bar longer than `MAX_GUESSED_BAR_QUARTERS` (music21 catches the refusal and keeps the
bars it had).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from fractions import Fraction

from musicgen.errors import SeedError
from musicgen.io.safety import MAX_METER_NUMERATOR

__all__ = ["check_abc_numbers", "lean_music21", "MAX_NOTE_UNITS", "MAX_GUESSED_BAR_QUARTERS"]

MAX_NOTE_UNITS = 256  # a note of 256 unit lengths (32 bars of 4/4 in eighths) is already absurd
MAX_UNIT_WHOLE_NOTES = 4  # L: longer than four whole notes is not a unit length
MAX_MULTI_BAR_REST = 999  # Z999: a rest of 999 bars
MAX_GUESSED_BAR_QUARTERS = 32  # a left-over bar music21 may fit a time signature to
_FIELD = re.compile(r"^\s*([ML]):[ \t]*(.*)$", re.MULTILINE)
_INLINE = re.compile(r"\[([ML]):([^\]\n]*)\]")
_RATIO = re.compile(r"^\(?\s*(\d+(?:\s*\+\s*\d+)*)\s*\)?\s*/\s*(\d+)")
# A note or rest with its length: accidentals, letter, octave marks, then digits (and /digits).
_NOTE_LENGTH = re.compile(r"(?:\^{1,2}|_{1,2}|=)?[A-Ga-gzxy][,']*(\d+)")
_BAR_REST = re.compile(r"[ZX](\d+)")
_NOT_MUSIC = re.compile(r'^\s*(?:[A-Za-z+]:|%).*$|"[^"\n]*"|![^!\n]*!|\+[^+\n]*\+', re.MULTILINE)


def check_abc_numbers(text: str, name: str) -> None:
    """Refuse an ABC tune whose meter, unit length or note lengths no tune could have."""
    fields = [(m.group(1), m.group(2)) for m in _FIELD.finditer(text)]
    fields += [(m.group(1), m.group(2)) for m in _INLINE.finditer(text)]
    for field, value in fields:
        value = value.split("%", 1)[0].strip()
        if field == "M" and any(len(n) > 3 or int(n) > MAX_METER_NUMERATOR
                                for n in re.findall(r"\d+", value)):
            raise SeedError(f"Cannot read {name}: the meter M:{value[:20]} has more beats than "
                            f"a bar can hold (at most {MAX_METER_NUMERATOR}).")
        ratio = _RATIO.match(value)
        if ratio is None:
            continue  # "C", "C|", "none" or text music21 rejects on its own
        parts, denominator = ratio.group(1), ratio.group(2)
        if len(parts) > 12 or len(denominator) > 4:
            raise SeedError(f"Cannot read {name}: the {_FIELD_NAMES[field]} {field}:{value[:20]} "
                            "is out of range.")
        numerator = sum(int(p) for p in parts.split("+"))
        if field == "M" and (numerator > MAX_METER_NUMERATOR or int(denominator) > 64):
            raise SeedError(f"Cannot read {name}: the meter M:{value[:20]} has more beats than "
                            f"a bar can hold (at most {MAX_METER_NUMERATOR}).")
        if field == "L" and (int(denominator) == 0
                             or Fraction(numerator, int(denominator)) > MAX_UNIT_WHOLE_NOTES):
            raise SeedError(f"Cannot read {name}: the unit note length L:{value[:20]} is out of "
                            "range.")
    body = _NOT_MUSIC.sub(" ", _INLINE.sub(" ", text))  # fields, comments, chord names, decorations
    for match in _NOTE_LENGTH.finditer(body):
        if len(match.group(1)) > 4 or int(match.group(1)) > MAX_NOTE_UNITS:
            raise SeedError(f"Cannot read {name}: a note {match.group(0)[:12]} is longer than "
                            f"{MAX_NOTE_UNITS} unit lengths.")
    for match in _BAR_REST.finditer(body):
        if len(match.group(1)) > 4 or int(match.group(1)) > MAX_MULTI_BAR_REST:
            raise SeedError(f"Cannot read {name}: a rest of {match.group(1)[:12]} bars is out "
                            "of range.")


_FIELD_NAMES = {"M": "meter", "L": "unit note length"}


@contextlib.contextmanager
def lean_music21() -> Iterator[None]:
    """music21 without beaming and with bounded time-signature guessing, inside the block."""
    from music21 import meter, stream

    original_guess = meter.bestTimeSignature
    original_beams = stream.Stream.makeBeams

    def bounded_guess(measure: stream.Stream) -> meter.TimeSignature:
        if measure.duration.quarterLength > MAX_GUESSED_BAR_QUARTERS:
            raise meter.MeterException("the bar is too long to fit a time signature to")
        return original_guess(measure)

    def no_beams(self: stream.Stream, *, inPlace: bool = False, **_: object) -> stream.Stream | None:
        return None if inPlace else self

    meter.bestTimeSignature = bounded_guess
    stream.Stream.makeBeams = no_beams
    try:
        yield
    finally:
        meter.bestTimeSignature = original_guess
        stream.Stream.makeBeams = original_beams
