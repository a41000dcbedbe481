"""The copy check that catches variants, on hand-made tunes: transposed, re-timed, varied, unrelated."""

from __future__ import annotations

import math
import random

from musicgen.evaluate.copies import RunIndex, VariantIndex, copy_figures
from musicgen.melody import Key, Melody, Meter, Note

PHRASE = [62, 64, 66, 67, 69, 71, 69, 67, 66, 64, 62, 64, 66, 69, 74, 73, 71, 69, 67, 66, 64, 62, 61, 62]


def eighths(pitches: list[int], ticks: int = 6, meter: Meter = Meter(6, 8)) -> Melody:
    return Melody.from_pitches(pitches, ticks, meter=meter, key=Key(2, "major"))


def training_tune() -> Melody:
    return eighths(PHRASE * 2)  # 48 eighths: 8 bars of 6/8


def retimed(melody: Melody, factor: int) -> Melody:
    notes, t = [], 0
    for n in melody.notes:
        notes.append(Note(n.pitch, t, n.duration_ticks * factor))
        t += n.duration_ticks * factor
    return melody.replace(notes=tuple(notes))


def unrelated(seed: int) -> Melody:
    rng = random.Random(seed)
    return eighths([rng.choice([60, 62, 64, 65, 67, 69, 71, 72]) for _ in range(48)])


def index() -> VariantIndex:
    return VariantIndex([unrelated(1), training_tune(), unrelated(2)])


def test_a_transposed_copy_is_caught_in_every_view() -> None:
    copy = training_tune().transposed(-5)
    assert index().check(copy, bars=4) == (True, True, True)


def test_a_retimed_duplicate_is_caught_by_contour_and_family_but_not_by_rhythm() -> None:
    doubled = retimed(training_tune(), 2).replace(meter=Meter(6, 4))
    rhythm, contour, family = index().check(doubled, bars=4)
    assert not rhythm and contour and family
    # the run's span is in the melody's own time: twice the ticks of the original
    assert RunIndex([training_tune()], with_durations=False).longest_span(doubled) == 2 * 47 * 6


def test_a_variant_with_changed_notes_is_caught_by_family_though_runs_break() -> None:
    varied = list(PHRASE * 2)
    for i in (20, 44):  # one note changed in the fourth bar of each half: no 4-bar run survives
        varied[i] += 2
    melody = eighths(varied)
    rhythm, contour, family = index().check(melody, bars=4)
    assert not rhythm and not contour and family


def test_unrelated_tunes_and_short_runs_are_not_copies() -> None:
    assert index().check(unrelated(3), bars=4) == (False, False, False)
    two_bars = eighths(PHRASE[:12] + [60, 72, 61, 71, 62, 70, 63, 69, 64, 68, 65, 67] * 3)
    assert not any(index().check(two_bars, bars=4)[:2])


def test_runs_never_cross_from_one_training_tune_into_the_next() -> None:
    first, second = eighths(PHRASE[:12]), eighths(PHRASE[12:])
    runs = RunIndex([first, second], with_durations=True, min_notes=1)
    span = runs.longest_span(eighths(PHRASE))
    assert 0 < span < 23 * 6  # each half matches, the whole phrase does not


def test_copy_figures_are_shares_and_nan_without_melodies() -> None:
    figures = copy_figures([training_tune().transposed(3), unrelated(4)], index())
    assert figures.melodies == 2
    assert (figures.rhythm_run, figures.contour_run, figures.family, figures.any) == (0.5, 0.5, 0.5, 0.5)
    assert math.isnan(copy_figures([], index()).any)
