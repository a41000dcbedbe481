"""The sampler's situation at any step of a generated melody: its settings, its ids, its masks, and
the model's logits there.

A generated melody records how it was made in its ``metadata`` (`GenerationConfig.provenance`:
temperature, top-k, top-p, key lock, pitch range, cadence...). `replay(melody)` turns that back into
a `Replay`: the settings (`config_from_metadata`), the melody as the vocabulary encodes it (the
seed adapted and transposed exactly as `musicgen.continuation` does), which melody note each token
belongs to, and the grammar tracker and constraint masks the sampler had in force at each step.
`logits_at(engine, ids, step)` gives the engine's next-token logits after ``ids[:step]`` over the
same window the sampler's cache held (a Transformer slides its window when the context is full).

`musicgen.insight` (why this note) and `musicgen.shaping` (pick a candidate, regenerate bars)
build on it. Torch-free: the logits come from the generator's engine (`musicgen.engine`, NumPy),
the one the sampler itself runs.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from musicgen.cadence import CadenceRule, CadenceTracker, cadence_bars
from musicgen.continuation import prepare_seed
from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.melody import Melody
from musicgen.tokens import DUR, PITCH, REST, TIE, VOCAB, GrammarTracker

__all__ = [
    "Replay",
    "banned_pitch_ids",
    "bar_spans",
    "config_from_metadata",
    "copy_tracker",
    "engine_of",
    "logits_at",
    "replay",
    "sampler_window",
    "token_notes",
]


def config_from_metadata(metadata: Sequence[tuple[str, str]]) -> GenerationConfig:
    """The sampling settings a generated melody recorded (`GenerationConfig.provenance`)."""
    meta = dict(metadata)
    values: dict[str, Any] = {}
    for name, kind in (("temperature", float), ("top_p", float), ("top_k", int),
                       ("rng_seed", int), ("bars", int)):
        if meta.get(name) not in (None, "", "None"):
            values[name] = kind(meta[name])
    for name in ("key_lock", "meter_constraint", "grammar"):
        if name in meta:
            values[name] = meta[name].lower() in ("true", "1")
    if meta.get("pitch_range"):
        low, _, high = meta["pitch_range"].partition("-")
        values["pitch_range"] = (int(low), int(high))
    cadence = meta.get("cadence", "")
    if cadence.startswith("degree"):  # "degree 1, 8-bar phrases"
        degree, _, phrases = cadence[len("degree "):].partition(",")
        values.update(cadence=True, cadence_degree=int(degree),
                      phrase_bars=int(phrases.strip().split("-")[0]))
    if meta.get("form", "").startswith("AABB"):
        values["form"] = "aabb"
    return GenerationConfig.from_dict(values)


def banned_pitch_ids(seed: Melody, shift: int, config: GenerationConfig) -> frozenset[int]:
    """Pitch ids the key lock and the pitch range forbid (as `musicgen.continuation` bans them)."""
    pitch_ids = set(VOCAB.ids_of_kind(PITCH))
    allowed = set(pitch_ids)
    if config.key_lock:
        allowed &= set(VOCAB.pitch_ids_in_mode(seed.key.mode))
    if config.pitch_range is not None:
        low, high = config.pitch_range
        allowed &= set(VOCAB.pitch_ids_between(low + shift, high + shift))
    return frozenset(pitch_ids - allowed) if allowed else frozenset()


def bar_spans(melody: Melody) -> list[tuple[int, int]]:
    """(start, end) ticks of each bar, a pickup first: list index k is `Melody.bar_index` k."""
    ends = sorted({0, melody.duration_ticks, *melody.bar_lines()})
    return [(a, b) for a, b in itertools.pairwise(ends) if b > a]


def token_notes(ids: Sequence[int], melody: Melody) -> list[int]:
    """For each id of ``VOCAB.encode(melody)``, the index in ``melody.notes`` of the note it
    spells (pitch, duration, tie), or -1 (header, bar line, end)."""
    onsets = [n.onset_ticks for n in melody.notes]
    out, cursor, current = [], 0, -1
    for token in ids:
        kind = VOCAB.kinds[token]
        if kind in (PITCH, REST):
            current = bisect.bisect_right(onsets, cursor) - 1
            out.append(current)
        elif kind == DUR:
            out.append(current)
            cursor += VOCAB.duration_of(token) or 0
        elif kind == TIE:
            out.append(current)
        else:
            out.append(-1)
    return out


@dataclass(frozen=True)
class Replay:
    """A generated melody as its sampler saw it (see the module docstring)."""

    melody: Melody  # as given (what the user sees)
    seed: Melody  # the seed as the vocabulary took it (`prepare_seed`)
    config: GenerationConfig
    shift: int  # the transposition `VOCAB.encode` applied (tonic to C)
    ids: tuple[int, ...]  # the whole melody encoded, no end token
    seed_length: int  # ids of the seed
    notes: tuple[int, ...]  # token -> melody note index (-1: header, bar line)
    banned: frozenset[int]
    degree: int | None  # the cadence's final degree, None without a cadence
    sampled_bars: int  # bars the continuation was asked for (the cadence rule counts them)
    _starts: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def step_of(self, note_index: int) -> int:
        """The index in ``ids`` of the token that starts note ``note_index`` (its pitch or rest)."""
        if not self._starts:
            for step, note in enumerate(self.notes):
                if note >= 0 and VOCAB.kinds[self.ids[step]] in (PITCH, REST):
                    self._starts.setdefault(note, step)
        if note_index not in self._starts:
            raise GenerationError(f"note {note_index} is not in the melody")
        return self._starts[note_index]

    def is_generated(self, note_index: int) -> bool:
        return self.step_of(note_index) >= self.seed_length

    def start_tracker(self, *, cadence: bool = True,
                      meter_constraint: bool | None = None) -> GrammarTracker | None:
        """The tracker right after the seed, as the sampler built it (None: no constraints).
        ``cadence=False`` leaves the closing-bar rule out; ``meter_constraint`` overrides it."""
        config = self.config
        meter = config.meter_constraint if meter_constraint is None else meter_constraint
        start = GrammarTracker.from_melody(VOCAB, self.seed, meter_constraint=meter)
        tracker: GrammarTracker | None = start if (config.grammar or meter) else None
        if self.degree is not None and cadence:
            rule = CadenceRule.for_continuation(self.sampled_bars, self.seed.key.mode, self.degree,
                                                self.seed.meter.strong_positions)
            tracker = CadenceTracker(start, rule)
        return tracker

    def tracker_at(self, step: int) -> GrammarTracker | None:
        """The tracker after ``ids[:step]`` (``step`` at or after the seed's end)."""
        tracker = self.start_tracker()
        if tracker is not None:
            for token in self.ids[self.seed_length:step]:
                tracker.advance(token)
        return tracker

    def masks(self) -> Any:
        """The sampler's `ConstraintMasks` for these settings."""
        from musicgen.sampling import ConstraintMasks

        allow_end = self.config.stop_at_end and self.degree is None
        return ConstraintMasks.shared(VOCAB, self.banned, allow_end=allow_end)

    def mask_for(self, tracker: GrammarTracker | None) -> Any:
        """The additive mask (V,) for a tracker state (None: only what never comes)."""
        masks = self.masks()
        return masks.for_tracker(tracker) if tracker is not None else masks.unconstrained


def replay(melody: Melody) -> Replay:
    """The sampler's view of a generated melody; `GenerationError` for one that was not generated
    (no seed boundary or no recorded model) or a whole AABB tune (drawn part by part)."""
    meta = dict(melody.metadata)
    if melody.seed_end_ticks is None or "model" not in meta:
        raise GenerationError("This melody was not generated here, so there is no sampling to show.")
    config = config_from_metadata(melody.metadata)
    if config.form == "aabb" or melody.form is not None:
        raise GenerationError("A whole tune in AABB form is drawn part by part and its repeats "
                              "copied; only continuations can be explained and reshaped.")
    with warnings.catch_warnings():  # the generation said it already (meter, octaves)
        warnings.simplefilter("ignore")
        seed, shift = prepare_seed(melody.seed)
    full = melody.replace(meter=seed.meter, pickup_ticks=seed.pickup_ticks, metadata=())
    seed_ids = VOCAB.encode(seed, end=False, transpose=shift)
    ids = VOCAB.encode(full, end=False, transpose=shift)
    degree = config.cadence_degree if config.cadence else None
    bars = cadence_bars(seed, config.bars, config.phrase_bars) if config.cadence and config.bars \
        else (config.bars or 0)
    return Replay(melody, seed, config, shift, tuple(ids), len(seed_ids),
                  tuple(token_notes(ids, full)), banned_pitch_ids(seed, shift, config), degree, bars)


# --- the model's logits, as the sampler computed them -----------------------------------------------
def sampler_window(consumed: int, max_context: int | None) -> int:
    """How many of the last ``consumed`` ids the sampler's state holds: all of them, or (a
    Transformer whose context filled up) the window left after its slides (it keeps the last
    ``max_context // 2`` ids each time it is full, `TransformerModel.step`)."""
    if max_context is None or consumed <= max_context:
        return consumed
    half = max_context // 2
    return half + (consumed - max_context - 1) % (max_context - half) + 1


def engine_of(generator: Any) -> Any:
    """The engine a generator samples with (`musicgen.engine`; a torch model is wrapped)."""
    from musicgen.engine import as_engine

    engine = getattr(generator, "engine", None)
    return as_engine(engine if engine is not None else getattr(generator, "model", generator))


def logits_at(engine: Any, ids: Sequence[int], step: int) -> tuple[Any, Any, int]:
    """(logits (V,) for ``ids[step]`` given ``ids[:step]``, the engine state after them, the
    window start): the numbers the sampler's cached state gave at that step. Call it inside
    ``engine.running(threads)``."""
    start = step - sampler_window(step, engine.max_context)
    logits, state = engine.run(list(ids[start:step]), engine.new_state(1))
    return logits[-1], state, start


class StepStates:
    """`logits_at` for many steps of one melody, cheaply: engine states are kept every ``every``
    ids (per window start), so after a first pass a step costs at most ``every`` ids of engine
    work (a 64-bar melody is ~1,000 ids: 80 ms from scratch on this CPU). Call inside
    ``engine.running(threads)``; not thread-safe (callers hold a lock)."""

    def __init__(self, engine: Any, ids: Sequence[int], every: int = 48) -> None:
        self.engine, self.ids, self.every = engine, list(ids), every
        self._kept: dict[int, dict[int, tuple[Any, Any]]] = {}  # start -> end -> (logits, state)

    def _copy(self, state: Any) -> Any:
        import numpy as np

        return self.engine.select(state, np.zeros(1, dtype=np.int64))

    def logits_at(self, step: int) -> tuple[Any, Any, int]:
        """As `logits_at`; the state returned is the caller's to use up."""
        start = step - sampler_window(step, self.engine.max_context)
        kept = self._kept.setdefault(start, {})
        end = max((e for e in kept if e <= step), default=start)
        logits, state = kept[end] if end in kept else (None, self.engine.new_state(1))
        state = self._copy(state) if end in kept else state
        while end < step:
            stop = min(step, (end // self.every + 1) * self.every)
            chunk, state = self.engine.run(self.ids[end:stop], state)
            logits, end = chunk[-1], stop
            if end % self.every == 0 and end not in kept:
                kept[end] = (logits, self._copy(state))
        return logits, state, start

    def warm(self, until: int | None = None) -> None:
        """Keep states along the whole melody (or up to ``until``) ahead of the first look."""
        last = len(self.ids) if until is None else until
        for step in range(self.every, last + 1, self.every):
            self.logits_at(step)


def copy_tracker(tracker: GrammarTracker | None) -> GrammarTracker | None:
    return copy.copy(tracker) if tracker is not None else None
