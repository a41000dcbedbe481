"""Shaping a generated continuation: take another candidate at a note, or regenerate chosen bars.

- `pick_candidate(generator, melody, note_index, pitch, duration_ticks)`: everything before the
  note stays note for note, the note becomes the candidate, and the model continues from there
  with the melody's own settings (`musicgen.replay`) to the same length, under the same
  constraints (the cadence included).
- `regenerate_bars(generator, melody, first_bar, last_bar)`: only the generated part of those bars
  changes; everything after them stays. `REGENERATE_CANDIDATES` spans are sampled from the left
  context as one batch, each exactly as many whole bars (the meter constraint is on, whatever the
  melody was made with, so nothing after the span moves); spans equal to the current one are
  dropped (the user asked for something else) and, of the rest, the one kept is the one under which
  the model best predicts the bars that follow (the fewest bits for the next `SCORE_BARS` bars),
  so the join sounds natural. A span that ends the tune is judged by its own bits instead, and
  keeps the cadence rule when the melody had one.

Both record the edit in the melody's ``metadata`` (``edits``: how many; ``last_edit``: what).
Torch-free: sampling and scoring run on the generator's engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from musicgen.cadence import CadenceTracker
from musicgen.errors import GenerationError
from musicgen.generation import fresh_seed
from musicgen.melody import Melody, Note, pitch_to_name
from musicgen.progress import ProgressFn, StopFn, check_stop, report
from musicgen.replay import Replay, bar_spans, engine_of, replay
from musicgen.tokens import BAR, PITCH, TIE, VOCAB

__all__ = ["REGENERATE_CANDIDATES", "SCORE_BARS", "pick_candidate", "regenerate_bars"]

REGENERATE_CANDIDATES = 8  # spans sampled per regeneration, one batch
SCORE_BARS = 4  # bars after the span whose likelihood picks the span
_LN2 = float(np.log(2.0))


def _edited(melody: Melody, result: Melody, what: str, rng_seed: int) -> Melody:
    edits = int(dict(melody.metadata).get("edits", "0")) + 1
    return result.replace(seed_end_ticks=melody.seed_end_ticks, metadata=melody.metadata,
                          form=None).with_metadata(edits=edits, last_edit=what,
                                                   edit_rng_seed=rng_seed)


def _decode(rp: Replay, ids: list[int], start: int, end: int) -> Melody:
    """The ids decoded in the melody's key, cut to ticks start..end."""
    decoded = VOCAB.decode(ids, transpose=-rp.shift)
    return decoded.slice_ticks(start, end)


def _bars_between(melody: Melody, start: int, end: int, *, include_start: bool) -> int:
    """Bar lines from ``start`` (excluded unless ``include_start``) up to ``end`` included."""
    return sum(1 for t in melody.bar_lines()
               if (start <= t if include_start else start < t) and t <= end)


def _sample(rp: Replay, prefix_ids: list[int], tracker: Any, bars: int, variations: int,
            rng_seed: int, on_progress: ProgressFn | None, should_stop: StopFn | None,
            engine: Any) -> list[list[int]]:
    from musicgen.sampling import generate_ids

    cadence = isinstance(tracker, CadenceTracker)
    config = rp.config.replace(bars=bars, variations=variations, max_tokens=None, cadence=cadence,
                               max_notes=None, stop_at_end=False)
    return generate_ids(engine, prefix_ids, config, tracker=tracker, banned_ids=rp.banned,
                        rng=np.random.default_rng(rng_seed), on_progress=on_progress,
                        should_stop=should_stop)


# --- pick a candidate -----------------------------------------------------------------------------
def pick_candidate(generator: Any, melody: Melody, note_index: int, pitch: int | None,
                   duration_ticks: int, *, rng_seed: int | None = None,
                   on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> Melody:
    """``melody`` with note ``note_index`` replaced by the candidate and continued from there."""
    rp = replay(melody)
    step = rp.step_of(note_index)
    if step < rp.seed_length:
        raise GenerationError("Only generated notes can be changed; this one is the seed's.")
    note = melody.notes[note_index]
    pitch_id = VOCAB.rest_id if pitch is None else VOCAB.pitch_id(pitch + rp.shift)
    duration_id = VOCAB.duration_id(duration_ticks)
    tracker = rp.tracker_at(step)
    for token in (pitch_id, duration_id):
        if tracker is not None:
            if not np.isfinite(rp.mask_for(tracker)[token]):
                raise GenerationError("That note cannot go here under the melody's constraints.")
            tracker.advance(token)
    prefix_ids = list(rp.ids[:step]) + [pitch_id, duration_id]
    end = note.onset_ticks + duration_ticks
    head = melody.slice_ticks(0, note.onset_ticks)
    head = Melody(head.notes + (Note(pitch, note.onset_ticks, duration_ticks),), **_context(melody))
    bars = _bars_between(melody, end, melody.duration_ticks, include_start=True)
    seed = fresh_seed() if rng_seed is None else rng_seed
    if bars == 0:
        tail = Melody((), **_context(melody))
    else:
        row = _sample(rp, prefix_ids, tracker, bars, 1, seed, on_progress, should_stop,
                      engine_of(generator))[0]
        decoded = VOCAB.decode(prefix_ids + row, transpose=-rp.shift)
        tail = decoded.slice_ticks(end, decoded.duration_ticks)
    what = f"picked {_name(pitch)} at bar {_bar_number(melody, note.onset_ticks)}"
    return _edited(melody, head.concatenated(tail), what, seed)


def _context(melody: Melody) -> dict[str, Any]:
    return {"meter": melody.meter, "key": melody.key, "tempo_bpm": melody.tempo_bpm,
            "title": melody.title, "pickup_ticks": melody.pickup_ticks,
            "seed_end_ticks": melody.seed_end_ticks, "metadata": melody.metadata}


def _name(pitch: int | None) -> str:
    return "a rest" if pitch is None else pitch_to_name(pitch)


def _bar_number(melody: Melody, tick: int) -> int:
    return melody.bar_index(tick) + (0 if melody.pickup_ticks else 1)


# --- regenerate bars ------------------------------------------------------------------------------
def regenerate_bars(generator: Any, melody: Melody, first_bar: int, last_bar: int, *,
                    candidates: int = REGENERATE_CANDIDATES, rng_seed: int | None = None,
                    on_progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> Melody:
    """``melody`` with the generated notes of bars ``first_bar``..``last_bar`` (`bar_spans`
    indices: a pickup is 0) sampled again; every note outside them kept."""
    rp = replay(melody)
    spans = bar_spans(melody)
    first_bar, last_bar = max(0, min(first_bar, last_bar)), min(len(spans) - 1, max(first_bar, last_bar))
    start = max(spans[first_bar][0], melody.seed_end_ticks or 0)
    end = spans[last_bar][1]
    if end <= start:
        raise GenerationError("Select bars of the continuation: the seed's bars stay as they are.")
    at_end = end >= melody.duration_ticks
    prefix = melody.slice_ticks(0, start).replace(meter=rp.seed.meter)
    prefix_ids = VOCAB.encode(prefix, end=False, transpose=rp.shift)
    tracker = rp.start_tracker(cadence=at_end, meter_constraint=True)
    if tracker is not None:
        for token in prefix_ids[rp.seed_length:]:
            tracker.advance(token)
    bars = _bars_between(melody, start, end, include_start=False)
    seed = fresh_seed() if rng_seed is None else rng_seed
    engine = engine_of(generator)
    rows = _sample(rp, prefix_ids, tracker, bars, candidates, seed, on_progress, should_stop, engine)
    current = melody.slice_ticks(start, end).notes
    rows = [r for r in rows if _decode(rp, prefix_ids + r, start, end).notes != current] or rows
    suffix = melody.slice_ticks(end, melody.duration_ticks)
    best = _best_row(engine, rp, prefix_ids, rows, suffix, should_stop)
    span = _decode(rp, prefix_ids + best, start, end)
    if span.duration_ticks != end - start:
        raise GenerationError("The regenerated bars came out of the wrong length; try again.")
    head = melody.slice_ticks(0, start)
    what = f"regenerated bars {_bar_number(melody, start)}-{_bar_number(melody, end - 1)}"
    report(on_progress, 1, 1, "regenerated")
    return _edited(melody, head.concatenated(span).concatenated(suffix), what, seed)


def _suffix_ids(suffix: Melody, shift: int) -> list[int]:
    """The body ids of the bars after the span (header left out), up to `SCORE_BARS` bar lines."""
    if not suffix.notes:
        return []
    body = VOCAB.encode(suffix, end=False, transpose=shift)[3:]
    bar_lines = [i for i, token in enumerate(body) if VOCAB.kinds[token] == BAR]
    return body[: bar_lines[SCORE_BARS - 1] + 1] if len(bar_lines) >= SCORE_BARS else body


def _best_row(engine: Any, rp: Replay, prefix_ids: list[int], rows: list[list[int]],
              suffix: Melody, should_stop: StopFn | None) -> list[int]:
    """The row under which the model best predicts the suffix (or, with none, itself)."""
    from musicgen.replay import logits_at
    from musicgen.sampling import SAMPLING_THREADS

    scored = _suffix_ids(suffix, rp.shift)
    with engine.running(SAMPLING_THREADS):
        last, state, _ = logits_at(engine, prefix_ids, len(prefix_ids))
        costs = []
        for row in rows:
            check_stop(should_stop, "regenerating bars")
            judged = scored or row
            logits, _ = engine.run(row + scored, engine.select(state, np.zeros(1, np.int64)))
            before = np.vstack([last[None], logits[:-1]])[-len(judged):]  # predicts each judged id
            costs.append(_bits_per_note(before, judged))
    return rows[int(np.argmin(costs))]


def _bits_per_note(logits: np.ndarray, ids: list[int]) -> float:
    """-log2 p of ``ids`` under ``logits`` (T, V) at temperature 1, per note (at least one)."""
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1))
    bits = float((log_norm - shifted[np.arange(len(ids)), ids]).sum()) / _LN2
    notes = sum(1 for i, token in enumerate(ids)
                if VOCAB.kinds[token] == PITCH and (i == 0 or VOCAB.kinds[ids[i - 1]] != TIE))
    return bits / max(1, notes)

