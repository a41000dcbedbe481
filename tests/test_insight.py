"""Why this note: the candidates equal the sampler's own distribution at the step (checked against
an independent computation from the checkpoint), and the attention equals the model's own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.insight import explain_note, with_attention
from musicgen.melody import Key, Melody, Meter
from musicgen.pipeline import continue_melody, load_generator
from musicgen.replay import config_from_metadata, logits_at, replay, sampler_window
from tests.support import MODEL_KINDS
from tests.support.sampler_reference import reference_step

SEED = Melody.from_pitches([62, 66, 69, 66, 67, 71, 74, 71, 69, 66, 62, 66], 6, meter=Meter(6, 8),
                           key=Key(2, "major"), title="test seed")
CONFIGS = {
    "plain": GenerationConfig(bars=3, rng_seed=5, temperature=0.8),
    "filtered": GenerationConfig(bars=3, rng_seed=9, temperature=1.3, top_k=12, top_p=0.9,
                                 key_lock=True),
    "cadence": GenerationConfig(bars=2, rng_seed=4, cadence=True, phrase_bars=4),
}


def generated_notes(melody: Melody) -> list[int]:
    return [i for i, n in enumerate(melody.notes)
            if n.onset_ticks >= melody.seed_end_ticks and not n.is_rest]


@pytest.fixture(scope="module", params=MODEL_KINDS)
def generator(request, tiny_checkpoints):
    return load_generator(tiny_checkpoints[request.param])


@pytest.mark.parametrize("setting", sorted(CONFIGS))
def test_candidates_are_the_samplers_distribution_at_that_step(generator, setting):
    config = CONFIGS[setting]
    melody = continue_melody(SEED, generator, config)[0]
    for note_index in generated_notes(melody)[:4] + generated_notes(melody)[-2:]:
        insight = explain_note(generator, melody, note_index)
        reference = reference_step(generator.card.path, melody, note_index, config)
        np.testing.assert_allclose(insight.pitch_probabilities, reference.pitch, atol=2e-5)
        for candidate in insight.candidates:
            assert candidate.probability == pytest.approx(
                reference.probability(candidate.pitch_id, candidate.duration_id), abs=2e-5)
        chosen = melody.notes[note_index]
        assert insight.chosen.pitch == chosen.pitch and insight.chosen.chosen
        assert insight.chosen.probability > 0  # the sampler drew it, so it was possible
        assert insight.chosen.surprisal_bits == pytest.approx(-math.log2(insight.chosen.probability))
        probabilities = [c.probability for c in insight.candidates]
        assert sum(probabilities) <= 1 + 1e-6
        assert probabilities[:-1] == sorted(probabilities[:-1], reverse=True) or \
            insight.candidates[-1].chosen


def test_key_lock_rules_out_pitches_outside_the_scale(generator):
    melody = continue_melody(SEED, generator, CONFIGS["filtered"])[0]
    for note_index in generated_notes(melody)[:3]:
        for candidate in explain_note(generator, melody, note_index).candidates:
            if candidate.pitch is not None and candidate.probability > 0:
                assert SEED.key.contains(candidate.pitch)


def test_attention_sums_to_one_and_is_the_models_own(tiny_checkpoints):
    import torch

    generator = load_generator(tiny_checkpoints["transformer"])
    melody = continue_melody(SEED, generator, CONFIGS["plain"])[0]
    rp = replay(melody)
    for note_index in generated_notes(melody)[:2] + generated_notes(melody)[-1:]:
        insight = with_attention(explain_note(generator, melody, note_index), generator, melody)
        layers, heads, window = insight.attention.shape
        assert window == insight.step - insight.window_start <= generator.model.max_context
        np.testing.assert_allclose(insight.attention.sum(axis=-1), np.ones((layers, heads)),
                                   atol=1e-5)
        ids = torch.tensor([list(rp.ids[insight.window_start:insight.step])])
        own = generator.model.attention_weights(ids)[:, :, -1, :].numpy()
        np.testing.assert_allclose(insight.attention, own, atol=1e-6)
        shares = insight.attention_by_note(layers - 1)
        assert all(index < note_index for index in shares)  # only earlier notes
        assert 0 < sum(shares.values()) <= 1 + 1e-6
        averaged = insight.attention_by_note(0, None)
        assert averaged.keys() == insight.attention_by_note(0, 0).keys() | averaged.keys()


def test_an_lstm_has_no_attention(tiny_checkpoints):
    generator = load_generator(tiny_checkpoints["lstm"])
    melody = continue_melody(SEED, generator, CONFIGS["plain"])[0]
    insight = with_attention(explain_note(generator, melody, generated_notes(melody)[0]),
                             generator, melody)
    assert insight.attention is None and insight.layers == 0
    with pytest.raises(GenerationError, match="no attention"):
        insight.attention_by_note(0)


def test_logits_follow_the_samplers_sliding_window():
    """Past the context, the cached sampler keeps the last half and slides again when full: the
    logits `logits_at` gives equal those of the running cache, token by token."""
    from musicgen.engine import engine_from_model
    from musicgen.models import build_model, model_config
    from musicgen.tokens import VOCAB

    model = build_model("transformer", model_config("transformer", VOCAB.size, "tiny", max_len=12),
                        VOCAB.token_ticks())
    engine = engine_from_model(model)
    rng = np.random.default_rng(0)
    ids = [int(i) for i in rng.integers(3, VOCAB.size, 40)]
    logits, state = engine.run(ids[:5], engine.new_state(1))
    for consumed in range(5, 40):
        if consumed > 5:
            step_logits, state = engine.step(np.array([ids[consumed - 1]]), state)
            logits = step_logits
        replayed, _, start = logits_at(engine, ids, consumed)
        assert consumed - start == sampler_window(consumed, 12) <= 12
        np.testing.assert_allclose(replayed, logits[-1], atol=1e-5)


def test_settings_are_read_back_from_the_metadata():
    config = GenerationConfig(temperature=0.7, top_k=5, top_p=0.8, bars=6, key_lock=True,
                              pitch_range=(55, 80), cadence=True, cadence_degree=5, phrase_bars=4)
    metadata = tuple((k, str(v)) for k, v in config.provenance(123).items())
    again = config_from_metadata(metadata)
    for name in ("temperature", "top_k", "top_p", "bars", "key_lock", "pitch_range", "cadence",
                 "cadence_degree", "phrase_bars", "meter_constraint"):
        assert getattr(again, name) == getattr(config, name), name
    assert again.rng_seed == 123


def test_seed_notes_and_unsampled_melodies_are_refused(generator):
    melody = continue_melody(SEED, generator, CONFIGS["plain"])[0]
    with pytest.raises(GenerationError, match="seed"):
        explain_note(generator, melody, 0)
    with pytest.raises(GenerationError, match="not generated"):
        explain_note(generator, SEED, 3)
