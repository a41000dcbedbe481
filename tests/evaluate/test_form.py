"""The form of a tune on hand-made tunes with known answers: strong beats, endings, length,
restated passages (melody and token views agree), AABB, phrase boundaries."""

from __future__ import annotations

import pytest

from musicgen.evaluate.form import (
    bar_signatures,
    ends_at_phrase_boundary,
    ends_on_strong_beat,
    ends_on_tonic,
    form_statistics,
    is_aabb,
    length_in_bars,
    part_endings,
    restated_bars,
    restated_note_flags,
    restated_share,
    strong_positions,
)
from musicgen.evaluate.fresh import note_starts, restated_tokens
from musicgen.melody import Key, Melody, Meter, Note
from musicgen.tokens import VOCAB

# four different 4/4 bars of quarter notes, in C
A1, A2, A3, A4 = [60, 62, 64, 65], [67, 65, 64, 62], [64, 64, 67, 67], [72, 71, 69, 67]
B1, B2, B3, B4 = [69, 71, 72, 74], [76, 74, 72, 71], [69, 67, 65, 64], [62, 64, 65, 67]


def quarters(*bars: list[int], key: Key = Key(0, "major"), meter: Meter = Meter(4, 4)) -> Melody:
    return Melody.from_pitches([p for bar in bars for p in bar], 12, meter=meter, key=key)


@pytest.mark.parametrize("meter,expected", [
    ("4/4", (0, 24)), ("2/2", (0, 24)), ("2/4", (0, 12)), ("6/8", (0, 18)), ("12/8", (0, 36)),
    ("4/2", (0, 48)), ("3/4", (0,)), ("9/8", (0,)), ("3/8", (0,)), ("5/4", (0,)), ("7/8", (0,)),
    ("6/4", (0, 36)), ("3/2", (0,)),
])
def test_strong_positions(meter: str, expected: tuple[int, ...]) -> None:
    assert strong_positions(Meter.parse(meter)) == expected


def test_a_tune_with_no_restated_bars() -> None:
    tune = quarters(A1, A2, A3, A4, B1, B2, B3, B4, [60, 60, 60, 60])
    assert restated_bars(bar_signatures(tune)) == [False] * 9
    assert restated_share([tune]) == 0.0
    assert not restated_tokens(VOCAB.encode(tune)).any()


def test_a_repeated_part_is_restated_from_its_second_time() -> None:
    tune = quarters(A1, A2, A3, A4, A1, A2, A3, A4, B1, B2)
    assert restated_bars(bar_signatures(tune)) == [False] * 4 + [True] * 4 + [False] * 2
    assert restated_share([tune]) == pytest.approx(16 / 40)
    flags = restated_note_flags(tune)
    assert flags == [False] * 16 + [True] * 16 + [False] * 8


def test_three_repeated_bars_are_not_a_restated_passage_but_overlapping_runs_are() -> None:
    assert restated_bars(list("abcxabcy")) == [False] * 8
    assert restated_bars(list("aaaaaa")) == [False] + [True] * 5  # bars 1..5 restate bars 0..4
    assert restated_bars(list("abcdabcd"), min_bars=2) == [False] * 4 + [True] * 4


def test_token_and_melody_views_of_restatement_agree_with_ties_and_a_pickup() -> None:
    # 3/4 with a one-quarter pickup; a half note tied over each bar line of the repeated part
    # a five-bar part (180 ticks) whose 65 is tied over its first bar line, played twice
    part = [(62, 12), (64, 12), (65, 24), (64, 12), (62, 12), (60, 12), (67, 24), (65, 24),
            (64, 12), (62, 12), (60, 12), (62, 12)]
    assert sum(d for _, d in part) == 5 * 36
    notes, t = [], 0
    for pitch, dur in [(67, 12)] + part + part + [(60, 36)]:
        notes.append(Note(pitch, t, dur))
        t += dur
    tune = Melody(tuple(notes), meter=Meter(3, 4), key=Key(0, "major"), pickup_ticks=12)
    ids = VOCAB.encode(tune)
    starts = note_starts(ids)
    assert starts.sum() == tune.note_count
    token_flags = restated_tokens(ids)[starts].tolist()
    assert token_flags == restated_note_flags(tune)
    assert any(token_flags) and not all(token_flags)


def test_endings_on_the_tonic_and_on_strong_beats() -> None:
    on_third_beat = Melody.from_pitches([64, 62, 60], 12, meter=Meter(4, 4), key=Key(0, "major"))
    assert ends_on_tonic(on_third_beat) and ends_on_strong_beat(on_third_beat)
    on_second_beat = Melody.from_pitches([64, 60], 12, meter=Meter(4, 4), key=Key(0, "major"))
    assert ends_on_tonic(on_second_beat) and not ends_on_strong_beat(on_second_beat)
    on_dominant = Melody.from_pitches([62, 67], 24, meter=Meter(4, 4), key=Key(0, "major"))
    assert not ends_on_tonic(on_dominant) and ends_on_tonic(on_dominant, degree_pc=7)
    # 6/8: the fourth eighth is the bar's second dotted-quarter beat; the second eighth is weak
    jig_strong = Melody.from_pitches([69, 71, 72, 69], 6, meter=Meter(6, 8), key=Key(9, "dorian"))
    jig_weak = Melody.from_pitches([71, 69], 6, meter=Meter(6, 8), key=Key(9, "dorian"))
    assert ends_on_strong_beat(jig_strong) and ends_on_tonic(jig_strong)
    assert not ends_on_strong_beat(jig_weak)
    waltz = Melody.from_pitches([64, 60], 12, meter=Meter(3, 4), key=Key(0, "major"))
    assert not ends_on_strong_beat(waltz)  # 3/4 has only the downbeat
    with_pickup = Melody.from_pitches([67, 60], 12, meter=Meter(4, 4), key=Key(0, "major"), pickup_ticks=12)
    assert ends_on_strong_beat(with_pickup)  # the 60 falls on the downbeat after the pickup


def test_length_in_bars_counts_pickup_and_short_last_bar_as_one() -> None:
    eighths = [67] + [60] * 8 * 7 + [60] * 7  # pickup of one eighth, 7 bars, last bar one eighth short
    tune = Melody.from_pitches(eighths, 6, meter=Meter(4, 4), pickup_ticks=6)
    assert length_in_bars(tune) == 8
    assert length_in_bars(quarters(A1, A2, A3)) == 3
    assert ends_at_phrase_boundary(quarters(A1, A2, A3, A4), 4)
    assert not ends_at_phrase_boundary(quarters(A1, A2, A3, A4), 8)
    assert ends_at_phrase_boundary(quarters(A1, A2, A3, A4, A1, A2, A3, A4), 8)


def test_aabb_with_first_and_second_endings_and_what_is_not_aabb() -> None:
    part_a, part_b = [A1, A2, A3, A4], [B1, B2, B3, B4]
    first, second = [60, 60, 62, 62], [60, 64, 67, 60]
    aabb = quarters(*part_a[:3], first, *part_a[:3], second, *part_b, *part_b)
    assert is_aabb(aabb)
    assert not is_aabb(quarters(*part_a, *part_b, *part_a, *part_b))  # ABAB
    assert not is_aabb(quarters(*part_a, *part_a, *part_a, *part_a))  # A = B
    assert not is_aabb(quarters(*part_a, *part_a, *part_b))  # AAB
    assert part_endings(aabb) == [2, 0, 7, 7]  # A ends on D (first ending) then C; B on G twice
    assert part_endings(quarters(A1, A2, A3)) == []  # three bars are not four equal parts
    stats = form_statistics([aabb, quarters(A1, A2, A3, A4, B1, B2, B3, [60, 62, 67, 60])])
    assert stats["tunes"] == 2 and stats["aabb"] == 0.5
    assert stats["bars_multiple_of_8"] == 1.0 and stats["mean_bars"] == 12.0
    assert stats["ends_on_tonic"] == 0.5  # the AABB tune ends on B4's G
