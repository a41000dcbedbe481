"""Quantisation chooses the straight or the triplet grid beat by beat; swing becomes straight."""

from __future__ import annotations

import random
from fractions import Fraction

from musicgen.io.quantize import quantize_times


def _times(onsets: list[float]) -> list[tuple[Fraction, Fraction]]:
    points = [Fraction(x).limit_denominator(1000) for x in onsets]
    return [(a, b) for a, b in zip(points, points[1:] + [points[-1] + 1])]


def test_late_eighths_stay_straight() -> None:
    rng = random.Random(3)
    onsets = [i / 2 + rng.uniform(-0.05, 0.05) for i in range(32)]
    placed, report = quantize_times(_times([max(0.0, x) for x in onsets]))
    assert [on for on, _ in placed] == [6 * i for i in range(32)]
    assert report.triplet_beats == 0 and not report.swing


def test_swung_eighths_become_straight_with_a_report() -> None:
    onsets = [beat + part for beat in range(16) for part in (0, 0.66)]
    placed, report = quantize_times(_times(onsets))
    assert [on for on, _ in placed] == [6 * i for i in range(32)]
    assert report.swing and "swung" in " ".join(report.sentences())


def test_real_triplets_stay_triplets() -> None:
    onsets = [0, 1 / 3, 2 / 3, 1, 1.5, 2, 2 + 1 / 3 + 0.02, 2 + 2 / 3, 3]
    placed, report = quantize_times(_times(onsets))
    assert [on for on, _ in placed] == [0, 4, 8, 12, 18, 24, 28, 32, 36]
    assert report.triplet_beats == 2


def test_exact_grid_is_kept() -> None:
    placed, report = quantize_times([(Fraction(0), Fraction(5, 12)), (Fraction(5, 12), Fraction(1))])
    assert placed == [(0, 5), (5, 12)] and report.moved_edges == 0


def test_loose_fast_eighths_stay_eighths_not_tick_fragments() -> None:
    """A jig at 165 quarters a minute played 40 ms late or early: onsets off by more than the
    tolerance. They stay eighths (the tick grid fitted such noise by chance: 5- and 7-tick notes)."""
    rng = random.Random(14)
    onsets = [max(0.0, i / 2 + rng.choice([-1, 1]) * rng.uniform(0.075, 0.11)) for i in range(48)]
    ends = [on + 0.45 for on in onsets]
    times = [(Fraction(on).limit_denominator(1000), Fraction(end).limit_denominator(1000))
             for on, end in zip(onsets, ends)]
    placed, _report = quantize_times(times)
    assert [on for on, _ in placed] == [6 * i for i in range(48)]
    assert all(end - on == 6 for on, end in placed[:-1])


def test_a_note_held_into_the_next_is_cut_there() -> None:
    """Legato overlap: the line plays one note at a time, so a note ends where the next begins."""
    times = [(Fraction(0), Fraction(7, 10)), (Fraction(1, 2), Fraction(1)), (Fraction(1), Fraction(2))]
    placed, _report = quantize_times(times)
    assert placed == [(0, 6), (6, 12), (12, 24)]
