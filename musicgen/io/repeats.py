"""Repeat expansion at the bar level, for music21 parts: the tune as played, without deep copies.

music21's own ``expandRepeats`` deep-copies every measure and dominated reading time (about 60%
of it for a folk tune book); this walks the measures once and yields (offset, element) pairs.
Rules: ``|:`` opens a section (the tune start if none); ``:|`` jumps back to it until the section
has been played as many times as its highest ending number (2 when it has no endings); a bar
under an ending bracket is played only on the passes the bracket names.

`drop_repeat_marks` does the opposite: it removes the repeat bar lines and ending brackets, so the
part reads as written, each written bar once (first and second endings one after the other).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterator

__all__ = ["has_repeats", "played_elements", "drop_repeat_marks"]

_MAX_PLAYED_BARS = 20_000  # bounds the work of malformed repeat marks


def _bar_info(part: Any) -> tuple[list[Any], list[frozenset[int]], list[bool], list[bool]]:
    from music21 import bar, spanner

    measures = list(part.getElementsByClass("Measure"))
    endings: dict[int, frozenset[int]] = {}
    for bracket in part.getElementsByClass(spanner.RepeatBracket):
        numbers = frozenset(bracket.numberRange or [])
        for m in bracket.getSpannedElements():
            endings[id(m)] = numbers
    brackets = [endings.get(id(m), frozenset()) for m in measures]
    starts = [isinstance(m.leftBarline, bar.Repeat) and m.leftBarline.direction == "start"
              for m in measures]
    ends = [isinstance(m.rightBarline, bar.Repeat) and m.rightBarline.direction == "end"
            for m in measures]
    return measures, brackets, starts, ends


def has_repeats(part: Any) -> bool:
    """True when the part has repeat bar lines or ending brackets."""
    _, brackets, starts, ends = _bar_info(part)
    return any(starts) or any(ends) or any(brackets)


def _play_order(brackets: list[frozenset[int]], starts: list[bool], ends: list[bool]) -> list[int]:
    order: list[int] = []
    section, passes, i = 0, 1, 0
    while i < len(brackets) and len(order) < _MAX_PLAYED_BARS:
        if starts[i] and i != section and passes == 1:
            section = i
        if brackets[i] and passes not in brackets[i]:
            i += 1
            continue
        if not brackets[i] and passes > 1 and order and order[-1] == i - 1 and brackets[i - 1]:
            section, passes = i, 1  # the endings are over: a new section begins
        order.append(i)
        if ends[i]:
            later = [n for b in brackets[section : _after_endings(brackets, i)] for n in b]
            if passes < max(later or [2]):
                passes, i = passes + 1, section
                continue
            section, passes = i + 1, 1
        i += 1
    return order


def _after_endings(brackets: list[frozenset[int]], i: int) -> int:
    j = i + 1
    while j < len(brackets) and brackets[j]:
        j += 1
    return j


def played_elements(part: Any) -> Iterator[tuple[Fraction, Any]]:
    """(offset in quarters, note/rest/chord) in playing order, repeats expanded."""
    measures, brackets, starts, ends = _bar_info(part)
    offsets = [Fraction(m.offset).limit_denominator(10_000) for m in measures]
    cursor = Fraction(0)
    for index in _play_order(brackets, starts, ends):
        measure = measures[index]
        if index + 1 < len(measures):
            length = offsets[index + 1] - offsets[index]
        else:
            length = Fraction(measure.highestTime).limit_denominator(10_000)
        for el in measure.flatten().notesAndRests:
            yield cursor + Fraction(el.offset).limit_denominator(10_000), el
        cursor += length


def drop_repeat_marks(score: Any) -> None:
    """Remove every repeat bar line and ending bracket of `score` (in place): the tune as written."""
    from music21 import bar, spanner

    for measure in score.recurse().getElementsByClass("Measure"):
        if isinstance(measure.leftBarline, bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, bar.Repeat):
            measure.rightBarline = bar.Barline("regular")
    for bracket in list(score.recurse().getElementsByClass(spanner.RepeatBracket)):
        site = bracket.activeSite
        if site is not None:
            site.remove(bracket)
