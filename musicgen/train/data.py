"""Training batches: tunes as id sequences, cropped to windows, bucketed by length, sharded for DDP.

A tune's ids (BOS ... EOS) become one or more *windows* of at most ``window + 1`` tokens that overlap
by one token, so every token after BOS is predicted exactly once (input = window[:-1], target =
window[1:]). Each epoch's order is a pure function of ``(seed, epoch)``: resuming at batch ``k`` of
an epoch replays the same plan and skips the first ``k`` batches. Batches group windows of similar
length (shuffle, then sort inside pools of several batches) so padding stays small; the plan reports
its padding fraction. Under DistributedDataParallel every rank sees the same global batch and takes
every ``world``-th sequence of it, so the global batch equals the single-process batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "EpochPlan",
    "TuneSequences",
    "crop_windows",
    "encode_tunes",
    "plan_epoch",
    "plan_validation",
    "shard_batch",
    "collate",
]

# Sort inside pools of this many batches: long enough to group lengths, short enough to vary batches.
POOL_BATCHES = 16


@dataclass(frozen=True)
class TuneSequences:
    """Encoded tunes: ``variants[i]`` holds tune i's windows for each transposition that encodes."""

    variants: tuple[tuple[tuple[tuple[int, ...], ...], ...], ...]  # tune -> shift -> windows -> ids
    note_counts: tuple[int, ...]  # notes per tune (untransposed): the bits-per-note denominator
    skipped: int  # tunes (or transpositions) the vocabulary could not encode

    @property
    def tune_count(self) -> int:
        return len(self.variants)

    def windows(self, choice: Sequence[int] | None = None) -> list[tuple[int, ...]]:
        """All windows, taking variant ``choice[i]`` of tune i (the untransposed one by default)."""
        out: list[tuple[int, ...]] = []
        for i, variants in enumerate(self.variants):
            out.extend(variants[choice[i] if choice is not None else 0])
        return out


@dataclass(frozen=True)
class EpochPlan:
    """One epoch: the windows it trains on and the batches (indices into them) in order."""

    sequences: tuple[tuple[int, ...], ...]
    batches: tuple[tuple[int, ...], ...]
    padding_fraction: float  # pad tokens / all tokens in the padded input tensors

    def target_tokens(self, batch: int) -> int:
        """Tokens predicted in one global batch (every token of each window but the first)."""
        return sum(len(self.sequences[i]) - 1 for i in self.batches[batch])


def crop_windows(ids: Sequence[int], window: int | None) -> list[tuple[int, ...]]:
    """Pieces of at most ``window + 1`` ids overlapping by one; the whole tune when it fits."""
    ids = tuple(ids)
    if window is None or len(ids) <= window + 1:
        return [ids]
    out = []
    for start in range(0, len(ids) - 1, window):
        out.append(ids[start : start + window + 1])
    return out


def encode_tunes(
    melodies: Sequence[object],
    encode: Callable[[object, int], list[int]],
    count_notes: Callable[[list[int]], int],
    *,
    window: int | None,
    augment_semitones: int = 0,
) -> TuneSequences:
    """Encode melodies (and, when asked, their transpositions by up to +-augment_semitones).

    ``encode(melody, semitones)`` gives the ids of a melody moved by ``semitones`` from where the
    vocabulary would put it (0: the vocabulary's own choice).
    """
    from musicgen.errors import MusicGenError

    shifts = [0] + [s for k in range(1, augment_semitones + 1) for s in (k, -k)]
    variants, notes, skipped = [], [], 0
    for melody in melodies:
        per_shift = []
        for shift in shifts:
            try:
                ids = encode(melody, shift)
            except (MusicGenError, ValueError):
                skipped += 1
                if shift == 0:
                    break
                continue
            if shift == 0:
                notes.append(count_notes(ids))
            per_shift.append(tuple(crop_windows(ids, window)))
        if per_shift:
            variants.append(tuple(per_shift))
    return TuneSequences(tuple(variants), tuple(notes), skipped)


def plan_epoch(
    data: TuneSequences,
    *,
    seed: int,
    epoch: int,
    batch_size: int,
    batch_tokens: int = 0,
) -> EpochPlan:
    """The deterministic batch plan of one epoch (same seed and epoch -> same plan)."""
    rng = np.random.default_rng([seed, epoch])
    choice = [int(rng.integers(len(v))) for v in data.variants]
    sequences = tuple(data.windows(choice))
    order = rng.permutation(len(sequences))
    pool = batch_size * POOL_BATCHES
    batches: list[tuple[int, ...]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool].tolist(), key=lambda i: len(sequences[i]))
        batches.extend(_fill_batches(chunk, sequences, batch_size, batch_tokens))
    perm = rng.permutation(len(batches))
    ordered = tuple(batches[i] for i in perm)
    return EpochPlan(sequences, ordered, _padding_fraction(sequences, ordered))


def plan_validation(data: TuneSequences, *, batch_size: int, batch_tokens: int = 0) -> EpochPlan:
    """Validation batches: every untransposed window once, sorted by length (no randomness), of
    at most ``batch_size`` windows and (when > 0) ``batch_tokens`` padded tokens, as in training."""
    sequences = tuple(data.windows())
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    batches = tuple(_fill_batches(order, sequences, batch_size, batch_tokens))
    return EpochPlan(sequences, batches, _padding_fraction(sequences, batches))


def _fill_batches(
    order: list[int], sequences: Sequence[Sequence[int]], batch_size: int, batch_tokens: int
) -> list[tuple[int, ...]]:
    batches: list[tuple[int, ...]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        length = len(sequences[i]) - 1
        full = len(current) == batch_size or (
            batch_tokens > 0 and bool(current)
            and max(longest, length) * (len(current) + 1) > batch_tokens)
        if full:
            batches.append(tuple(current))
            current, longest = [], 0
        current.append(i)
        longest = max(longest, length)
    if current:
        batches.append(tuple(current))
    return batches


def _padding_fraction(
    sequences: Sequence[Sequence[int]], batches: Sequence[Sequence[int]]
) -> float:
    padded = real = 0
    for batch in batches:
        lengths = [len(sequences[i]) - 1 for i in batch]
        padded += max(lengths) * len(lengths)
        real += sum(lengths)
    return 1.0 - real / padded if padded else 0.0


def shard_batch(batch: Sequence[int], rank: int, world: int) -> tuple[int, ...]:
    """This rank's part of a global batch (every world-th sequence; lengths stay balanced)."""
    return tuple(batch[rank::world])


def collate(sequences: Sequence[Sequence[int]], pad_id: int):
    """(inputs, targets) LongTensors of shape (B, T), padded with ``pad_id``.

    An empty list gives one all-padding row: a DDP rank with nothing to do still runs forward and
    backward (its loss is zero) so the gradient all-reduce stays in step.
    """
    import torch

    if not sequences:
        sequences = [(pad_id, pad_id)]
    width = max(len(s) for s in sequences) - 1
    inputs = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    targets = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids = torch.tensor(seq, dtype=torch.long)
        inputs[row, : len(seq) - 1] = ids[:-1]
        targets[row, : len(seq) - 1] = ids[1:]
    return inputs, targets
