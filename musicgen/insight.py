"""Why this note: the candidates the sampler weighed at a generated note, and what the Transformer
attended to when it chose it.

`explain_note(generator, melody, note_index)` replays the sampler at the note's step
(`musicgen.replay`, on the generator's NumPy engine, no torch): the logits after every earlier
token, over the window its cache held, under the constraint masks in force there (grammar, meter,
key lock, pitch range, cadence), at the temperature, top-k and top-p the melody was made with. A
note is two draws, its pitch (or rest) then its duration, so a candidate's probability is
``p(pitch) * p(duration | pitch)``, both from the sampler's own distribution;
`Candidate.model_probability` is the same at temperature 1 with no top-k/top-p (what the model
itself believed under the constraints). A note tied over a bar line is judged by its first piece,
the one drawn at that step.

`with_attention` adds, for a Transformer, the attention of the query that predicted the note (the
position just before it) over every earlier position of the window, per layer and head, straight
from the checkpoint's torch model (`TransformerModel.attention_weights`, so it imports torch);
`attention_by_note` adds up the weights of each note's tokens. An LSTM has no attention: it
carries the past in its hidden state (``attention`` stays None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.melody import Melody, duration_name, pitch_to_name
from musicgen.replay import Replay, StepStates, copy_tracker, engine_of, logits_at, replay

if TYPE_CHECKING:
    import numpy as np
from musicgen.tokens import VOCAB

__all__ = [
    "CANDIDATES_SHOWN",
    "CANDIDATE_PITCHES",
    "Candidate",
    "NoteInsight",
    "duration_name",
    "explain_note",
    "sampler_probabilities",
    "with_attention",
]

CANDIDATE_PITCHES = 8  # at most this many of the likeliest pitches (or rest) are weighed...
MIN_PITCHES = 3  # ... at least this many (when possible) ...
PITCH_MASS = 0.995  # ... and no more once they hold this much probability (each costs a model row)
CANDIDATES_SHOWN = 8  # the most likely notes listed (the chosen one is added when not among them)
@dataclass(frozen=True)
class Candidate:
    """One possible note at a step: its pitch (None: a rest), length and probabilities."""

    pitch: int | None  # MIDI pitch in the melody's key
    duration_ticks: int
    probability: float  # under the sampler's settings and constraints
    model_probability: float  # at temperature 1, no top-k/top-p, same constraints
    chosen: bool
    pitch_id: int
    duration_id: int

    @property
    def name(self) -> str:
        return "rest" if self.pitch is None else pitch_to_name(self.pitch)

    @property
    def surprisal_bits(self) -> float:
        """-log2 of its probability under the sampler (inf when the settings ruled it out)."""
        return -math.log2(self.probability) if self.probability > 0 else math.inf


@dataclass(frozen=True)
class NoteInsight:
    """What the model weighed at one generated note (see the module docstring)."""

    note_index: int
    step: int  # the index of the note's first token in the encoded melody
    model_kind: str
    settings: GenerationConfig
    candidates: tuple[Candidate, ...]  # most likely first; the chosen one always among them
    chosen: Candidate
    pitch_probabilities: tuple[float, ...]  # the sampler's distribution over ids at the step
    attention: Any  # numpy (layers, heads, window) for a Transformer, else None
    window_start: int  # the encoded position of attention[..., 0]
    token_notes: tuple[int, ...]  # melody note index per encoded position (-1: header, bar line)

    @property
    def layers(self) -> int:
        return 0 if self.attention is None else int(self.attention.shape[0])

    @property
    def heads(self) -> int:
        return 0 if self.attention is None else int(self.attention.shape[1])

    def attention_row(self, layer: int, head: int | None = None) -> Any:
        """Weights (window,) of one head, or the mean of the layer's heads (``head`` None)."""
        if self.attention is None:
            raise GenerationError("An LSTM has no attention.")
        layer_weights = self.attention[layer]
        return layer_weights.mean(axis=0) if head is None else layer_weights[head]

    def attention_by_note(self, layer: int, head: int | None = None) -> dict[int, float]:
        """Each earlier note's share of the attention (its tokens' weights added up); what goes to
        bar lines and the header is left out, so the shares add up to at most 1."""
        shares: dict[int, float] = {}
        for offset, weight in enumerate(self.attention_row(layer, head).tolist()):
            note = self.token_notes[self.window_start + offset]
            if note >= 0:
                shares[note] = shares.get(note, 0.0) + weight
        return shares


def sampler_probabilities(logits: np.ndarray, mask: np.ndarray,
                          config: GenerationConfig) -> np.ndarray:
    """The distribution (B, V) `musicgen.sampling` draws from, for logits (B, V) and additive
    masks (V,) or (B, V): one-hot on the best id at temperature 0."""
    import numpy as np

    from musicgen.sampling import filter_logits

    masked = (logits + mask).astype(np.float32)
    if config.temperature == 0:
        return np.eye(masked.shape[-1], dtype=np.float64)[masked.argmax(axis=-1)]
    if config.temperature != 1.0:
        masked = masked * np.float32(1.0 / config.temperature)
    return _softmax(filter_logits(masked, config.top_k, config.top_p))


def _softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def explain_note(generator: Any, melody: Melody, note_index: int, replayed: Replay | None = None,
                 states: StepStates | None = None) -> NoteInsight:
    """The candidates at a generated note of ``melody`` (no attention: `with_attention` adds it).
    ``replayed`` and ``states`` (both of this melody) save the work of earlier looks."""
    from musicgen.sampling import SAMPLING_THREADS

    rp = replayed or replay(melody)
    step = rp.step_of(note_index)
    if step < rp.seed_length:
        raise GenerationError("This note belongs to the seed: the model did not choose it.")
    engine = engine_of(generator)
    with engine.running(SAMPLING_THREADS):
        found = states.logits_at(step) if states is not None else logits_at(engine, rp.ids, step)
        candidates, pitch_probs = _candidates(engine, rp, step, found)
    chosen = next(c for c in candidates if c.chosen)
    return NoteInsight(note_index, step, engine.kind, rp.config, candidates, chosen,
                       tuple(pitch_probs.tolist()), None, found[2], rp.notes)


def with_attention(insight: NoteInsight, generator: Any, melody: Melody,
                   replayed: Replay | None = None, cache: dict | None = None) -> NoteInsight:
    """The insight with the Transformer's attention at its step (the torch model of the
    checkpoint, `TransformerModel.attention_weights`: imports torch); unchanged for an LSTM.

    With ``cache`` (a dict kept for this melody), one forward pass serves every step of a window:
    attention is causal, so the rows of a pass over the whole window are those of a pass that
    stops at the step."""
    if generator.kind != "transformer":
        return insight
    import torch

    rp = replayed or replay(melody)
    model, start, step = generator.model, insight.window_start, insight.step
    weights = cache.get(start) if cache is not None else None
    if weights is None:
        end = min(len(rp.ids), start + model.max_context) if cache is not None else step
        window = torch.tensor([list(rp.ids[start:end])], dtype=torch.long)  # (1, T)
        weights = model.attention_weights(window).float().numpy()  # (layers, heads, T, T)
        if cache is not None:
            while len(cache) >= 3:  # 16 MB a window for the shipped Transformer
                cache.pop(next(iter(cache)))
            cache[start] = weights
    attention = weights[:, :, step - 1 - start, : step - start].copy()  # the query before the note
    return replace(insight, attention=attention)


def _candidates(engine: Any, rp: Replay, step: int,
                found: tuple[Any, Any, int]) -> tuple[tuple[Candidate, ...], np.ndarray]:
    import numpy as np

    config = rp.config
    logits, state, _start = found
    tracker = rp.tracker_at(step)
    mask = rp.mask_for(tracker)
    pitch_probs = sampler_probabilities(logits[None], mask, config)[0]  # (V,)
    pitch_model = _softmax(logits + mask)
    chosen = (rp.ids[step], rp.ids[step + 1])
    order: list[int] = []
    for i in np.argsort(-pitch_probs, kind="stable")[:CANDIDATE_PITCHES].tolist():
        covered = sum(float(pitch_probs[k]) for k in order)
        if pitch_probs[i] <= 0 or (len(order) >= MIN_PITCHES and covered >= PITCH_MASS):
            break
        order.append(int(i))
    if chosen[0] not in order:
        order.append(chosen[0])
    rows = engine.select(state, np.zeros(len(order), dtype=np.int64))
    duration_logits, _ = engine.step(np.asarray(order, dtype=np.int64), rows)  # (M, V)
    masks = []
    for pitch_id in order:
        after = copy_tracker(tracker)
        if after is not None:
            after.advance(pitch_id)
        masks.append(rp.mask_for(after))
    mask_rows = np.stack(masks)  # (M, V)
    duration_probs = sampler_probabilities(duration_logits, mask_rows, config)  # (M, V)
    duration_model = _softmax(duration_logits + mask_rows)
    options = []
    for row, pitch_id in enumerate(order):
        for duration_id in np.flatnonzero(duration_probs[row] > 0).tolist() + [chosen[1]]:
            options.append(_candidate(rp, pitch_id, duration_id, chosen,
                                    float(pitch_probs[pitch_id] * duration_probs[row, duration_id]),
                                    float(pitch_model[pitch_id] * duration_model[row, duration_id])))
    return _top(options), pitch_probs


def _candidate(rp: Replay, pitch_id: int, duration_id: int, chosen: tuple[int, int],
               probability: float, model_probability: float) -> Candidate:
    encoded = VOCAB.pitch_of(pitch_id)
    return Candidate(None if encoded is None else encoded - rp.shift,
                     VOCAB.duration_of(duration_id) or 0, probability, model_probability,
                     (pitch_id, duration_id) == chosen, pitch_id, duration_id)


def _top(found: list[Candidate]) -> tuple[Candidate, ...]:
    unique = {(c.pitch_id, c.duration_id): c for c in found}
    ranked = sorted(unique.values(), key=lambda c: (-c.probability, -c.model_probability))
    shown = [c for c in ranked[:CANDIDATES_SHOWN] if c.probability > 0 or c.chosen]
    if not any(c.chosen for c in shown):
        shown.append(next(c for c in ranked if c.chosen))
    return tuple(shown)
