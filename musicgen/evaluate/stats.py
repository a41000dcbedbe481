"""Musical statistics of melodies: bar arithmetic, scale membership, feature overlap, copying.

These compare sampled continuations with the real continuations of the same seeds (issue 6's
musical targets) and take plain `Melody` lists (or token ids for the bar check), so they are testable
without a model:

- `bar_exact_share`: share of bars, as the model wrote them (between ``|`` tokens), whose durations
  add up to exactly the meter's bar length. Measured on ids because decoding re-derives bar lines
  from the meter and would hide a bar of the wrong length.
- `in_scale_share`: share of pitched notes whose pitch class is in the melody's key.
- `feature_overlaps`: the overlapped area (Yang & Lerch 2020, "On the evaluation of generative
  models in music") of the pitch-class (relative to the tonic), note-length and interval
  distributions (pooled histograms: OA = sum of min(p, q)) and of the per-melody pitch range
  (Gaussian kernel density estimates, integrated numerically). 1 = identical, 0 = disjoint.
- `CopyIndex`: the longest run of consecutive notes a melody shares with any tune of a reference
  set (training tunes), transposition-invariant (notes as interval from the previous pitch plus
  duration), in notes and in ticks; `copy_share` is the share of melodies copying >= N bars.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from musicgen.melody import Melody, Meter
from musicgen.tokens import BAR, DUR, VOCAB, Vocabulary

__all__ = [
    "bar_lengths",
    "bar_exact_share",
    "in_scale_share",
    "pitch_class_counts",
    "note_length_counts",
    "interval_counts",
    "pitch_ranges",
    "overlapped_area",
    "kde_overlapped_area",
    "feature_overlaps",
    "CopyIndex",
    "copy_share",
]


# --- bars and keys -------------------------------------------------------------------------------
def bar_lengths(ids: Sequence[int], vocab: Vocabulary = VOCAB) -> list[int]:
    """Ticks in each bar closed by a ``|`` token (the part after the last ``|`` is not a bar)."""
    lengths, current = [], 0
    for token_id in ids:
        kind = vocab.kinds[token_id]
        if kind == DUR:
            current += vocab.duration_of(token_id) or 0
        elif kind == BAR:
            lengths.append(current)
            current = 0
    return lengths


def bar_exact_share(
    sequences: Sequence[Sequence[int]],
    meters: Sequence[Meter],
    *,
    start_positions: Sequence[int] | None = None,
    vocab: Vocabulary = VOCAB,
) -> float:
    """Share of closed bars with exactly the meter's length, pooled over the sequences.

    `start_positions[i]` is where sequence i starts inside its first bar (0: on a bar line), so its
    first bar should hold ``bar_ticks - start``. NaN when no sequence closes a bar.
    """
    exact = total = 0
    for i, (ids, meter) in enumerate(zip(sequences, meters, strict=True)):
        start = start_positions[i] if start_positions is not None else 0
        for b, length in enumerate(bar_lengths(ids, vocab)):
            expected = meter.bar_ticks - (start if b == 0 else 0)
            exact += int(length == expected)
            total += 1
    return exact / total if total else math.nan


def in_scale_share(melodies: Iterable[Melody]) -> float:
    """Share of pitched notes in their melody's key (scale of tonic + mode); NaN with no notes."""
    inside = total = 0
    for melody in melodies:
        for note in melody.pitched_notes:
            inside += int(melody.key.contains(note.pitch))  # type: ignore[arg-type]
            total += 1
    return inside / total if total else math.nan


# --- feature distributions -----------------------------------------------------------------------
def pitch_class_counts(melodies: Iterable[Melody]) -> Counter[int]:
    """Pitch classes relative to each melody's tonic (0 = tonic), pooled."""
    return Counter((n.pitch - m.key.tonic_pc) % 12 for m in melodies for n in m.pitched_notes)  # type: ignore[operator]


def note_length_counts(melodies: Iterable[Melody]) -> Counter[int]:
    """Durations in ticks of the pitched notes, pooled."""
    return Counter(n.duration_ticks for m in melodies for n in m.pitched_notes)


def interval_counts(melodies: Iterable[Melody]) -> Counter[int]:
    """Semitone steps between successive pitched notes (rests skipped), pooled."""
    counts: Counter[int] = Counter()
    for melody in melodies:
        pitches = [n.pitch for n in melody.pitched_notes]
        counts.update(b - a for a, b in zip(pitches, pitches[1:]))  # type: ignore[operator]
    return counts


def pitch_ranges(melodies: Iterable[Melody]) -> list[int]:
    """Highest minus lowest pitch of each melody that has a pitched note."""
    return [hi - lo for m in melodies if (r := m.pitch_range) is not None for lo, hi in [r]]


def overlapped_area(a: Counter[int] | dict, b: Counter[int] | dict) -> float:
    """Overlap of two discrete distributions given as counts: sum of min(p, q); NaN if one is empty."""
    total_a, total_b = sum(a.values()), sum(b.values())
    if total_a <= 0 or total_b <= 0:
        return math.nan
    return float(sum(min(a.get(k, 0) / total_a, b.get(k, 0) / total_b) for k in set(a) | set(b)))


def _bandwidth(values: np.ndarray, minimum: float) -> float:
    """Silverman's rule of thumb, floored so identical values still give a proper density."""
    if values.size < 2:
        return minimum
    spread = min(values.std(ddof=1), (np.percentile(values, 75) - np.percentile(values, 25)) / 1.34)
    if spread <= 0:
        spread = values.std(ddof=1)
    return max(0.9 * spread * values.size ** -0.2, minimum)


def kde_overlapped_area(
    a: Sequence[float], b: Sequence[float], *, min_bandwidth: float = 0.5, grid_points: int = 2048
) -> float:
    """Overlapped area of the Gaussian KDEs of two samples (Yang & Lerch's OA); NaN if one is empty."""
    xa, xb = np.asarray(a, float), np.asarray(b, float)
    if xa.size == 0 or xb.size == 0:
        return math.nan
    ha, hb = _bandwidth(xa, min_bandwidth), _bandwidth(xb, min_bandwidth)
    low = min(xa.min() - 6 * ha, xb.min() - 6 * hb)
    high = max(xa.max() + 6 * ha, xb.max() + 6 * hb)
    grid = np.linspace(low, high, grid_points)

    def density(x: np.ndarray, h: float) -> np.ndarray:
        z = (grid[:, None] - x[None, :]) / h  # (G, N)
        return np.exp(-0.5 * z * z).sum(axis=1) / (x.size * h * math.sqrt(2 * math.pi))

    overlap = np.minimum(density(xa, ha), density(xb, hb))
    return float(min(np.trapezoid(overlap, grid), 1.0))


def feature_overlaps(generated: Sequence[Melody], real: Sequence[Melody]) -> dict[str, float]:
    """OA of pitch-class, note-length, interval and pitch-range distributions, generated vs real."""
    return {
        "pitch_class": overlapped_area(pitch_class_counts(generated), pitch_class_counts(real)),
        "note_length": overlapped_area(note_length_counts(generated), note_length_counts(real)),
        "interval": overlapped_area(interval_counts(generated), interval_counts(real)),
        "pitch_range": kde_overlapped_area(pitch_ranges(generated), pitch_ranges(real)),
    }


# --- copying -------------------------------------------------------------------------------------
def _symbols(melody: Melody) -> tuple[list[tuple], list[int]]:
    """Transposition-invariant note symbols and their durations; the first pitched note has none.

    A pitched note is (interval from the previous pitched note, duration); a rest is (None, duration).
    """
    symbols, durations, last = [], [], None
    for note in melody.notes:
        if note.pitch is None:
            symbols.append((None, note.duration_ticks))
        elif last is None:
            last = note.pitch
            continue
        else:
            symbols.append((note.pitch - last, note.duration_ticks))
            last = note.pitch
        durations.append(note.duration_ticks)
    return symbols, durations


class CopyIndex:
    """The reference tunes (training set) indexed for longest-shared-run queries."""

    def __init__(self, melodies: Iterable[Melody]) -> None:
        self._codes: dict[tuple, int] = {}
        stream: list[int] = []
        for melody in melodies:
            symbols, _ = _symbols(melody)
            stream.extend(self._codes.setdefault(s, len(self._codes)) for s in symbols)
            stream.append(-2)  # tune separator: runs never cross it
        codes = np.asarray(stream, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        bounds = np.searchsorted(sorted_codes, np.arange(len(self._codes) + 1))
        self._positions = [order[bounds[c]:bounds[c + 1]] for c in range(len(self._codes))]

    def longest_run(self, melody: Melody) -> tuple[int, int]:
        """(notes, ticks) of the longest run of `melody` found in any reference tune.

        Notes count the anchor note whose pitch the first matched interval starts from; ticks sum
        the matched notes' durations (the anchor's duration is not compared).
        """
        symbols, durations = _symbols(melody)
        cum = np.concatenate(([0], np.cumsum(durations)))
        prev_pos = np.zeros(0, np.int64)
        prev_len = np.zeros(0, np.int64)
        best_notes = best_ticks = 0
        empty = np.zeros(0, np.int64)
        for j, symbol in enumerate(symbols):
            code = self._codes.get(symbol)
            positions = self._positions[code] if code is not None else empty
            if positions.size and prev_pos.size:
                idx = np.minimum(np.searchsorted(prev_pos, positions - 1), prev_pos.size - 1)
                hit = prev_pos[idx] == positions - 1
                lengths = np.where(hit, prev_len[idx] + 1, 1)
            else:
                lengths = np.ones(positions.size, np.int64)
            if lengths.size:
                run = int(lengths.max())
                best_notes = max(best_notes, run + 1)
                best_ticks = max(best_ticks, int(cum[j + 1] - cum[j + 1 - run]))
            prev_pos, prev_len = positions, lengths
        return best_notes, best_ticks


def copy_share(melodies: Sequence[Melody], index: CopyIndex, *, bars: int = 4) -> float:
    """Share of melodies sharing a run of at least `bars` bars (by duration) with a reference tune."""
    if not melodies:
        return math.nan
    copies = sum(
        1 for m in melodies if index.longest_run(m)[1] >= bars * m.meter.bar_ticks
    )
    return copies / len(melodies)
