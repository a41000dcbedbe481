"""The vocabulary: round trips, the grammar, the meter tracker."""

from __future__ import annotations

import random

import pytest

from musicgen.errors import VocabularyError
from musicgen.melody import Key, Melody, Meter, Note
from musicgen.tokens import (
    SUPPORTED_METERS,
    VOCAB,
    GrammarTracker,
    Vocabulary,
    nearest_supported_meter,
    tonic_shift,
)


def random_melody(rng: random.Random, meter: Meter, key: Key) -> Melody:
    durations = [3, 4, 6, 6, 6, 12, 12, 18, 24, 36, 60]
    notes, t = [], 0
    for _ in range(rng.randint(5, 60)):
        d = rng.choice(durations)
        pitch = None if rng.random() < 0.1 else rng.randint(50, 86)
        notes.append(Note(pitch, t, d))
        t += d
    pickup = rng.choice([0, 0, meter.bar_ticks // 3, 6]) % meter.bar_ticks
    return Melody.from_notes(notes, meter=meter, key=key, pickup_ticks=pickup)


@pytest.mark.parametrize("meter_text", SUPPORTED_METERS)
def test_round_trip_random_melodies_keep_notes_bars_and_pickup(meter_text: str) -> None:
    rng = random.Random(meter_text)
    for _ in range(30):
        key = Key(rng.randrange(12), rng.choice(["major", "minor", "dorian", "mixolydian"]))
        melody = random_melody(rng, Meter.parse(meter_text), key)
        ids = VOCAB.encode(melody)
        back = VOCAB.decode(ids, transpose=-VOCAB.shift_for(melody))
        assert back.notes == melody.notes
        assert back.meter == melody.meter
        assert back.key == melody.key
        if melody.duration_ticks > melody.meter.bar_ticks + melody.pickup_ticks:
            assert back.pickup_ticks == melody.pickup_ticks
            assert back.bar_lines() == melody.bar_lines()
        assert VOCAB.note_count(ids) == melody.note_count


def test_decode_with_tonic_returns_the_seed_key() -> None:
    melody = Melody.from_pitches([67, 71, 74, 79], meter=Meter(3, 4), key=Key(7, "major"))
    ids = VOCAB.encode(melody)
    assert "P:72" in VOCAB.to_strings(ids)  # G moves up a fourth to C, the smaller step
    assert tonic_shift(Key(7)) == 5
    assert VOCAB.decode(ids, tonic_pc=7).notes == melody.notes


def test_tokens_are_unique_and_versioned() -> None:
    assert len(set(VOCAB.tokens)) == VOCAB.size
    assert VOCAB.pad_id == 0 and VOCAB.tokens[0] == "<pad>"
    assert Vocabulary() == VOCAB and VOCAB.version == 1


def test_unsupported_meter_and_range_are_refused() -> None:
    with pytest.raises(VocabularyError, match="11/8"):
        VOCAB.encode(Melody.from_pitches([60], meter=Meter(11, 8)))
    with pytest.raises(VocabularyError, match="range"):
        VOCAB.encode(Melody.from_pitches([20, 100]))
    assert str(nearest_supported_meter(Meter(11, 8))) in ("12/8", "5/4")


def test_long_notes_and_bar_crossings_become_ties() -> None:
    melody = Melody.from_notes([Note(60, 0, 6), Note(62, 6, 100)], meter=Meter(4, 4), pickup_ticks=6)
    tokens = VOCAB.to_strings(VOCAB.encode(melody))
    assert tokens.count("-") == 2
    assert VOCAB.decode(VOCAB.encode(melody)).notes == melody.notes


def test_encoded_tunes_obey_the_grammar_tracker() -> None:
    rng = random.Random(1)
    for _ in range(50):
        meter = Meter.parse(rng.choice(SUPPORTED_METERS))
        melody = random_melody(rng, meter, Key(0, "major"))
        ids = VOCAB.encode(melody)
        tracker = GrammarTracker.from_melody(VOCAB, melody.replace(notes=()))
        tracker.position = (meter.bar_ticks - melody.pickup_ticks) % meter.bar_ticks
        tracker.expect = "note_end" if tracker.position else "bar"
        for token in ids[3:-1]:
            assert token in tracker.allowed(), VOCAB.tokens[token]
            tracker.advance(token)


@pytest.mark.parametrize("meter_text", ["6/8", "3/4", "4/4", "7/8"])
def test_random_walk_under_the_meter_constraint_fills_every_bar_exactly(meter_text: str) -> None:
    rng = random.Random(meter_text)
    meter = Meter.parse(meter_text)
    seed = Melody.from_notes([Note(62, 0, 6)], meter=meter, pickup_ticks=6)
    tracker = GrammarTracker.from_melody(VOCAB, seed)
    ids = VOCAB.encode(seed, end=False)
    while tracker.bars_done < 40:
        token = rng.choice(tracker.allowed())
        if token == VOCAB.eos_id:
            continue
        ids.append(token)
        tracker.advance(token)
    melody = VOCAB.decode(ids)
    lines = melody.bar_lines()
    assert len(lines) == 41 and melody.pickup_ticks == 6
    assert all(b - a == meter.bar_ticks for a, b in zip(lines, lines[1:]))


def test_tie_constraint_repeats_the_pitch_after_the_bar() -> None:
    meter = Meter(2, 4)
    seed = Melody.from_notes([Note(60, 0, 12)], meter=meter)
    tracker = GrammarTracker.from_melody(VOCAB, seed)
    for token in (VOCAB.pitch_id(64), VOCAB.duration_id(12), VOCAB.tie_id):
        assert token in tracker.allowed()
        tracker.advance(token)
    assert tracker.allowed() == (VOCAB.bar_id,)
    tracker.advance(VOCAB.bar_id)
    assert tracker.allowed() == (VOCAB.pitch_id(64),)
