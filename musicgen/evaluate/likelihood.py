"""Bits per note: how well a model or the n-gram baseline predicts held-out tunes, token by token.

A tune's bits are the total -log2 likelihood of all its tokens after <bos> (<eos> included); its bits
per note divide that by `Vocabulary.note_count` (pitched notes after ties merge). Over a set of tunes
the figure is total bits / total notes, so long tunes weigh more, as in DESIGN.md.

Model scoring is batched under ``torch.inference_mode``: tunes sorted by length, packed up to a token
budget, padded at the end (the models are causal, so padding never changes earlier positions). A
Transformer scores tunes longer than its context in windows advancing by ``stride`` tokens; each token
is scored once, by the first window where it has at least ``context - stride`` tokens of context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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

    def select(self, index: Sequence[int]) -> TuneScores:
        idx = np.asarray(index, dtype=np.int64)
        return TuneScores(self.bits[idx], self.notes[idx], self.tokens[idx], self.correct[idx])

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
    bits = np.array([-float(lp.sum()) for lp in log2p])
    tokens = np.array([lp.size for lp in log2p], dtype=np.int64)
    return TuneScores(bits, _note_counts(sequences, vocab), tokens, np.zeros_like(tokens))


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


def _rows(sequences: Sequence[Sequence[int]], context: int | None, stride: int) -> list[tuple[int, list[int], int]]:
    rows = []
    for tune, ids in enumerate(sequences):
        if len(ids) < 2:
            continue
        for start, offset in _windows(len(ids), context, stride):
            end = len(ids) if context is None else start + context + 1
            rows.append((tune, list(ids[start:end]), offset))
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
    bits = np.zeros(len(sequences))
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
                _score_batch(model, batch, bits, correct, vocab.pad_id, device)
                if on_progress is not None:
                    on_progress(b + 1, len(batches), "scoring held-out tunes")
    finally:
        model.train(was_training)
    tokens = np.array([max(len(s) - 1, 0) for s in sequences], dtype=np.int64)
    return TuneScores(bits, _note_counts(sequences, vocab), tokens, correct)


def _score_batch(model, batch: list, bits: np.ndarray, correct: np.ndarray, pad_id: int, device) -> None:
    import torch

    width = max(len(r[1]) for r in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width - 1), dtype=torch.bool)
    for i, (_, row, offset) in enumerate(batch):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, offset : len(row) - 1] = True
    ids = ids.to(device)
    logits, _ = model(ids[:, :-1])  # (B, T-1, V)
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    targets = ids[:, 1:]  # (B, T-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T-1)
    mask = mask.to(device)
    row_bits = -(picked * mask).sum(dim=1) / math.log(2.0)
    row_hits = ((log_probs.argmax(dim=-1) == targets) & mask).sum(dim=1)
    for i, (tune, _, _) in enumerate(batch):
        bits[tune] += float(row_bits[i])
        correct[tune] += int(row_hits[i])
