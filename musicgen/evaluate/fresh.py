"""Bits per note on fresh notes: a tune's score with its restated passages set apart.

Repeats are expanded, so a model that recalls a tune's A part when it comes round again looks far
better than one that writes good new music. Here each token of an encoded tune is given to the bar it
lies in (the ``|`` that closes a bar belongs to that bar; the header and ``<eos>`` to no bar), and a
bar is RESTATED when it lies in a run of at least 4 bars that repeats, token for token, an earlier run
of the same tune (`form.restated_bars`). Fresh notes are the others; bits per fresh note divide the
bits of every token outside restated bars (header and ``<eos>`` included) by the notes that start
there, so fresh bits + restated bits = the tune's bits.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from musicgen.evaluate.form import RESTATED_MIN_BARS, restated_bars
from musicgen.evaluate.likelihood import TuneScores
from musicgen.tokens import BAR, DUR, PITCH, REST, TIE, VOCAB, Vocabulary

__all__ = ["token_bars", "note_starts", "restated_tokens", "FreshSplit", "fresh_split"]


def token_bars(ids: Sequence[int], vocab: Vocabulary = VOCAB) -> np.ndarray:
    """The bar index of each token (0 = the first bar or the pickup); -1 for header and end tokens."""
    out = np.full(len(ids), -1, dtype=np.int64)
    bar = 0
    for i, token_id in enumerate(ids):
        kind = vocab.kinds[token_id]
        if kind in (PITCH, REST, TIE, DUR):
            out[i] = bar
        elif kind == BAR:
            out[i] = bar
            bar += 1
    return out


def note_starts(ids: Sequence[int], vocab: Vocabulary = VOCAB) -> np.ndarray:
    """True at each pitch token that starts a note (not the tied continuation of the same pitch):
    the positions `Vocabulary.note_count` counts."""
    out = np.zeros(len(ids), dtype=bool)
    tied_pitch = last_pitch = None
    for i, token_id in enumerate(ids):
        kind = vocab.kinds[token_id]
        if kind == PITCH:
            pitch = vocab.pitch_of(token_id)
            out[i] = tied_pitch is None or pitch != tied_pitch
            last_pitch, tied_pitch = pitch, None
        elif kind == REST:
            last_pitch = tied_pitch = None
        elif kind == TIE:
            tied_pitch = last_pitch
    return out


def restated_tokens(
    ids: Sequence[int], vocab: Vocabulary = VOCAB, min_bars: int = RESTATED_MIN_BARS
) -> np.ndarray:
    """True at each token inside a restated bar (see the module docstring)."""
    bars = token_bars(ids, vocab)
    count = int(bars.max()) + 1 if bars.size else 0
    content: list[list[int]] = [[] for _ in range(count)]
    for token_id, b in zip(ids, bars):
        if b >= 0:
            content[b].append(int(token_id))
    flags = np.array(restated_bars([tuple(c) for c in content], min_bars) + [False], dtype=bool)
    return flags[bars]  # index -1 picks the trailing False: header and end are never restated


class FreshSplit:
    """Bits and notes of a set of tunes, split into fresh and restated parts."""

    def __init__(self, fresh_bits: float, fresh_notes: int, restated_bits: float, restated_notes: int):
        self.fresh_bits, self.fresh_notes = fresh_bits, fresh_notes
        self.restated_bits, self.restated_notes = restated_bits, restated_notes

    @property
    def fresh_bits_per_note(self) -> float:
        return self.fresh_bits / self.fresh_notes if self.fresh_notes else math.nan

    @property
    def restated_bits_per_note(self) -> float:
        return self.restated_bits / self.restated_notes if self.restated_notes else math.nan

    @property
    def restated_share(self) -> float:
        total = self.fresh_notes + self.restated_notes
        return self.restated_notes / total if total else math.nan

    def to_dict(self) -> dict:
        return {
            "fresh_bits_per_note": self.fresh_bits_per_note,
            "restated_bits_per_note": self.restated_bits_per_note,
            "fresh_notes": self.fresh_notes,
            "restated_notes": self.restated_notes,
            "restated_share": self.restated_share,
        }


def fresh_split(
    scores: TuneScores,
    sequences: Sequence[Sequence[int]],
    vocab: Vocabulary = VOCAB,
    *,
    masks: Sequence[np.ndarray] | None = None,
) -> FreshSplit:
    """Split `scores` (which must keep per-token bits) into fresh and restated bits and notes.

    `masks` (from `restated_tokens`, one per sequence) can be passed to reuse them across models.
    """
    if scores.token_bits is None:
        raise ValueError("fresh_split needs per-token bits (TuneScores.token_bits)")
    fb = rb = 0.0
    fn = rn = 0
    for i, ids in enumerate(sequences):
        restated = masks[i] if masks is not None else restated_tokens(ids, vocab)
        starts = note_starts(ids, vocab)
        bits = scores.token_bits[i]
        rb += float(bits[restated[1:]].sum())
        fb += float(bits[~restated[1:]].sum())
        rn += int((starts & restated).sum())
        fn += int((starts & ~restated).sum())
    return FreshSplit(fb, fn, rb, rn)
