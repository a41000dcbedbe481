"""Bits per fresh note and the baseline with memory, on hand-made tunes whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musicgen.evaluate.fresh import fresh_split, note_starts, restated_tokens, token_bars
from musicgen.evaluate.likelihood import TuneScores, score_with_ngram
from musicgen.evaluate.memory import (
    MemoryConfig,
    blend_probs,
    choose_memory,
    context_counts,
    memory_token_bits,
)
from musicgen.evaluate.ngram import KneserNeyModel
from musicgen.melody import Key, Melody, Meter
from musicgen.tokens import VOCAB

PART_A = [60, 62, 64, 65, 67, 65, 64, 62, 64, 64, 67, 67, 72, 71, 69, 67]  # four 4/4 bars of quarters
PART_B = [69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 65, 64, 62, 64, 65, 67]


def tune(pitches: list[int]) -> Melody:
    return Melody.from_pitches(pitches, 12, meter=Meter(4, 4), key=Key(0, "major"))


def one_bit_per_token(sequences: list[list[int]]) -> TuneScores:
    return TuneScores.from_token_bits([np.ones(len(s) - 1) for s in sequences],
                                      [VOCAB.note_count(s) for s in sequences])


def test_token_bars_give_the_closing_bar_line_to_its_bar() -> None:
    ids = VOCAB.encode(tune(PART_A[:8]))  # <bos> M K, bar 0: 4 notes + |, bar 1: 4 notes + |, <eos>
    bars = token_bars(ids)
    assert bars[:3].tolist() == [-1, -1, -1] and bars[-1] == -1
    assert bars[3:12].tolist() == [0] * 9 and bars[12:21].tolist() == [1] * 9 and len(ids) == 22
    assert note_starts(ids).sum() == 8


def test_fresh_and_restated_bits_of_a_tune_with_a_repeat() -> None:
    ids = VOCAB.encode(tune(PART_A + PART_A))  # bars 4..7 restate bars 0..3
    split = fresh_split(one_bit_per_token([ids]), [ids])
    # restated: bars 4..7, 4 notes and the closing '|' each (the last bar line is written too)
    assert split.restated_notes == 16 and split.restated_bits == 4 * 9
    # fresh: the meter and mode tokens, bars 0..3 (36 tokens) and <eos>
    assert split.fresh_notes == 16 and split.fresh_bits == 2 + 36 + 1
    assert split.fresh_bits_per_note == pytest.approx(39 / 16)
    assert split.restated_share == 0.5
    assert split.fresh_bits + split.restated_bits == len(ids) - 1


def test_a_tune_with_no_restated_bars_is_all_fresh() -> None:
    ids = VOCAB.encode(tune(PART_A + PART_B))
    assert not restated_tokens(ids).any()
    split = fresh_split(one_bit_per_token([ids]), [ids])
    assert split.restated_notes == 0 and math.isnan(split.restated_bits_per_note)
    assert split.fresh_bits_per_note == pytest.approx((len(ids) - 1) / 32)


def test_fresh_split_needs_per_token_bits() -> None:
    ids = VOCAB.encode(tune(PART_A))
    scores = TuneScores(np.ones(1), np.ones(1, np.int64), np.ones(1, np.int64), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="per-token"):
        fresh_split(scores, [ids])


def test_context_counts_and_blend_by_hand() -> None:
    # tune 1: <bos> 5 6 5 6 5; tune 2: <bos> 5 5 5 (counts never cross tunes)
    counts = context_counts([[1, 5, 6, 5, 6, 5], [1, 5, 5, 5]], max_order=2)
    assert counts.lengths == (5, 3)
    # order 1: the 4th and 5th tokens of tune 1 and the 3rd of tune 2 saw their context once before
    assert counts.n[:, 0].tolist() == [0, 0, 0, 1, 1, 0, 0, 1]
    assert counts.c[:, 0].tolist() == [0, 0, 0, 1, 1, 0, 0, 1]
    assert counts.n[:, 1].tolist() == [0, 0, 0, 0, 1, 0, 0, 0]  # (5, 6) -> 5 seen once before
    blended = blend_probs(np.full(8, 0.1), counts, MemoryConfig(1, 1, 1.0))
    # seen once, followed by the target once, one distinct follower: (1 + 1 * 0.1) / (1 + 1)
    assert blended.tolist() == pytest.approx([0.1, 0.1, 0.1, 0.55, 0.55, 0.1, 0.1, 0.55])
    higher = blend_probs(np.full(8, 0.1), counts, MemoryConfig(1, 2, 1.0))
    assert higher[4] == pytest.approx((1 + 0.55) / 2)  # order 2 blends over order 1


def test_memory_predicts_the_repeat_better_than_the_ngram_alone() -> None:
    train = [VOCAB.encode(tune(PART_A + PART_B)), VOCAB.encode(tune(PART_B + PART_A[::-1]))]
    ngram = KneserNeyModel.fit(train, VOCAB.size, 3)
    held = [VOCAB.encode(tune(PART_B[::-1] + PART_A[::-1] + PART_B[::-1] + PART_A[::-1]))]
    plain = score_with_ngram(ngram, 3, held)
    bits = memory_token_bits(ngram, 3, held, MemoryConfig(2, 8, 1.0))
    with_memory = TuneScores.from_token_bits(bits, plain.notes)
    assert with_memory.bits_per_note < 0.8 * plain.bits_per_note
    first_half = len(held[0]) // 2  # the first time through, memory can only know the tune's start
    assert bits[0][first_half:].sum() < 0.3 * (-ngram.log2_probs(held[0], 3)[first_half:]).sum()


def test_memory_settings_are_the_grid_point_with_the_lowest_validation_figure() -> None:
    train = [VOCAB.encode(tune(PART_A + PART_B))]
    ngram = KneserNeyModel.fit(train, VOCAB.size, 3)
    val = [VOCAB.encode(tune(PART_B + PART_B + PART_A + PART_A))]
    notes = VOCAB.note_count(val[0])
    grid = dict(min_orders=(1, 4), max_orders=(4, 8), escapes=(0.5, 4.0))
    chosen, figure = choose_memory(ngram, 3, val, notes, **grid)
    by_hand = {}
    for low in grid["min_orders"]:
        for high in grid["max_orders"]:
            for escape in grid["escapes"]:
                config = MemoryConfig(low, high, escape)
                by_hand[config] = sum(b.sum() for b in memory_token_bits(ngram, 3, val, config)) / notes
    assert by_hand[chosen] == pytest.approx(figure)
    assert figure == pytest.approx(min(by_hand.values()))
