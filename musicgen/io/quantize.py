"""Quantisation that finds the grid the music means: straight or triplet, beat by beat.

Played MIDI has onsets anywhere; the melody model has 12 ticks per quarter, which holds both
sixteenths (3 ticks) and triplet eighths (4 ticks). Rounding each onset to the nearest tick turns a
late eighth or a swung pair into triplet fragments nobody wrote. So each beat (a quarter) chooses
the simplest grid that explains its onsets within a tolerance, in this order:

1. the beat itself, then eighths (1/2);
2. sixteenths (1/4) or triplet eighths (1/3), whichever fits better, triplets only when they fit
   clearly better (less than half the straight grid's error): the straight grid is the simpler;
3. sixteenth triplets (1/6) for a beat of four or more onsets within half the tolerance; when
   nothing fits (fast or loose playing), the closer of sixteenths and triplets: the finer grids
   (1/6, the tick itself) fit one or two noisy onsets by chance and spell timing noise as rhythm
   (measured: benchmarks/bench_real_files.py).

Swing: when most beats that chose triplets hold only the long-short pair (onsets on the beat and
two thirds in, nothing on the first third), the file is swung: those pairs are read as straight
eighths and the report says so. Real triplets (three onsets in a beat) stay triplets.

Note ends snap to the grid of their own beat (sixteenths at the coarsest), and a small gap before the next onset (articulation,
not a rest) is closed.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from math import floor

from musicgen.melody import TICKS_PER_QUARTER

__all__ = ["GridReport", "quantize_times", "TOLERANCE_QUARTERS"]

TOLERANCE_QUARTERS = 0.07  # the largest onset error a grid may leave (about a 1/57 note)
_HALF, _THIRD, _QUARTER = Fraction(1, 2), Fraction(1, 3), Fraction(1, 4)
_EARLY = 0.12  # an onset this far (in quarters) before a beat belongs to that beat


@dataclass(frozen=True, slots=True)
class GridReport:
    """What the quantiser chose: beats read as triplets, swung beats straightened, edges moved."""

    triplet_beats: int = 0
    swung_beats: int = 0
    swing: bool = False
    moved_edges: int = 0
    max_shift_ticks: float = 0.0

    def sentences(self) -> list[str]:
        out = []
        if self.swing:
            out.append(f"the playing is swung: {self.swung_beats} long-short pairs were read as "
                       "straight eighths")
        if self.triplet_beats:
            out.append(f"{self.triplet_beats} beats were read as triplets")
        return out


def _beat_of(x: Fraction) -> int:
    return floor(x + Fraction(_EARLY).limit_denominator(100))


def _snap(x: Fraction, step: Fraction) -> Fraction:
    return round(x / step) * step


def _error(points: list[Fraction], step: Fraction) -> float:
    return float(sum(abs(p - _snap(p, step)) for p in points))


def _max_error(points: list[Fraction], step: Fraction) -> float:
    return max((float(abs(p - _snap(p, step))) for p in points), default=0.0)


def _choose_step(points: list[Fraction]) -> Fraction:
    """The simplest grid step (in quarters) that explains onsets `points` (offsets in the beat)."""
    for step in (Fraction(1), _HALF):
        if _max_error(points, step) <= TOLERANCE_QUARTERS:
            return step
    straight, triplet = _error(points, _QUARTER), _error(points, _THIRD)
    fits = [s for s in (_QUARTER, _THIRD) if _max_error(points, s) <= TOLERANCE_QUARTERS]
    if _THIRD in fits and (_QUARTER not in fits or triplet < 0.5 * straight):
        return _THIRD
    if _QUARTER in fits:
        return _QUARTER
    if len(points) >= 4 and _max_error(points, Fraction(1, 6)) <= TOLERANCE_QUARTERS / 2:
        return Fraction(1, 6)  # a beat of sixteenth triplets (too few onsets: chance fits)
    # Nothing fits (fast or loose playing, onsets off by more than the tolerance): the finer
    # grids would read the noise as rhythm, so the closer of sixteenths and triplets it is.
    return _THIRD if triplet < 0.5 * straight else _QUARTER


def _is_swing_pair(points: list[Fraction]) -> bool:
    snapped = {_snap(p, _THIRD) for p in points}
    return 2 * _THIRD in snapped and snapped <= {Fraction(0), 2 * _THIRD}


def quantize_times(times: list[tuple[Fraction, Fraction]]) -> tuple[list[tuple[int, int]], GridReport]:
    """(onset, end) pairs in quarters -> (onset, end) ticks on the chosen grids, and the report.

    Times already on the 12-per-quarter grid (files a program wrote) are kept as they are. A note
    whose end would not follow its onset keeps one tick."""
    if all((x * TICKS_PER_QUARTER).denominator == 1 for pair in times for x in pair):
        # written by a program on our grid (our own exports): nothing to find
        exact = [(int(on * TICKS_PER_QUARTER), int(end * TICKS_PER_QUARTER)) for on, end in times]
        return [(on, max(end, on + 1)) for on, end in exact], GridReport()
    beats: dict[int, list[Fraction]] = {}
    for onset, _ in times:
        beat = _beat_of(onset)
        beats.setdefault(beat, []).append(onset - beat)
    steps = {beat: _choose_step(points) for beat, points in beats.items()}
    triplet = [b for b, s in steps.items() if s == _THIRD]
    pairs = [b for b in triplet if _is_swing_pair(beats[b])]
    swing = len(pairs) >= 4 and len(pairs) >= 0.75 * len(triplet)
    swung = set(pairs) if swing else set()

    def place(x: Fraction, step: Fraction | None = None) -> int:
        beat = _beat_of(x)
        within = _snap(x - beat, step or steps.get(beat, _QUARTER))
        if beat in swung and within == 2 * _THIRD:
            within = _HALF
        return int((beat + within) * TICKS_PER_QUARTER)

    onsets = [place(on) for on, _ in times]
    out, moved, worst = [], 0, 0.0
    following = sorted(set(onsets))
    for (on, end), q_on in zip(times, onsets):
        q_end = place(end, min(steps.get(_beat_of(end), _QUARTER), _QUARTER))  # ends: 16ths at least
        at = bisect_right(following, q_on)
        nxt = following[at] if at < len(following) else None
        if nxt is not None and q_end < nxt and nxt - q_end <= max(3, (nxt - q_on) // 4):
            q_end = nxt  # articulation, not a rest
        elif nxt is not None and q_end > nxt:
            q_end = nxt  # held into the next note (legato): one line, one note at a time
        q_end = max(q_end, q_on + 1)
        for exact, q in ((on, q_on), (end, q_end)):
            shift = abs(float(exact * TICKS_PER_QUARTER) - q)
            if shift > 1e-9:
                moved, worst = moved + 1, max(worst, shift)
        out.append((q_on, q_end))
    report = GridReport(len(triplet) - len(swung), len(swung), swing, moved, round(worst, 4))
    return out, report
