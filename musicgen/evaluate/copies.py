"""A copy check that catches variants: does a melody reuse a training tune, transposed, re-timed or varied?

Three views, each transposition-invariant, each reported for the models' samples beside the same
figure for real held-out tunes (which share material with the training tunes too: collections hold
variants):

- ``rhythm_run``: the longest run of successive pitched notes whose (interval, duration) pairs occur,
  in the same order, in one training tune; a copy when it spans at least `bars` of the melody's bars
  and 12 intervals (so four bars of long notes are not a copy by themselves);
- ``contour_run``: the same with intervals only, so a melody at doubled (or halved) note values is
  caught; the span is measured in the melody's own time;
- ``family``: the melody is related to a training tune by `corpus.families` (shared shingles at or
  above its threshold): a variant with bars changed here and there, which breaks runs.

Runs are found exactly: each training tune becomes k-gram codes (k = 4 symbols) in one stream with a
gap between tunes; a query walks its own k-grams, extending every run that continues at the next
position (the `stats.CopyIndex` method, on k-grams so that common single intervals cost nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from musicgen.corpus.families import FamilyConfig, ShingleIndex
from musicgen.melody import Melody

__all__ = ["RunIndex", "VariantIndex", "CopyFigures", "copy_figures"]

_MULT = np.uint64(0x9E3779B97F4A7C15)
_K = 4  # symbols per k-gram: the shortest run found


def _symbols(melody: Melody, with_durations: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pitched note after the first: its symbol code, onset and end (ticks)."""
    notes = melody.pitched_notes
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    intervals = np.diff(pitches) + 128
    if with_durations:
        durations = np.array([n.duration_ticks for n in notes[1:]], dtype=np.int64)
        codes = intervals * 4096 + durations
    else:
        codes = intervals
    onsets = np.array([n.onset_ticks for n in notes[1:]], dtype=np.int64)
    ends = np.array([n.end_ticks for n in notes[1:]], dtype=np.int64)
    return codes.astype(np.uint64), onsets, ends


def _kgrams(codes: np.ndarray) -> np.ndarray:
    """The hash of the k symbols starting at each position (len - k + 1 values)."""
    size = codes.size - _K + 1
    if size <= 0:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        h = np.zeros(size, np.uint64)
        for i in range(_K):
            h = h * _MULT + codes[i:i + size] + np.uint64(1)
    return h


class RunIndex:
    """Training tunes indexed for the longest shared run (one alphabet)."""

    def __init__(self, melodies: Iterable[Melody], *, with_durations: bool, min_notes: int = 12) -> None:
        self.with_durations, self.min_notes = with_durations, min_notes
        grams, positions, cursor = [], [], 0
        for melody in melodies:
            h = _kgrams(_symbols(melody, with_durations)[0])
            grams.append(h)
            positions.append(cursor + np.arange(h.size))
            cursor += h.size + 1  # a gap: no run continues from one tune into the next
        all_grams = np.concatenate(grams) if grams else np.zeros(0, np.uint64)
        all_pos = np.concatenate(positions) if positions else np.zeros(0, np.int64)
        order = np.lexsort((all_pos, all_grams))
        self._grams, self._pos = all_grams[order], all_pos[order]

    def _positions(self, gram: np.uint64) -> np.ndarray:
        lo = np.searchsorted(self._grams, gram, "left")
        hi = np.searchsorted(self._grams, gram, "right")
        return self._pos[lo:hi]

    def longest_span(self, melody: Melody) -> int:
        """Ticks of `melody` covered by its longest run of at least `min_notes` intervals found in
        one training tune (0: none)."""
        codes, onsets, ends = _symbols(melody, self.with_durations)
        grams = _kgrams(codes)
        prev_pos, prev_len = np.zeros(0, np.int64), np.zeros(0, np.int64)
        best = 0
        for j, gram in enumerate(grams):
            positions = self._positions(gram)
            lengths = np.ones(positions.size, np.int64)
            if positions.size and prev_pos.size:
                idx = np.minimum(np.searchsorted(prev_pos, positions - 1), prev_pos.size - 1)
                hit = prev_pos[idx] == positions - 1
                lengths = np.where(hit, prev_len[idx] + 1, 1)
            run = int(lengths.max()) if lengths.size else 0  # k-grams j-run+1..j: symbols j-run+1..j+k-1
            if run and run + _K - 1 >= self.min_notes:
                best = max(best, int(ends[j + _K - 1] - onsets[j - run + 1]))
            prev_pos, prev_len = positions, lengths
        return best


class VariantIndex:
    """The three views over one set of training tunes."""

    def __init__(self, melodies: Sequence[Melody], family: FamilyConfig = FamilyConfig()) -> None:
        self.rhythm = RunIndex(melodies, with_durations=True)
        self.contour = RunIndex(melodies, with_durations=False)
        self.family = ShingleIndex(melodies, family)
        self.threshold = family.threshold

    def check(self, melody: Melody, bars: int) -> tuple[bool, bool, bool]:
        """(rhythm run >= bars, contour run >= bars, related to a training tune)."""
        need = bars * melody.meter.bar_ticks
        return (self.rhythm.longest_span(melody) >= need, self.contour.longest_span(melody) >= need,
                self.family.best_match(melody)[1] >= self.threshold)


@dataclass(frozen=True)
class CopyFigures:
    """Shares of melodies that copy, by view, and by any of them."""

    melodies: int
    rhythm_run: float
    contour_run: float
    family: float
    any: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def copy_figures(melodies: Sequence[Melody], index: VariantIndex, *, bars: int = 4) -> CopyFigures:
    """The share of `melodies` that copy a training tune in each view (NaN for no melodies)."""
    checks = [index.check(m, bars) for m in melodies if m.note_count > 1]
    if not checks:
        return CopyFigures(0, math.nan, math.nan, math.nan, math.nan)
    flags = np.array(checks, dtype=bool)
    return CopyFigures(len(checks), float(flags[:, 0].mean()), float(flags[:, 1].mean()),
                       float(flags[:, 2].mean()), float(flags.any(axis=1).mean()))
