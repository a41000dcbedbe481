"""An independent reference for "why this note": the sampler's distribution at a note's step,
computed straight from a checkpoint's torch model (its own cached ``step`` over the whole prefix,
which slides a Transformer's window by itself; no engine) and the vocabulary's grammar, with its
own temperature, top-k and top-p filter written out here.

It shares nothing with `musicgen.replay` or `musicgen.insight` beyond the public vocabulary,
grammar and cadence types, so a test comparing the two checks the replay, the masks and the
filtering, not one against itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musicgen.cadence import CadenceRule, CadenceTracker, cadence_bars
from musicgen.generation import GenerationConfig
from musicgen.melody import Melody
from musicgen.tokens import BOS, PAD, PITCH, REST, VOCAB, GrammarTracker

__all__ = ["ReferenceStep", "reference_step"]


def _filtered_distribution(logits: np.ndarray, config: GenerationConfig) -> np.ndarray:
    """softmax(top-p(top-k(logits / T))) as written in the module docstring of musicgen.sampling."""
    logits = logits.astype(np.float64)
    if config.temperature == 0:
        out = np.zeros_like(logits)
        out[int(np.argmax(logits))] = 1.0
        return out
    logits = logits / config.temperature
    if 0 < config.top_k < len(logits):
        kth = np.sort(logits)[-config.top_k]
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    if config.top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        before = np.cumsum(probs[order]) - probs[order]
        keep = np.zeros(len(probs), bool)
        keep[order[(before < config.top_p) | (np.arange(len(order)) == 0)]] = True
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum()
    return probs


class ReferenceStep:
    """The distributions at one generated note: ``pitch`` (V,), and ``duration(pitch_id)`` (V,)."""

    def __init__(self, checkpoint: Path, melody: Melody, note_index: int,
                 config: GenerationConfig) -> None:
        import torch

        from musicgen.checkpoint import load_checkpoint

        self.model, _ = load_checkpoint(checkpoint)
        self.config = config
        seed = melody.seed
        shift = VOCAB.shift_for(seed)
        self.ids = VOCAB.encode(melody, end=False, transpose=shift)
        seed_length = len(VOCAB.encode(seed, end=False, transpose=shift))
        self.step = self._step_of(melody, note_index)
        tracker = GrammarTracker.from_melody(VOCAB, seed, meter_constraint=config.meter_constraint)
        if config.cadence:
            bars = cadence_bars(seed, config.bars, config.phrase_bars)
            tracker = CadenceTracker(tracker, CadenceRule.for_continuation(
                bars, seed.key.mode, config.cadence_degree, seed.meter.strong_positions))
        for token in self.ids[seed_length:self.step]:
            tracker.advance(token)
        self.tracker = tracker
        banned = set()
        if config.key_lock:
            banned = set(VOCAB.ids_of_kind(PITCH)) - set(VOCAB.pitch_ids_in_mode(seed.key.mode))
        self.banned = banned
        self._torch = torch
        self.pitch = self._distribution(self.ids[:self.step], tracker)

    def _step_of(self, melody: Melody, note_index: int) -> int:
        onset, cursor = melody.notes[note_index].onset_ticks, 0
        for position, token in enumerate(self.ids):
            if VOCAB.kinds[token] in (PITCH, REST) and cursor == onset:
                return position
            cursor += VOCAB.duration_of(token) or 0
        raise AssertionError("note not found in the encoding")

    def _distribution(self, prefix: list[int], tracker: GrammarTracker) -> np.ndarray:
        with self._torch.no_grad():
            self.model.eval()
            logits, _ = self.model.step(self._torch.tensor([prefix]), self.model.init_state(1))
        logits = logits[0, -1].double().numpy()
        never = {i for i, k in enumerate(VOCAB.kinds) if k in (PAD, BOS)}
        if not self.config.stop_at_end or self.config.cadence:
            never.add(VOCAB.eos_id)
        allowed = [i for i in tracker.allowed() if i not in never]
        preferred = [i for i in allowed if i not in self.banned] or allowed
        mask = np.full(VOCAB.size, -np.inf)
        mask[preferred] = 0.0
        return _filtered_distribution(logits + mask, self.config)

    def duration(self, pitch_id: int) -> np.ndarray:
        import copy

        after = copy.copy(self.tracker)
        after.advance(pitch_id)
        return self._distribution(self.ids[:self.step] + [pitch_id], after)

    def probability(self, pitch_id: int, duration_id: int) -> float:
        return float(self.pitch[pitch_id] * self.duration(pitch_id)[duration_id])


def reference_step(checkpoint: Path, melody: Melody, note_index: int,
                   config: GenerationConfig) -> ReferenceStep:
    return ReferenceStep(checkpoint, melody, note_index, config)

