"""Plain records the readers hand back: tune and track listings, and the report of reductions."""

from __future__ import annotations

from dataclasses import dataclass, field

from musicgen.melody import Melody

__all__ = ["TuneInfo", "TrackInfo", "ReadReport", "ReportBuilder", "TuneResult"]


@dataclass(frozen=True, slots=True)
class TuneInfo:
    """One tune of a file: 1-based position (what `tune=` takes), title and ABC X: number."""

    index: int
    title: str
    number: int | None = None


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """One line of a MIDI file (a track and channel with notes); `index` is what `track=` takes."""

    index: int
    name: str
    channel: int
    note_count: int
    is_drum: bool
    midi_track: int = 0


@dataclass(frozen=True, slots=True)
class ReadReport:
    """What a reader changed to fit the monophonic 12-ticks-per-quarter model, and why."""

    quantized_notes: int = 0
    max_shift_ticks: float = 0.0
    chords_reduced: int = 0
    grace_notes_dropped: int = 0
    ties_merged: int = 0
    voices_dropped: int = 0
    overlaps_cut: int = 0
    repeats_expanded: bool = False
    warnings: tuple[str, ...] = ()
    source_part: str = ""  # which track or part was read: "track 2: Flute" (say "Using track 2: Flute")
    part_names: tuple[str, ...] = ()  # every track or part to choose from, in `track=` order
    notes_folded: int = 0  # out-of-range notes moved by octaves
    chord_symbols_dropped: int = 0  # guitar chords ("Am") over the melody: the models read none


@dataclass(slots=True)
class ReportBuilder:
    """Mutable counterpart of `ReadReport` that readers fill in as they go."""

    quantized_notes: int = 0
    max_shift_ticks: float = 0.0
    chords_reduced: int = 0
    grace_notes_dropped: int = 0
    ties_merged: int = 0
    voices_dropped: int = 0
    overlaps_cut: int = 0
    repeats_expanded: bool = False
    warnings: list[str] = field(default_factory=list)
    source_part: str = ""
    part_names: list[str] = field(default_factory=list)
    notes_folded: int = 0
    chord_symbols_dropped: int = 0

    def warn(self, sentence: str) -> None:
        if sentence not in self.warnings:
            self.warnings.append(sentence)

    def note_shift(self, shift_ticks: float) -> None:
        if shift_ticks > 1e-9:
            self.quantized_notes += 1
            self.max_shift_ticks = max(self.max_shift_ticks, shift_ticks)

    def build(self) -> ReadReport:
        notable = []
        if self.quantized_notes:
            notable.append(
                f"quantisation moved {self.quantized_notes} note edges by up to "
                f"{self.max_shift_ticks:.2f} ticks (12 per quarter)"
            )
        if self.chords_reduced:
            notable.append(f"{self.chords_reduced} chords were reduced to their top note")
        if self.chord_symbols_dropped:
            count = self.chord_symbols_dropped
            notable.append(f"{count} chord symbol{'s were' if count != 1 else ' was'} dropped: "
                           "the models read melody only")
        return ReadReport(
            quantized_notes=self.quantized_notes,
            max_shift_ticks=round(self.max_shift_ticks, 4),
            chords_reduced=self.chords_reduced,
            grace_notes_dropped=self.grace_notes_dropped,
            ties_merged=self.ties_merged,
            voices_dropped=self.voices_dropped,
            overlaps_cut=self.overlaps_cut,
            repeats_expanded=self.repeats_expanded,
            warnings=tuple(notable + self.warnings),
            source_part=self.source_part,
            part_names=tuple(self.part_names),
            notes_folded=self.notes_folded,
            chord_symbols_dropped=self.chord_symbols_dropped,
        )


@dataclass(frozen=True, slots=True)
class TuneResult:
    """One tune of a tune book: its melody and report, or the reason it could not be read."""

    info: TuneInfo
    melody: Melody | None = None
    report: ReadReport | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.melody is not None
