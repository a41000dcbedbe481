"""Frozen value types for a monophonic melody on an integer tick grid.

A `Melody` is a tuple of `Note`s (a rest is a note whose pitch is None) laid end to end from tick 0,
plus its meter, key, tempo, title and pickup. Bar lines are not stored: they fall at
``pickup_ticks + k * meter.bar_ticks`` for k = 0, 1, 2, ... (pickup_ticks is 0 when the tune starts
on a full bar). 12 ticks per quarter note represent sixteenths, triplet eighths and dotted values
exactly; readers quantise everything else to this grid and report how much moved.

No torch, no music21, no mido here: the app opens and plays files before those have loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

__all__ = [
    "TICKS_PER_QUARTER",
    "MODES",
    "MODE_INTERVALS",
    "PITCH_CLASS_NAMES",
    "Note",
    "Meter",
    "Key",
    "Melody",
    "PartForm",
    "TuneForm",
    "duration_name",
    "normalize_notes",
    "pitch_to_name",
]

TICKS_PER_QUARTER = 12

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Scale steps (semitones above the tonic) of each mode a folk tune may be in.
MODE_INTERVALS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
MODES = tuple(MODE_INTERVALS)


_DURATION_NAMES = {3: "sixteenth", 4: "triplet eighth", 6: "eighth", 8: "triplet quarter",
                   9: "dotted eighth", 12: "quarter", 18: "dotted quarter", 24: "half",
                   36: "dotted half", 48: "whole"}


def duration_name(ticks: int) -> str:
    """'eighth', 'dotted quarter'... (else the length in quarters)."""
    return _DURATION_NAMES.get(ticks, f"{ticks / TICKS_PER_QUARTER:g} beats")


def pitch_to_name(pitch: int) -> str:
    """MIDI number to a name such as 'F#4' (middle C is C4)."""
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(frozen=True, slots=True)
class Note:
    """One note or rest: MIDI pitch (None for a rest), onset and duration in ticks."""

    pitch: int | None
    onset_ticks: int
    duration_ticks: int

    @property
    def is_rest(self) -> bool:
        return self.pitch is None

    @property
    def end_ticks(self) -> int:
        return self.onset_ticks + self.duration_ticks

    def shifted(self, ticks: int) -> Note:
        return replace(self, onset_ticks=self.onset_ticks + ticks)


@dataclass(frozen=True, slots=True)
class Meter:
    """A time signature such as 6/8."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if self.numerator < 1 or self.denominator not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"invalid meter {self.numerator}/{self.denominator}")

    @property
    def bar_ticks(self) -> int:
        return self.numerator * TICKS_PER_QUARTER * 4 // self.denominator

    @property
    def beat_ticks(self) -> int:
        """The felt beat: a dotted quarter in compound meters (6/8, 9/8, 12/8), else 1/denominator."""
        unit = TICKS_PER_QUARTER * 4 // self.denominator
        if self.denominator >= 8 and self.numerator % 3 == 0 and self.numerator > 3:
            return unit * 3
        return unit

    @property
    def strong_positions(self) -> tuple[int, ...]:
        """Ticks in the bar that are strong beats: the downbeat, and the middle of the bar when the
        bar holds an even number of felt beats (4/4, 2/2, 2/4, 6/8, 12/8...); 3/4 and 9/8 have one."""
        beats, rest = divmod(self.bar_ticks, self.beat_ticks)
        return (0, self.bar_ticks // 2) if rest == 0 and beats % 2 == 0 else (0,)

    @classmethod
    def parse(cls, text: str) -> Meter:
        """'6/8' -> Meter(6, 8); 'C' -> 4/4; 'C|' -> 2/2."""
        text = text.strip()
        if text == "C":
            return cls(4, 4)
        if text == "C|":
            return cls(2, 2)
        num, _, den = text.partition("/")
        try:
            return cls(int(num), int(den))
        except ValueError as exc:
            raise ValueError(f"not a meter: {text!r}") from exc

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True, slots=True)
class Key:
    """A key as tonic pitch class (0 = C) and mode ('major', 'minor', 'dorian', ...)."""

    tonic_pc: int = 0
    mode: str = "major"

    def __post_init__(self) -> None:
        if not 0 <= self.tonic_pc < 12:
            raise ValueError(f"tonic pitch class out of range: {self.tonic_pc}")
        if self.mode not in MODE_INTERVALS:
            raise ValueError(f"unknown mode {self.mode!r}; expected one of {', '.join(MODES)}")

    @property
    def scale_pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic_pc + step) % 12 for step in MODE_INTERVALS[self.mode])

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.scale_pitch_classes

    def transposed(self, semitones: int) -> Key:
        return Key((self.tonic_pc + semitones) % 12, self.mode)

    @property
    def tonic_name(self) -> str:
        return PITCH_CLASS_NAMES[self.tonic_pc]

    @classmethod
    def parse(cls, text: str) -> Key:
        """'D major', 'E minor', 'A dorian', 'F# mixolydian' -> Key."""
        parts = text.strip().split()
        if len(parts) != 2:
            raise ValueError(f"not a key: {text!r}")
        name, mode = parts[0], parts[1].lower()
        letters = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
        if not name or name[0].upper() not in letters:
            raise ValueError(f"not a key: {text!r}")
        pc = letters[name[0].upper()]
        for accidental in name[1:]:
            if accidental in "#♯":
                pc += 1
            elif accidental in "b♭-":
                pc -= 1
            else:
                raise ValueError(f"not a key: {text!r}")
        return cls(pc % 12, mode)

    def __str__(self) -> str:
        return f"{self.tonic_name} {self.mode}"


def normalize_notes(notes: Iterable[Note]) -> tuple[Note, ...]:
    """Make notes monophonic and contiguous from tick 0.

    Simultaneous onsets keep the highest pitch (skyline); a note still sounding when the next one
    starts is cut there (legato overlap); gaps become rests; adjacent rests merge; zero-length
    notes are dropped. Leading silence is kept as a rest (callers decide what a pickup is).
    """
    by_onset: dict[int, Note] = {}
    for note in notes:
        if note.duration_ticks <= 0:
            continue
        if note.is_rest:
            by_onset.setdefault(note.onset_ticks, note)
            continue
        held = by_onset.get(note.onset_ticks)
        if held is None or held.is_rest or (note.pitch or 0) > (held.pitch or 0):
            by_onset[note.onset_ticks] = note
    ordered = [by_onset[onset] for onset in sorted(by_onset)]
    out: list[Note] = []
    cursor = 0
    for i, note in enumerate(ordered):
        if note.onset_ticks < cursor:
            continue  # starts inside a rest that already covers it: drop
        nxt = ordered[i + 1].onset_ticks if i + 1 < len(ordered) else None
        end = note.end_ticks if nxt is None else min(note.end_ticks, nxt)
        if note.is_rest and nxt is None:
            end = note.end_ticks
        if note.onset_ticks > cursor:
            _append_rest(out, cursor, note.onset_ticks - cursor)
        if note.is_rest:
            _append_rest(out, note.onset_ticks, end - note.onset_ticks)
        else:
            out.append(Note(note.pitch, note.onset_ticks, end - note.onset_ticks))
        cursor = end
    return tuple(out)


def _append_rest(out: list[Note], onset: int, duration: int) -> None:
    if duration <= 0:
        return
    if out and out[-1].is_rest and out[-1].end_ticks == onset:
        prev = out.pop()
        out.append(Note(None, prev.onset_ticks, prev.duration_ticks + duration))
    else:
        out.append(Note(None, onset, duration))


@dataclass(frozen=True, slots=True)
class PartForm:
    """One repeated part of a tune as written (``|: body |1 ending :|2 ending |``), in played ticks.

    Played, the part is ``body + first ending`` then ``body + second ending`` (``body`` twice when
    it has no endings), starting at ``start``.
    """

    name: str  # "A", "B"
    start: int  # where its first pass starts in the played melody (a bar line)
    body_ticks: int  # the written body, endings excluded
    first_ending_ticks: int = 0  # 0: no endings
    second_ending_ticks: int = 0

    @property
    def played_ticks(self) -> int:
        return 2 * self.body_ticks + self.first_ending_ticks + self.second_ending_ticks

    @property
    def has_endings(self) -> bool:
        return self.first_ending_ticks > 0

    def written_spans(self) -> list[tuple[str, int, int]]:
        """("body" | "ending1" | "ending2", start, end) in played ticks: what the score shows."""
        body_end = self.start + self.body_ticks
        if not self.has_endings:
            return [("body", self.start, body_end)]
        second = self.start + self.played_ticks - self.second_ending_ticks
        return [("body", self.start, body_end),
                ("ending1", body_end, body_end + self.first_ending_ticks),
                ("ending2", second, second + self.second_ending_ticks)]


@dataclass(frozen=True, slots=True)
class TuneForm:
    """How a played melody is written: its repeated parts in order (AABB: parts A and B)."""

    parts: tuple[PartForm, ...]

    @property
    def end_ticks(self) -> int:
        return self.parts[-1].start + self.parts[-1].played_ticks if self.parts else 0


@dataclass(frozen=True)
class Melody:
    """A monophonic tune: contiguous notes and rests from tick 0, with its musical context.

    ``seed_end_ticks`` marks where a seed ends and a generated continuation begins (None for a
    melody that was read, not generated). ``form`` says how a whole tune is written (repeated parts,
    endings); the notes are always the tune as played, so a slice or a join drops the form.
    ``metadata`` holds provenance as (key, value) pairs,
    for example ('model', 'transformer-folk'), written into exported files.
    """

    notes: tuple[Note, ...]
    meter: Meter = Meter(4, 4)
    key: Key = Key(0, "major")
    tempo_bpm: float = 120.0
    title: str = ""
    pickup_ticks: int = 0
    seed_end_ticks: int | None = None
    metadata: tuple[tuple[str, str], ...] = field(default=())
    form: TuneForm | None = None

    def __post_init__(self) -> None:
        cursor = 0
        for note in self.notes:
            if note.onset_ticks != cursor or note.duration_ticks <= 0:
                raise ValueError(
                    "notes must be contiguous from tick 0 with positive durations "
                    f"(note at {note.onset_ticks}, expected {cursor}); use Melody.from_notes"
                )
            cursor = note.end_ticks
        if not 0 <= self.pickup_ticks < self.meter.bar_ticks:
            raise ValueError(f"pickup of {self.pickup_ticks} ticks does not fit a {self.meter} bar")
        if self.tempo_bpm <= 0:
            raise ValueError("tempo must be positive")
        if self.form is not None and self.form.end_ticks != self.duration_ticks:
            raise ValueError(f"the form covers {self.form.end_ticks} ticks, the notes {self.duration_ticks}")

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_notes(cls, notes: Iterable[Note], **context: object) -> Melody:
        """Build from any notes (overlapping, gapped, unsorted): see `normalize_notes`."""
        return cls(normalize_notes(notes), **context)  # type: ignore[arg-type]

    @classmethod
    def from_pitches(
        cls, pitches: Sequence[int | None], duration_ticks: int = TICKS_PER_QUARTER, **context: object
    ) -> Melody:
        """Convenience for tests and examples: equal-length notes (None is a rest)."""
        notes = [Note(p, i * duration_ticks, duration_ticks) for i, p in enumerate(pitches)]
        return cls.from_notes(notes, **context)

    # --- views --------------------------------------------------------------------------------
    @property
    def duration_ticks(self) -> int:
        return self.notes[-1].end_ticks if self.notes else 0

    @property
    def duration_seconds(self) -> float:
        return self.duration_ticks / TICKS_PER_QUARTER * 60.0 / self.tempo_bpm

    @property
    def pitched_notes(self) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if not n.is_rest)

    @property
    def note_count(self) -> int:
        """Pitched notes (rests excluded)."""
        return sum(1 for n in self.notes if not n.is_rest)

    def bar_lines(self) -> list[int]:
        """Ticks of every bar line from the first full bar up to the end of the tune."""
        bar = self.meter.bar_ticks
        start = self.pickup_ticks if self.pickup_ticks else 0
        return list(range(start, self.duration_ticks + 1, bar)) if self.notes else []

    @property
    def bar_count(self) -> int:
        """Bars, counting a pickup and a final partial bar as one bar each."""
        total = self.duration_ticks
        if total == 0:
            return 0
        bar = self.meter.bar_ticks
        body = total - self.pickup_ticks
        full, partial = divmod(max(body, 0), bar)
        return full + (1 if partial else 0) + (1 if self.pickup_ticks else 0)

    @property
    def musician_bars(self) -> int:
        """Bars as a musician counts them: the pickup is not a bar, a final partial bar is one."""
        body = max(0, self.duration_ticks - self.pickup_ticks)
        return -(-body // self.meter.bar_ticks)

    def bar_index(self, tick: int) -> int:
        """Which bar a tick falls in (the pickup is bar 0 when there is one; else bar 0 is the first)."""
        bar = self.meter.bar_ticks
        if self.pickup_ticks and tick < self.pickup_ticks:
            return 0
        return (tick - self.pickup_ticks) // bar + (1 if self.pickup_ticks else 0)

    @property
    def pitch_range(self) -> tuple[int, int] | None:
        pitches = [n.pitch for n in self.notes if n.pitch is not None]
        return (min(pitches), max(pitches)) if pitches else None

    @property
    def seed(self) -> Melody:
        """The seed part (the whole melody when no boundary is set)."""
        if self.seed_end_ticks is None:
            return self
        return self.slice_ticks(0, self.seed_end_ticks)

    @property
    def continuation(self) -> Melody:
        """The generated part after the seed boundary, re-based to tick 0 (empty if none)."""
        if self.seed_end_ticks is None:
            return replace(self, notes=(), form=None)
        return self.slice_ticks(self.seed_end_ticks, self.duration_ticks)

    # --- transformations ----------------------------------------------------------------------
    def transposed(self, semitones: int) -> Melody:
        notes = tuple(
            n if n.is_rest else Note(n.pitch + semitones, n.onset_ticks, n.duration_ticks)  # type: ignore[operator]
            for n in self.notes
        )
        if any(n.pitch is not None and not 0 <= n.pitch <= 127 for n in notes):
            raise ValueError(f"transposing by {semitones} semitones leaves the MIDI range")
        return replace(self, notes=notes, key=self.key.transposed(semitones))

    def concatenated(self, other: Melody) -> Melody:
        """This melody followed by `other` (other's notes shifted; this melody's context kept)."""
        offset = self.duration_ticks
        return replace(self, notes=self.notes + tuple(n.shifted(offset) for n in other.notes), form=None)

    def slice_ticks(self, start: int, end: int) -> Melody:
        """Notes between two ticks, cut at the edges, re-based to start at tick 0.

        The pickup is recomputed so bar lines stay where they were.
        """
        cut: list[Note] = []
        for n in self.notes:
            s, e = max(n.onset_ticks, start), min(n.end_ticks, end)
            if s < e:
                cut.append(Note(n.pitch, s - start, e - s))
        bar = self.meter.bar_ticks
        pickup = (self.pickup_ticks - start) % bar
        boundary = None
        if self.seed_end_ticks is not None and start < self.seed_end_ticks < end:
            boundary = self.seed_end_ticks - start
        return replace(self, notes=tuple(cut), pickup_ticks=pickup, seed_end_ticks=boundary, form=None)

    def first_bars(self, bars: int) -> Melody:
        """The first `bars` bars (the pickup counts as one bar when present)."""
        if bars <= 0:
            return replace(self, notes=(), form=None)
        bar = self.meter.bar_ticks
        end = (self.pickup_ticks + (bars - 1) * bar) if self.pickup_ticks else bars * bar
        return self.slice_ticks(0, min(end, self.duration_ticks))

    def with_metadata(self, **items: object) -> Melody:
        merged = dict(self.metadata)
        merged.update({k: str(v) for k, v in items.items()})
        return replace(self, metadata=tuple(merged.items()))

    def replace(self, **changes: object) -> Melody:
        return replace(self, **changes)  # type: ignore[arg-type]
