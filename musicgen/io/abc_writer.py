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

import bisect
import re
from fractions import Fraction

from musicgen.melody import TICKS_PER_QUARTER, Melody, Meter, Note
from musicgen.io.abc_fields import FIELD_OF
from musicgen.io.keysig import key_sharps, signature_alters, spell, tonic_name
from musicgen.io.tempo import beat_fraction, quarter_to_beat_bpm

__all__ = ["melody_to_abc", "UNIT_TICKS", "CONTINUATION_MARK", "beam_group_ticks"]

CONTINUATION_MARK = '"^continuation"'  # an annotation over the continuation's first note

UNIT_TICKS = TICKS_PER_QUARTER // 2  # L:1/8
_MODE_SUFFIX = {"major": "", "minor": "m", "dorian": "dor", "mixolydian": "mix",
                "phrygian": "phr", "lydian": "lyd", "locrian": "loc"}
_ACCIDENTAL = {-1: "_", 0: "=", 1: "^"}
_BARS_PER_LINE = 4  # a phrase a line, as tune books print reels and jigs
_MIN_LINE_WEIGHT = 18  # sparser lines are widened (8, then 16 bars): abcm2ps finds them underfull
_MAX_LINE_WEIGHT = 44  # denser ones are narrowed (2 bars, 1): abcm2ps finds them overfull
_NOTE_LETTER = re.compile(r"[A-Ga-gz]")
_QUOTED = re.compile(r'"[^"]*"')


def melody_to_abc(melody: Melody, number: int = 1) -> str:
    """The ABC text of one tune."""
    lines = [f"X:{number}", f"T:{_one_line(melody.title) or 'Untitled'}"]
    lines += [f"{FIELD_OF[k]}:{_one_line(v)}" for k, v in melody.metadata if k in FIELD_OF]
    lines += [f"% musicgen {_one_line(k)}: {_one_line(v)}" for k, v in melody.metadata
              if k not in FIELD_OF]
    beat = beat_fraction(melody.meter)
    tempo = round(quarter_to_beat_bpm(melody.tempo_bpm, melody.meter))
    lines += [f"M:{melody.meter}", "L:1/8", f"Q:{beat.numerator}/{beat.denominator}={tempo}",
              f"K:{tonic_name(melody.key)}{_MODE_SUFFIX[melody.key.mode]}"]
    opening, bars = _written_bars(melody)
    # a pickup joins the first line without counting as one of its bars, as tune books print it
    skip = 1 if melody.pickup_ticks and len(bars) > 1 else 0
    starts = [0] + [i + skip for i in _line_breaks([bar for bar, _line in bars[skip:]])[1:]]
    for start, end in zip(starts, starts[1:] + [len(bars)]):
        chunk = bars[start:end]
        text = " ".join(f"{bar} {line}" for bar, line in chunk)
        lines.append(f"{opening} {text}" if start == 0 and opening else text)
    return "\n".join(lines) + "\n"


def _line_breaks(bars: list[str]) -> list[int]:
    """Where lines start (bar indices). Four bars a line, as tune books print reels and jigs; 8 or
    16 when four bars of long notes leave a line too empty for abcm2ps to fill the staff, 2 or 1
    when four bars of sixteenths or accidentals would crowd it; every full line as long. A tune
    no even layout suits (notes of wildly mixed density) is packed line by line instead."""
    weights = [_line_weight(bar) for bar in bars]

    def fits(per_line: int) -> bool:
        lines = [sum(weights[i:i + per_line]) for i in range(0, len(weights), per_line)]
        full = lines[:-1] if len(weights) % per_line else lines
        return max(lines, default=0) <= _MAX_LINE_WEIGHT \
            and min(full, default=_MIN_LINE_WEIGHT) >= _MIN_LINE_WEIGHT

    for per_line in (_BARS_PER_LINE, 2 * _BARS_PER_LINE, 4 * _BARS_PER_LINE, 2, 1):
        if fits(per_line):
            return list(range(0, len(bars), per_line))
    starts, held = [0], 0.0
    for i, weight in enumerate(weights):
        if held and (held + weight > _MAX_LINE_WEIGHT or held >= _MIN_LINE_WEIGHT + 10):
            starts.append(i)
            held = 0.0
        held += weight
    return starts


def _line_weight(bar: str) -> float:
    """About how wide a bar engraves: one for its bar line, one a note or rest, half more for an
    accidental or a tuplet sign (annotations left out)."""
    bar = _QUOTED.sub("", bar)
    return 1 + len(_NOTE_LETTER.findall(bar)) + 0.5 * sum(bar.count(c) for c in "^_=(")


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
    bars = [_bar_text(bar, melody, start) for start, bar in _split_bars(melody)]
    return [(bar, "|" if i < len(bars) - 1 else last_line) for i, bar in enumerate(bars)]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _split_bars(melody: Melody) -> list[tuple[int, list[tuple[Note, bool]]]]:
    """Notes cut at bar lines: (the bar's nominal start tick, [(piece, tied to the next piece)]).

    A pickup bar's nominal start lies before tick 0, so positions in it count from the downbeat."""
    bar_ticks = melody.meter.bar_ticks
    lines = [0] + list(range(melody.pickup_ticks or bar_ticks, melody.duration_ticks, bar_ticks))
    lines.append(melody.duration_ticks)
    starts = [line - (bar_ticks - melody.pickup_ticks if i == 0 and melody.pickup_ticks else 0)
              for i, line in enumerate(lines[:-1])]
    bars: list[list[tuple[Note, bool]]] = [[] for _ in range(len(lines) - 1)]
    compound = melody.meter.beat_ticks != TICKS_PER_QUARTER * 4 // melody.meter.denominator
    for note in melody.notes:  # only the bars the note meets (a 64-bar tune: 30 times fewer)
        onset, stop = note.onset_ticks, note.end_ticks
        for i in range(max(0, bisect.bisect_right(lines, onset) - 1), len(lines) - 1):
            if lines[i] >= stop:
                break
            start, end = max(onset, lines[i]), min(stop, lines[i + 1])
            if start < end:
                tied = not note.is_rest and end < stop
                bars[i] += _notatable_pieces(Note(note.pitch, start, end - start), tied, compound)
    return [(start, bar) for start, bar in zip(starts, bars) if bar]


# Plain lengths (ticks) a split piece takes, longest first: note values and single-dotted ones;
# in compound meters dotted beats first (``g3-g2`` in 6/8, not ``g4-g``).
_PLAIN_PIECES = (96, 72, 48, 36, 24, 18, 12, 9, 6, 3)
_COMPOUND_PIECES = (72, 36, 18, 12, 9, 6, 3)


def _is_plain_length(ticks: int) -> bool:
    """A length one engraved note shows: a note value, dotted or double-dotted (``B5`` is none:
    abcm2ps refuses it as 'too much dotted' and verovio misreads it)."""
    units = Fraction(ticks, 3)  # in sixteenths
    return ticks % 3 == 0 and units.numerator in (1, 3, 7) and ticks <= 96 \
        and (units.denominator & (units.denominator - 1)) == 0


def _notatable_pieces(piece: Note, tied: bool, compound: bool = False) -> list[tuple[Note, bool]]:
    """Split a duration ABC readers can't take in one note into tied pieces they can.

    Plain lengths (`_is_plain_length`) stay whole; other multiples of 3 ticks are split into
    note values, longest first (``B4-B``, not ``B5``). Powers of two (1, 2, 4, 8, 16 ticks) are
    triplet-group notes. Anything else (5, 7, 10, 11... ticks) becomes a plain part tied to a 1- or
    2-tick triplet piece (music21 refuses tuplet notes of 'complex' length and abc2midi refuses
    non-power-of-two length denominators).
    """
    d = piece.duration_ticks
    if _is_plain_length(d) or d in (1, 2, 4, 8, 16, 32):
        return [(piece, tied)]
    lengths = []
    plain = d - (0 if d % 3 == 0 else 1 if d % 3 == 1 else 2)
    while plain:
        step = next(p for p in (_COMPOUND_PIECES if compound else _PLAIN_PIECES) if p <= plain)
        lengths.append(step)
        plain -= step
    if d % 3:
        lengths.append(d % 3)
    out, at = [], piece.onset_ticks
    for i, length in enumerate(lengths):
        last = i == len(lengths) - 1
        out.append((Note(piece.pitch, at, length), tied if last else not piece.is_rest))
        at += length
    return out


def beam_group_ticks(meter: Meter) -> int:
    """Ticks a beamed group spans: the dotted quarter in compound meters (jigs beam in threes),
    half a 4/4 bar and all of a 2/4 or 2/2 bar's half (reels beam in fours), else the beat."""
    if meter.beat_ticks != TICKS_PER_QUARTER * 4 // meter.denominator:
        return meter.beat_ticks  # compound: 6/8, 9/8, 12/8
    if meter.denominator == 4 and meter.numerator % 2 == 0:
        return 2 * TICKS_PER_QUARTER
    if meter.denominator == 2:
        return TICKS_PER_QUARTER * 2
    return meter.beat_ticks


class _BarWriter:
    """Writes one bar: beamed groups, broken rhythm, tuplets, accidentals, the continuation mark."""

    def __init__(self, melody: Melody, bar_start: int):
        self.sharps = key_sharps(melody.key)
        self.signature = signature_alters(self.sharps)
        self.touched: set[str] = set()
        self.group = beam_group_ticks(melody.meter)
        self.bar_start = bar_start
        self.seed_end = melody.seed_end_ticks
        self.out: list[str] = []

    def note(self, piece: Note, tied: bool, stretch: Fraction = Fraction(1)) -> str:
        mark = CONTINUATION_MARK if self.seed_end is not None and piece.onset_ticks == self.seed_end \
            and self.seed_end > 0 else ""
        return mark + _note_text(piece, tied, self.sharps, self.signature, self.touched, stretch)

    def separate(self, piece: Note, previous: Note | None) -> None:
        """A space (a beam break) at a group boundary and after a note too long to beam."""
        if previous is None:
            return
        position = piece.onset_ticks - self.bar_start
        if position % self.group == 0 or previous.duration_ticks >= TICKS_PER_QUARTER \
                or piece.duration_ticks >= TICKS_PER_QUARTER:
            self.out.append(" ")


def _bar_text(bar: list[tuple[Note, bool]], melody: Melody, bar_start: int = 0) -> str:
    writer = _BarWriter(melody, bar_start)
    previous: Note | None = None
    i = 0
    while i < len(bar):
        piece, tied = bar[i]
        writer.separate(piece, previous)
        count, text = _tuplet(bar, i, writer)
        if count:
            writer.out.append(text)
            previous, i = bar[i + count - 1][0], i + count
            continue
        broken = _broken_pair(bar, i, writer)
        if broken:
            writer.out.append(broken)
            previous, i = bar[i + 1][0], i + 2
            continue
        writer.out.append(writer.note(piece, tied))
        previous, i = piece, i + 1
    return "".join(writer.out).strip()


def _broken_pair(bar: list[tuple[Note, bool]], i: int, writer: _BarWriter) -> str:
    """``A>B`` or ``A<B`` for a dotted-eighth/sixteenth pair on an eighth-pair boundary."""
    if i + 1 >= len(bar):
        return ""
    (a, a_tied), (b, b_tied) = bar[i], bar[i + 1]
    pair = (a.duration_ticks, b.duration_ticks)
    if pair not in ((9, 3), (3, 9)) or a_tied or a.is_rest or b.is_rest \
            or (a.onset_ticks - writer.bar_start) % TICKS_PER_QUARTER:
        return ""
    half = UNIT_TICKS
    first = writer.note(Note(a.pitch, a.onset_ticks, half), False)
    second = writer.note(Note(b.pitch, b.onset_ticks, half), b_tied)
    return first + (">" if pair == (9, 3) else "<") + second


_TUPLET_SPANS = (12, 24, 6)  # three triplet eighths, quarters, sixteenths


def _tuplet(bar: list[tuple[Note, bool]], i: int, writer: _BarWriter) -> tuple[int, str]:
    """(pieces, text) of a triplet group starting at piece `i`: ``(3abc`` for three notes,
    ``(3:2:n`` for n notes filling the same time; (0, "") when piece `i` is on the plain grid."""
    if bar[i][0].duration_ticks % 3 == 0:
        return 0, ""
    position = bar[i][0].onset_ticks - writer.bar_start
    for span in _TUPLET_SPANS:
        unit, total, count = span // 3, 0, 0
        if position % min(span, TICKS_PER_QUARTER) and span != 6:
            continue
        while i + count < len(bar) and total < span and bar[i + count][0].duration_ticks % unit == 0:
            total += bar[i + count][0].duration_ticks
            count += 1
        if total == span:
            head = "(3" if count == 3 else f"(3:2:{count}"
            stretch = Fraction(3, 2)
            return count, head + "".join(writer.note(p, t, stretch) for p, t in bar[i:i + count])
    count = _triplet_run(bar, i)
    head = "(3" if count == 3 else f"(3:2:{count}"
    return count, head + "".join(writer.note(p, t, Fraction(3, 2)) for p, t in bar[i:i + count])


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
