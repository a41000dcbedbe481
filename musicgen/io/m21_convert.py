"""music21 streams to `Melody` (shared by the ABC and MusicXML readers).

Imported only when a file is read: music21 takes a moment to load.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable

from musicgen.errors import SeedError
from musicgen.melody import TICKS_PER_QUARTER, Key, Melody, Meter, Note
from musicgen.io.safety import MAX_METER_NUMERATOR, MAX_NOTES, reader_tempo
from musicgen.io.types import ReportBuilder

__all__ = ["score_to_melody", "m21_key_to_key", "quantize_quarters"]

_MODE_ALIASES = {"ionian": "major", "aeolian": "minor"}
MAX_KEY_SHARPS = 14  # double sharps everywhere: beyond it a key signature is damaged data


def _grid_ticks(quarters: Any) -> int | None:
    """Ticks of a length that lies on the 12-per-quarter grid (a float within 1e-9 of a tick, or a
    fraction whose denominator divides 12), else None. Almost every written length does, and
    Fraction arithmetic with limit_denominator was a third of a corpus tune's conversion time."""
    kind = type(quarters)
    if kind is float or kind is int:
        grid = quarters * TICKS_PER_QUARTER
        ticks = round(grid)
        return int(ticks) if abs(grid - ticks) < 1e-9 else None
    if kind is Fraction and TICKS_PER_QUARTER % quarters.denominator == 0:
        return quarters.numerator * (TICKS_PER_QUARTER // quarters.denominator)
    return None


def quantize_quarters(quarters: Any, report: ReportBuilder) -> int:
    """Quarter lengths (float or Fraction) to ticks on the 12-per-quarter grid, counting moves."""
    ticks = _grid_ticks(quarters)
    if ticks is not None:
        return ticks
    exact = Fraction(quarters).limit_denominator(10_000) * TICKS_PER_QUARTER
    ticks = round(exact)
    report.note_shift(float(abs(exact - ticks)))
    return int(ticks)


def m21_key_to_key(obj: Any) -> Key:
    """A music21 Key or KeySignature to our Key (a bare signature is read as major)."""
    from music21 import key as m21key

    if not isinstance(obj, m21key.Key):
        obj = obj.asKey("major")
    mode = _MODE_ALIASES.get(str(obj.mode).lower(), str(obj.mode).lower())
    try:
        return Key(obj.tonic.pitchClass, mode)
    except ValueError:
        return Key(obj.tonic.pitchClass, "major")


def score_to_melody(
    score: Any, *, name: str, track: int | None, title: str, report: ReportBuilder
) -> Melody:
    """The chosen part of a parsed score as a Melody: repeats expanded, ties merged, top notes."""
    part = _choose_part(score, name=name, track=track, report=report)
    meter = _opening_meter(part, name, report)
    pickup = _pickup_ticks(part, meter, report)
    notes = _collect_notes(_timeline(part, report), name, report)
    key = _opening_key(part, notes)
    tempo = reader_tempo(_opening_tempo(part), report)
    meta_title = ""
    if getattr(score, "metadata", None) is not None:
        meta_title = score.metadata.title or score.metadata.movementName or ""
    melody = Melody.from_notes(
        notes, meter=meter, key=key, tempo_bpm=tempo, title=meta_title or title,
        pickup_ticks=pickup % meter.bar_ticks,
    )
    if melody.note_count == 0:
        raise SeedError(f"Cannot read {name}: it has no pitched notes.")
    return melody


def _choose_part(score: Any, *, name: str, track: int | None, report: ReportBuilder) -> Any:
    """The part (or staff: a two-staff piano or accordion part counts as two) that `track` names;
    the first, the top staff of the first part, by default."""
    parts = list(getattr(score, "parts", None) or [score])
    parts = [p for p in parts if p.recurse().notes] or parts[:1]  # music21 may add empty voices
    report.part_names = [_part_name(p, i) for i, p in enumerate(parts, start=1)]
    if track is None:
        if len(parts) > 1:
            report.voices_dropped += len(parts) - 1
            report.warn(f"it has {len(parts)} parts or staves; the first ({report.part_names[0]}) "
                        "was read (choose another with track)")
        track = 1
    if not 1 <= track <= len(parts):
        raise SeedError(
            f"Cannot read {name}: there is no part {track}; it has {len(parts)} "
            f"part{'s' if len(parts) != 1 else ''} (numbered from 1)."
        )
    report.source_part = f"part {track}: {report.part_names[track - 1]}"
    return parts[track - 1]


def _part_name(part: Any, index: int) -> str:
    """A part's name as a musician sees it; the staves of one part say which staff they are."""
    from music21 import stream

    label = str(getattr(part, "partName", None) or "").strip() or f"Part {index}"
    if isinstance(part, stream.PartStaff):
        staves = [s for s in part.getSpannerSites() if "StaffGroup" in s.classes]
        members = staves[0].getSpannedElements() if staves else []
        if part in members:
            position = members.index(part)
            label += ", top staff" if position == 0 else f", staff {position + 1}"
    return label


def _opening_meter(part: Any, name: str, report: ReportBuilder) -> Meter:
    from music21 import meter as m21meter

    signatures = list(part.recurse().getElementsByClass(m21meter.TimeSignature))
    if not signatures:
        return Meter(4, 4)
    if _real_meter_changes(part, signatures):
        report.warn("the meter changes inside the tune; the opening meter is kept")
    first = signatures[0]
    try:
        if int(first.numerator) > MAX_METER_NUMERATOR:
            raise ValueError("too many beats in a bar")
        return Meter(int(first.numerator), int(first.denominator))
    except (ValueError, TypeError, ZeroDivisionError):
        report.warn(f"meter {first.ratioString} is not supported; 4/4 is assumed")
        return Meter(4, 4)


def _real_meter_changes(part: Any, signatures: list[Any]) -> bool:
    """True when the meter really changes: music21 marks a mid-tune pickup bar with a one-bar
    signature (e.g. 1/16) that the next bar undoes; those are not changes."""
    first = signatures[0].ratioString
    numbers = {}
    for ts in signatures:
        measure = ts.getContextByClass("Measure")
        numbers[measure.number if measure is not None else -1] = ts.ratioString
    for number, ratio in numbers.items():
        if ratio != first and numbers.get(number + 1) is None:
            return True
    return False


def _pickup_ticks(part: Any, meter: Meter, report: ReportBuilder) -> int:
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return 0
    first = measures[0]
    padding = Fraction(first.paddingLeft or 0).limit_denominator(10_000)
    if padding > 0:
        return quantize_quarters(Fraction(meter.bar_ticks, TICKS_PER_QUARTER) - padding, report)
    if first.number == 0 and len(measures) > 1:
        return quantize_quarters(measures[1].offset - first.offset, report)
    return 0


def _timeline(part: Any, report: ReportBuilder) -> Iterable[tuple[Any, Any]]:
    """(offset, element) pairs in playing order: repeats expanded (see `repeats`)."""
    from musicgen.io.repeats import has_repeats, played_elements

    if part.getElementsByClass("Measure") and has_repeats(part):
        report.repeats_expanded = True
        return played_elements(part)
    return ((el.offset, el) for el in part.flatten().notesAndRests)


def _collect_notes(timeline: Iterable[tuple[Any, Any]], name: str, report: ReportBuilder) -> list[Note]:
    from music21 import chord, harmony, note

    out: list[Note] = []
    symbols: set[int] = set()  # each written chord symbol once, however often repeats play it
    for count, (offset, el) in enumerate(timeline):
        if count > MAX_NOTES:
            raise SeedError(f"Cannot read {name}: it has more than {MAX_NOTES} notes.")
        if isinstance(el, harmony.ChordSymbol):
            symbols.add(id(el))
            report.chord_symbols_dropped = len(symbols)
            continue
        if el.duration.isGrace or el.quarterLength == 0:
            report.grace_notes_dropped += 1
            continue
        onset, length = _grid_ticks(offset), _grid_ticks(el.quarterLength)
        if onset is not None and length is not None:
            end = onset + length
        else:
            onset = quantize_quarters(offset, report)
            end = quantize_quarters(Fraction(offset) + Fraction(el.quarterLength), report)
        if isinstance(el, note.Rest):
            out.append(Note(None, onset, end - onset))
            continue
        if isinstance(el, chord.Chord):
            pitches = [p.midi for p in el.pitches]
            if not pitches:
                continue
            if len(pitches) > 1:
                report.chords_reduced += 1
            pitch = max(pitches)
        elif isinstance(el, note.Note):
            pitch = el.pitch.midi
        else:  # unpitched percussion
            continue
        if not 0 <= pitch <= 127:
            continue
        tie = el.tie.type if el.tie is not None else None
        prev = out[-1] if out else None
        if tie in ("stop", "continue") and prev is not None and prev.pitch == pitch \
                and prev.end_ticks == onset:
            out[-1] = Note(pitch, prev.onset_ticks, end - prev.onset_ticks)
            report.ties_merged += 1
            continue
        out.append(Note(pitch, onset, end - onset))
    return out


def _opening_key(part: Any, notes: list[Note]) -> Key:
    from music21 import key as m21key

    for obj in part.recurse().getElementsByClass(m21key.KeySignature):
        # A damaged <fifths>4294967296</fifths>: music21 walks the circle of fifths once per
        # sharp to name the tonic (hours); no real key has more than 7, so estimate instead.
        if isinstance(obj.sharps, int) and abs(obj.sharps) <= MAX_KEY_SHARPS:
            return m21_key_to_key(obj)
        break
    from musicgen.io.keyfind import estimate_key  # music21's key analysis, without its streams

    return estimate_key((n.pitch, n.duration_ticks) for n in notes if n.pitch is not None)


def _opening_tempo(part: Any) -> float | None:
    """The first tempo mark's quarter notes per minute (checked by `reader_tempo`), or None."""
    from music21 import tempo

    for mark in part.recurse().getElementsByClass(tempo.MetronomeMark):
        try:
            bpm = mark.getQuarterBPM()
        except Exception:  # a text-only tempo mark has no number
            bpm = None
        if bpm is not None:
            return bpm
    return None
