"""Key estimate from (MIDI pitch, ticks) pairs without music21: its default key analysis redone.

music21's `Stream.analyze("key")` is the Aarden-Essen variant of Krumhansl-Schmuckler: a
pitch-class histogram weighted by quarter lengths, correlated (Pearson) with a major and a minor
profile rotated to each of the 12 tonics; the best of the 24 wins, equal correlations going to the
higher tonic pitch class, then to minor. Importing music21 costs 0.3-0.5 s, which a MIDI seed
should not pay for one estimate, so this module repeats that arithmetic in plain Python.

Plain Python, not NumPy, on purpose: the result must equal music21's bit for bit, ties included,
and music21 sums in a given order with a mix of floats and exact Fractions (a length that is not a
binary fraction of a quarter, e.g. a triplet's third, stays a Fraction until a float meets it).
NumPy's pairwise sums would round differently in the last bit. The work is 24 x 12 products
after one pass over the notes, so speed is not the issue. `tests/io/test_keyfind.py` checks the
equality against music21 itself on corpus tunes and random inputs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

from musicgen.melody import TICKS_PER_QUARTER, Key

__all__ = ["estimate_key", "AARDEN_ESSEN_MAJOR", "AARDEN_ESSEN_MINOR"]

# Aarden-Essen profiles as music21 (analysis.discrete.AardenEssen) and Humdrum's keycor give them,
# index 0 the tonic.
AARDEN_ESSEN_MAJOR = (17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587,
                      0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122)
AARDEN_ESSEN_MINOR = (18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362,
                      0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623)

assert TICKS_PER_QUARTER == 12  # `_histogram` relies on 12 ticks a quarter (3 is its odd factor)


def estimate_key(pitches_and_lengths: Iterable[tuple[int, int]]) -> Key:
    """The key music21's `analyze("key")` finds for notes of these MIDI pitches and tick lengths,
    in order; C major when there are none."""
    histogram = _histogram(pitches_and_lengths)
    if histogram is None:
        return Key(0, "major")
    best = max(
        (_correlation(AARDEN_ESSEN_MAJOR if mode == "major" else AARDEN_ESSEN_MINOR,
                      histogram, tonic), tonic, mode)
        for mode in ("major", "minor") for tonic in range(12)
    )
    # music21 sorts (correlation, tonic pitch, mode) tuples and takes the last: on equal
    # correlations the higher tonic (pitch space of C4..B4) wins, then "minor" over "major".
    return Key(best[1], best[2])


def _histogram(pairs: Iterable[tuple[int, int]]) -> list | None:
    """Quarter lengths per pitch class, each the value and type music21's running sum has.

    music21 stores a length as a float when its denominator is a power of two (ticks divisible by
    3 here) and as a Fraction otherwise; a zero length is its default, one quarter. Its sum per
    pitch class starts at int 0, stays an exact Fraction while only Fractions are added, and turns
    float (the Fraction rounded first) when a float meets it. An exact Fraction sum is kept here as
    its tick count, so a long run of triplets costs integer additions, not Fraction ones.
    """
    ticks: list[int | None] = [None] * 12  # exact Fraction sums, as ticks; None: not a Fraction
    floats: list[float | None] = [None] * 12  # float sums; None: not (yet) a float
    any_note = False
    for pitch, length in pairs:
        any_note = True
        pc = pitch % 12
        if length == 0:
            length = TICKS_PER_QUARTER  # Note(quarterLength=0) is a quarter note in music21
        if length % 3 == 0:  # a binary fraction of a quarter: music21 holds a float
            add = length / TICKS_PER_QUARTER
            if floats[pc] is not None:
                floats[pc] += add
            elif ticks[pc] is not None:
                floats[pc] = ticks[pc] / TICKS_PER_QUARTER + add  # float(Fraction) + float
                ticks[pc] = None
            else:
                floats[pc] = 0 + add
        elif floats[pc] is not None:
            floats[pc] += length / TICKS_PER_QUARTER  # float + Fraction: the Fraction rounded
        else:
            ticks[pc] = (ticks[pc] or 0) + length
    if not any_note:
        return None
    return [floats[pc] if floats[pc] is not None
            else Fraction(ticks[pc], TICKS_PER_QUARTER) if ticks[pc] is not None
            else 0 for pc in range(12)]


def _correlation(profile: tuple[float, ...], histogram: list, tonic: int) -> float:
    """Pearson correlation of the profile rotated to `tonic` with the histogram, with music21's
    operations in music21's order (the same floats out, so the same ties)."""
    profile_mean = sum(profile) / len(profile)
    histogram_mean = sum(histogram) / len(histogram)
    top, profile_sq, histogram_sq = 0.0, 0.0, 0.0
    for j in range(12):
        weight = profile[(j - tonic) % 12] - profile_mean
        count = histogram[j] - histogram_mean
        top = top + weight * count
        profile_sq = profile_sq + weight ** 2
        histogram_sq = histogram_sq + count ** 2
    if profile_sq == 0 or histogram_sq == 0:
        return 0.0
    return float(top / ((profile_sq * histogram_sq) ** 0.5))
