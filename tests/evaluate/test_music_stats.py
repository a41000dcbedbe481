"""Musical statistics on hand-made melodies: bars, scale, overlap, copying."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from musicgen.evaluate.stats import (
    CopyIndex,
    bar_exact_share,
    bar_lengths,
    copy_share,
    feature_overlaps,
    in_scale_share,
    interval_counts,
    kde_overlapped_area,
    overlapped_area,
    pitch_class_counts,
    pitch_ranges,
)
from musicgen.melody import Key, Melody, Meter
from musicgen.tokens import VOCAB

JIG = Meter(6, 8)  # 36 ticks a bar


def test_encoded_melodies_have_exact_bars() -> None:
    melody = Melody.from_pitches([62, 64, 66, 67, 69, 71, 72, 74, 76, 78, 79, 81], 6, meter=JIG)
    ids = VOCAB.encode(melody)
    assert bar_lengths(ids) == [36, 36]
    assert bar_exact_share([ids], [JIG]) == 1.0


def test_bar_share_counts_wrong_bars() -> None:
    # bar 1: 36 ticks, bar 2: 30 ticks (one eighth missing), bar 3: 42 ticks, then an open bar
    body = ["P:60", "D:6"] * 6 + ["|"] + ["P:62", "D:6"] * 5 + ["|"] + ["P:64", "D:6"] * 7 + ["|"]
    ids = VOCAB.from_strings(["<bos>", "M:6/8", "K:major", *body, "P:60", "D:12", "<eos>"])
    assert bar_lengths(ids) == [36, 30, 42]
    assert bar_exact_share([ids], [JIG]) == pytest.approx(1 / 3)
    # starting two eighths into a bar, the first bar should hold 24 ticks
    first_short = VOCAB.from_strings(["P:60", "D:12", "P:60", "D:12", "|", "P:62", "D:36", "|"])
    assert bar_exact_share([first_short], [JIG], start_positions=[12]) == 1.0
    assert bar_exact_share([first_short], [JIG]) == 0.5
    assert math.isnan(bar_exact_share([VOCAB.from_strings(["P:60", "D:6"])], [JIG]))


def test_in_scale_share() -> None:
    d_major = Key(2, "major")  # D E F# G A B C#
    inside = Melody.from_pitches([62, 64, 66, 67, 69, 71, 73, 74], key=d_major)
    two_out = Melody.from_pitches([62, 65, None, 72, 74], key=d_major)  # F and C are outside
    assert in_scale_share([inside]) == 1.0
    assert in_scale_share([two_out]) == pytest.approx(2 / 4)
    assert in_scale_share([inside, two_out]) == pytest.approx(10 / 12)
    e_dorian = Key(4, "dorian")  # E F# G A B C# D
    assert in_scale_share([Melody.from_pitches([64, 66, 67, 73, 74], key=e_dorian)]) == 1.0


def test_feature_extraction() -> None:
    melody = Melody.from_pitches([62, 66, None, 69, 62], key=Key(2, "major"))
    assert pitch_class_counts([melody]) == Counter({0: 2, 4: 1, 7: 1})
    assert interval_counts([melody]) == Counter({4: 1, 3: 1, -7: 1})
    assert pitch_ranges([melody, Melody.from_pitches([None])]) == [7]


def test_overlapped_area_of_identical_and_disjoint_distributions() -> None:
    a = Counter({1: 3, 2: 5, 7: 2})
    assert overlapped_area(a, a) == pytest.approx(1.0)
    assert overlapped_area(a, Counter({1: 6, 2: 10, 7: 4})) == pytest.approx(1.0)  # scale-free
    assert overlapped_area(a, Counter({3: 1, 4: 9})) == 0.0
    assert overlapped_area(Counter({1: 1, 2: 1}), Counter({2: 1, 3: 1})) == pytest.approx(0.5)
    assert math.isnan(overlapped_area(a, Counter()))


def test_kde_overlap_of_identical_and_disjoint_samples() -> None:
    values = [7, 9, 9, 10, 12, 12, 14, 19]
    assert kde_overlapped_area(values, values) == pytest.approx(1.0, abs=1e-3)
    assert kde_overlapped_area([5, 5, 5], [5, 5, 5]) == pytest.approx(1.0, abs=1e-3)
    assert kde_overlapped_area(values, [v + 100 for v in values]) < 1e-6
    partial = kde_overlapped_area(values, [v + 3 for v in values])
    assert 0.2 < partial < 0.9


def test_feature_overlaps_of_a_set_with_itself_is_one() -> None:
    tunes = [
        Melody.from_pitches([62, 64, 66, 67, 69], 6, key=Key(2, "major")),
        Melody.from_pitches([69, 71, 72, 74, None, 76], 12, key=Key(9, "minor")),
    ]
    overlaps = feature_overlaps(tunes, tunes)
    assert set(overlaps) == {"pitch_class", "note_length", "interval", "pitch_range"}
    assert all(v == pytest.approx(1.0, abs=1e-3) for v in overlaps.values())
    low = feature_overlaps([Melody.from_pitches([30, 90, 30, 90], 48)], tunes)
    assert low["note_length"] == 0.0 and low["interval"] == 0.0


def reel(pitches: list[int], key: Key = Key(2, "major")) -> Melody:
    return Melody.from_pitches(pitches, 6, meter=Meter(4, 4), key=key)  # 8 eighths a bar


def test_copy_check_finds_a_planted_copy_even_transposed() -> None:
    training_tune = [62 + (i * 5) % 12 for i in range(48)]  # 6 bars of eighths, no repeats
    other = [60 + (i * 7) % 9 for i in range(40)]
    index = CopyIndex([reel(other), reel(training_tune)])
    planted = reel([50, 51] + [p + 3 for p in training_tune[8:42]] + [52, 50], key=Key(5, "major"))
    notes, ticks = index.longest_run(planted)
    assert notes == 34  # the 34 copied notes (the first is the anchor of the first interval)
    assert ticks == 33 * 6
    assert copy_share([planted], index, bars=4) == 1.0
    assert copy_share([planted], index, bars=5) == 0.0
    fresh = reel([74, 73, 71, 69, 70, 68, 66, 65, 64, 63] * 3)
    assert index.longest_run(fresh)[0] < 6
    assert copy_share([fresh, planted], index) == 0.5


def test_copy_runs_stop_at_tune_boundaries() -> None:
    index = CopyIndex([reel([60, 62, 64]), reel([66, 68, 70])])
    # a whole-tone run of 6 notes would need to cross from one tune into the next
    assert index.longest_run(reel([60, 62, 64, 66, 68, 70]))[0] == 3
