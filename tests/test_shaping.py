"""Shaping a continuation: picking a candidate keeps the prefix note for note; regenerating bars
keeps every note outside them, keeps bar lengths and constraints, and picks the span under which
the model best predicts what follows."""

from __future__ import annotations

import numpy as np
import pytest

from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.insight import explain_note
from musicgen.melody import Key, Melody, Meter
from musicgen.pipeline import continue_melody, load_generator
from musicgen.replay import bar_spans
from musicgen.shaping import pick_candidate, regenerate_bars
from tests.support import MODEL_KINDS

SEED = Melody.from_pitches([67, 71, 74, 71, 72, 69, 67, 66, 67, 74, 79, 74], 6, meter=Meter(2, 4),
                           key=Key(7, "major"), title="reel seed")


@pytest.fixture(scope="module", params=MODEL_KINDS)
def generator(request, tiny_checkpoints):
    return load_generator(tiny_checkpoints[request.param])


def continuation(generator, **settings) -> Melody:
    config = GenerationConfig(bars=6, rng_seed=3, temperature=1.0, **settings)
    return continue_melody(SEED, generator, config)[0]


def whole_bars(melody: Melody) -> bool:
    return all(end - start == melody.meter.bar_ticks
               for start, end in bar_spans(melody)[1:] if end <= melody.duration_ticks)


@pytest.mark.parametrize("settings", [{}, {"cadence": True, "phrase_bars": 4}, {"key_lock": True}])
def test_picking_a_candidate_keeps_the_prefix_note_for_note(generator, settings):
    melody = continuation(generator, **settings)
    generated = [i for i, n in enumerate(melody.notes)
                 if n.onset_ticks >= melody.seed_end_ticks and not n.is_rest]
    note_index = generated[3]
    insight = explain_note(generator, melody, note_index)
    other = next(c for c in insight.candidates if not c.chosen and c.probability > 0)
    edited = pick_candidate(generator, melody, note_index, other.pitch, other.duration_ticks,
                            rng_seed=1)
    assert edited.notes[:note_index] == melody.notes[:note_index]
    new = edited.notes[note_index]
    assert (new.pitch, new.onset_ticks, new.duration_ticks) == \
        (other.pitch, melody.notes[note_index].onset_ticks, other.duration_ticks)
    assert edited.duration_ticks == melody.duration_ticks and whole_bars(edited)
    assert edited.seed_end_ticks == melody.seed_end_ticks and edited.seed.notes == SEED.notes
    meta = dict(edited.metadata)
    assert meta["edits"] == "1" and meta["last_edit"].startswith("picked")
    assert meta["temperature"] == dict(melody.metadata)["temperature"]  # same settings
    if settings.get("cadence"):
        assert edited.pitched_notes[-1].pitch % 12 == SEED.key.tonic_pc
    if settings.get("key_lock"):
        assert all(SEED.key.contains(n.pitch) for n in edited.continuation.pitched_notes)
    again = pick_candidate(generator, edited, note_index, other.pitch, other.duration_ticks,
                           rng_seed=1)
    assert dict(again.metadata)["edits"] == "2"


def test_a_candidate_the_constraints_forbid_is_refused(generator):
    melody = continuation(generator)
    note_index = next(i for i, n in enumerate(melody.notes)
                      if n.onset_ticks >= melody.seed_end_ticks and not n.is_rest)
    with pytest.raises(GenerationError, match="cannot go here"):
        pick_candidate(generator, melody, note_index, 67, melody.meter.bar_ticks * 2)
    with pytest.raises(GenerationError, match="seed"):
        pick_candidate(generator, melody, 0, 67, 6)


@pytest.mark.parametrize("settings", [{}, {"key_lock": True}, {"cadence": True, "phrase_bars": 4}])
def test_regenerating_bars_keeps_every_note_outside_them(generator, settings):
    melody = continuation(generator, **settings)
    spans = bar_spans(melody)
    first = melody.bar_index(melody.seed_end_ticks) + 1
    for bars in ((first, first + 1), (len(spans) - 2, len(spans) - 1)):
        start, end = spans[bars[0]][0], spans[bars[1]][1]
        edited = regenerate_bars(generator, melody, *bars, rng_seed=11)
        assert edited.slice_ticks(0, start).notes == melody.slice_ticks(0, start).notes
        assert edited.slice_ticks(end, melody.duration_ticks).notes == \
            melody.slice_ticks(end, melody.duration_ticks).notes
        assert edited.duration_ticks == melody.duration_ticks and whole_bars(edited)
        assert edited.seed_end_ticks == melody.seed_end_ticks
        if settings.get("key_lock"):
            assert all(SEED.key.contains(n.pitch) for n in edited.continuation.pitched_notes)
        if settings.get("cadence") and end == melody.duration_ticks:
            assert edited.pitched_notes[-1].pitch % 12 == SEED.key.tonic_pc
        assert dict(edited.metadata)["last_edit"].startswith("regenerated bars")


def test_the_seeds_bars_are_not_regenerated(generator):
    melody = continuation(generator)
    with pytest.raises(GenerationError, match="continuation"):
        regenerate_bars(generator, melody, 0, 1)


def test_the_span_kept_is_the_one_that_best_predicts_the_bars_after(tiny_checkpoints, monkeypatch):
    """Every sampled span is scored independently with the torch model (its own cached step over
    prefix + span + following bars); the one regenerate_bars keeps has the fewest bits."""
    import torch

    from musicgen import shaping

    generator = load_generator(tiny_checkpoints["lstm"])
    melody = continuation(generator)
    first = melody.bar_index(melody.seed_end_ticks) + 1
    seen: dict = {}
    real = shaping._best_row

    def spy(engine, rp, prefix_ids, rows, suffix, should_stop):
        best = real(engine, rp, prefix_ids, rows, suffix, should_stop)
        seen.update(rows=rows, best=best, prefix=prefix_ids, scored=shaping._suffix_ids(suffix, rp.shift))
        return best

    monkeypatch.setattr(shaping, "_best_row", spy)
    regenerate_bars(generator, melody, first, first + 1, candidates=6, rng_seed=2)
    model = generator.model
    costs = []
    for row in seen["rows"]:
        ids = seen["prefix"] + row + seen["scored"]
        with torch.no_grad():
            logits, _ = model.step(torch.tensor([ids]), model.init_state(1))
        log_probs = torch.log_softmax(logits[0].double(), dim=-1)
        targets = range(len(ids) - len(seen["scored"]), len(ids))
        costs.append(-sum(float(log_probs[t - 1, ids[t]]) for t in targets))
    assert len(seen["rows"]) >= 2 and len(seen["scored"]) > 0
    assert seen["best"] == seen["rows"][int(np.argmin(costs))]
