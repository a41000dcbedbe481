"""Bits per note: how well a model or the n-gram baseline predicts held-out tunes, token by token.

A tune's bits are the total -log2 likelihood of all its tokens after <bos> (<eos> included); its bits
per note divide that by `Vocabulary.note_count` (pitched notes after ties merge). Over a set of tunes
the figure is total bits / total notes, so long tunes weigh more, as in DESIGN.md.

Every scorer also keeps each tune's per-token bits (`TuneScores.token_bits`), so that a figure over
part of a tune (fresh notes, `evaluate.fresh`) or a mixture with a model of the tune so far
(`evaluate.memory`) needs no second pass.

Model scoring is batched under ``torch.inference_mode``: tunes sorted by length, packed up to a token
budget, padded at the end (the models are causal, so padding never changes earlier positions). A
Transformer scores tunes longer than its context in windows advancing by ``stride`` tokens; each token
is scored once, by the first window where it has at least ``context - stride`` tokens of context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from musicgen.errors import Cancelled
from musicgen.evaluate.ngram import KneserNeyModel
from musicgen.tokens import VOCAB, Vocabulary

if TYPE_CHECKING:
    from musicgen.models.base import NextTokenModel

__all__ = ["TuneScores", "score_with_model", "score_with_ngram", "bits_per_note"]

from musicgen.progress import ProgressFn as Progress


@dataclass(frozen=True)
class TuneScores:
    """Per-tune totals: bits (-log2 likelihood), notes, scored tokens and correctly predicted tokens."""

    bits: np.ndarray  # (tunes,) float64
    notes: np.ndarray  # (tunes,) int64
    tokens: np.ndarray  # (tunes,) int64, tokens after <bos>
    correct: np.ndarray  # (tunes,) int64, tokens whose most likely prediction was right
    # per tune: (len - 1,) float64 bits of each token after <bos>; None when not kept
    token_bits: list[np.ndarray] | None = field(default=None, compare=False, repr=False)

    def select(self, index: Sequence[int]) -> TuneScores:
        idx = np.asarray(index, dtype=np.int64)
        kept = None if self.token_bits is None else [self.token_bits[i] for i in idx]
        return TuneScores(self.bits[idx], self.notes[idx], self.tokens[idx], self.correct[idx], kept)

    @classmethod
    def from_token_bits(
        cls, token_bits: Sequence[np.ndarray], notes: Sequence[int], correct: Sequence[int] | None = None
    ) -> TuneScores:
        """Totals from per-token bits (accuracy zero unless `correct` is given)."""
        bits = np.array([float(np.sum(b)) for b in token_bits])
        tokens = np.array([b.size for b in token_bits], dtype=np.int64)
        hits = np.zeros_like(tokens) if correct is None else np.asarray(correct, dtype=np.int64)
        return cls(bits, np.asarray(notes, dtype=np.int64), tokens, hits, list(token_bits))

    @property
    def bits_per_note(self) -> float:
        return bits_per_note(self.bits, self.notes)

    @property
    def token_accuracy(self) -> float:
        total = int(self.tokens.sum())
        return float(self.correct.sum()) / total if total else math.nan


def bits_per_note(bits: Sequence[float] | np.ndarray, notes: Sequence[int] | np.ndarray) -> float:
    """Total bits over total notes (NaN when there are no notes)."""
    total_notes = float(np.sum(notes))
    return float(np.sum(bits)) / total_notes if total_notes > 0 else math.nan


def _note_counts(sequences: Sequence[Sequence[int]], vocab: Vocabulary) -> np.ndarray:
    return np.array([vocab.note_count(s) for s in sequences], dtype=np.int64)


def score_with_ngram(
    model: KneserNeyModel, order: int, sequences: Sequence[Sequence[int]], vocab: Vocabulary = VOCAB
) -> TuneScores:
    """Bits per tune under the n-gram (accuracy is left at zero: the baseline is not a classifier)."""
    log2p = model.log2_probs_many(sequences, order)
    return TuneScores.from_token_bits([-lp for lp in log2p], _note_counts(sequences, vocab))


def _windows(length: int, context: int | None, stride: int) -> list[tuple[int, int]]:
    """(start, first scored target index within the window's targets) covering every target once."""
    span = None if context is None else context + 1  # a window feeds `context` ids, scores as many
    if span is None or length <= span:
        return [(0, 0)]
    out, done, start = [(0, 0)], span, 0  # targets 1..context are scored by the first window
    while done < length:
        start = min(start + stride, length - span)
        out.append((start, done - (start + 1)))
        done = start + span
    return out


def _rows(
    sequences: Sequence[Sequence[int]], context: int | None, stride: int
) -> list[tuple[int, list[int], int, int]]:
    """(tune, window ids, first scored target in the window, window start in the tune) per window."""
    rows = []
    for tune, ids in enumerate(sequences):
        if len(ids) < 2:
            continue
        for start, offset in _windows(len(ids), context, stride):
            end = len(ids) if context is None else start + context + 1
            rows.append((tune, list(ids[start:end]), offset, start))
    return rows


def _batches(rows: list, token_budget: int) -> list[list]:
    """Rows sorted by length, packed so that (rows x longest) stays within the budget."""
    ordered = sorted(rows, key=lambda r: len(r[1]))
    batches, current = [], []
    for row in ordered:
        if current and (len(current) + 1) * len(row[1]) > token_budget:
            batches.append(current)
            current = []
        current.append(row)
    if current:
        batches.append(current)
    return batches


def score_with_model(
    model: NextTokenModel,
    sequences: Sequence[Sequence[int]],
    *,
    vocab: Vocabulary = VOCAB,
    token_budget: int = 16384,
    stride: int | None = None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TuneScores:
    """Bits, notes, tokens and top-1 hits per tune under `model` (see the module docstring)."""
    import torch

    context = model.max_context
    stride = min(stride or max(1, (context or 4) // 4), max(1, (context or 2) - 1))
    token_bits = [np.zeros(max(len(s) - 1, 0)) for s in sequences]
    correct = np.zeros(len(sequences), np.int64)
    batches = _batches(_rows(sequences, context, stride), token_budget)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for b, batch in enumerate(batches):
                if should_stop is not None and should_stop():
                    raise Cancelled("evaluation was cancelled")
                _score_batch(model, batch, token_bits, correct, vocab.pad_id, device)
                if on_progress is not None:
                    on_progress(b + 1, len(batches), "scoring held-out tunes")
    finally:
        model.train(was_training)
    return TuneScores.from_token_bits(token_bits, _note_counts(sequences, vocab), correct)


def _score_batch(model, batch: list, token_bits: list, correct: np.ndarray, pad_id: int, device) -> None:
    import torch

    width = max(len(r[1]) for r in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width - 1), dtype=torch.bool)
    for i, (_, row, offset, _) in enumerate(batch):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, offset : len(row) - 1] = True
    ids = ids.to(device)
    logits, _ = model(ids[:, :-1])  # (B, T-1, V)
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    targets = ids[:, 1:]  # (B, T-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T-1)
    mask = mask.to(device)
    bits = (-picked / math.log(2.0)).double().cpu().numpy()  # (B, T-1)
    row_hits = ((log_probs.argmax(dim=-1) == targets) & mask).sum(dim=1)
    for i, (tune, row, offset, start) in enumerate(batch):
        token_bits[tune][start + offset:start + len(row) - 1] = bits[i, offset:len(row) - 1]
        correct[tune] += int(row_hits[i])
