"""Sampling ids from tiny trained models: filters, reproducibility, greedy, diversity, constraints, cancel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from musicgen.checkpoint import load_checkpoint
from musicgen.engine import engine_from_model
from musicgen.engine.choose import Uniforms
from musicgen.errors import Cancelled, GenerationError
from musicgen.melody import Key, Melody, Meter
from musicgen.generation import GenerationConfig
from musicgen.sampling import choose_next, filter_logits, generate_ids
from musicgen.tokens import BAR, DUR, EOS, PITCH, VOCAB, GrammarTracker

KINDS = ("lstm", "transformer")
SEED = Melody.from_pitches([62, 64, 66, 67, 69, 67, 66, 64, 62, 66, 69, 74], 6, meter=Meter(6, 8),
                           key=Key(2, "major"), pickup_ticks=6)


@pytest.fixture(scope="module")
def torch_models(tiny_checkpoints):
    return {kind: load_checkpoint(path, expected_tokens=list(VOCAB.tokens))[0]
            for kind, path in tiny_checkpoints.items()}


@pytest.fixture(scope="module")
def models(torch_models):
    """What users sample from: the NumPy engines of the tiny checkpoints."""
    return {kind: engine_from_model(model) for kind, model in torch_models.items()}


def seed_ids() -> list[int]:
    return VOCAB.encode(SEED, end=False)


def tracker() -> GrammarTracker:
    return GrammarTracker.from_melody(VOCAB, SEED)


def sampling_config(max_bars: int | None = 8, max_tokens: int = 4096, stop_at_end: bool = True,
                    **settings) -> GenerationConfig:
    """The one GenerationConfig with the limits these sampler tests were written for: a row stops
    at the end token, and runs to 4096 tokens unless bars or notes stop it first."""
    return GenerationConfig(bars=max_bars, max_tokens=max_tokens, stop_at_end=stop_at_end, **settings)


def sample(model, config: GenerationConfig, rng_seed: int = 0, **kwargs) -> list[list[int]]:
    return generate_ids(model, seed_ids(), config, tracker=kwargs.pop("tracker", tracker()),
                        rng=np.random.default_rng(rng_seed), **kwargs)


# ------------------------------------------------------------------------------------ filters


def test_top_k_keeps_the_k_largest_logits():
    logits = np.array([[1.0, 5.0, 3.0, 4.0, 2.0]], np.float32)
    kept = np.isfinite(filter_logits(logits, top_k=2))
    assert kept.tolist() == [[False, True, False, True, False]]


def test_top_p_keeps_the_smallest_nucleus_reaching_p():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], np.float32))
    assert np.isfinite(filter_logits(logits, top_p=0.8)).tolist() == [[True, True, False, False]]
    assert np.isfinite(filter_logits(logits, top_p=0.81)).tolist() == [[True, True, True, False]]
    assert np.isfinite(filter_logits(logits, top_p=0.1)).tolist() == [[True, False, False, False]]


def test_filters_keep_each_rows_own_choice():
    logits = np.array([[1.0, 5.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]], np.float32)
    assert np.isfinite(filter_logits(logits, top_k=1)).tolist() == [[False, True, False, False],
                                                                     [True, False, False, False]]


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_draws_follow_the_tempered_softmax_and_never_a_masked_id(temperature):
    probs = np.array([0.5, 0.3, 0.15, 0.05, 0.0])
    with np.errstate(divide="ignore"):
        logits = np.log(probs).astype(np.float32)  # the last id is -inf: forbidden
    noise = Uniforms(np.random.default_rng(3), 40000)
    drawn = choose_next(np.tile(logits, (40000, 1)), temperature, 0, 1.0, noise)
    counts = np.bincount(drawn, minlength=5) / drawn.size
    expected = probs ** (1 / temperature)
    expected /= expected.sum()
    assert counts[4] == 0
    assert np.allclose(counts, expected, atol=0.01)


@pytest.mark.parametrize("field, value", [("temperature", -1.0), ("top_k", -1), ("top_p", 0.0),
                                          ("top_p", 1.5), ("variations", 0), ("bars", 0)])
def test_bad_settings_are_refused(field, value):
    with pytest.raises(GenerationError):
        GenerationConfig(**{field: value})


# ------------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("kind", KINDS)
def test_same_rng_seed_gives_the_same_ids(models, kind):
    config = sampling_config(max_bars=4, variations=3)
    assert sample(models[kind], config, 11) == sample(models[kind], config, 11)
    assert sample(models[kind], config, 11) != sample(models[kind], config, 12)


@pytest.mark.parametrize("kind", KINDS)
def test_a_torch_model_and_a_torch_generator_still_sample(torch_models, kind):
    """Evaluation passes a torch model and a freshly seeded torch.Generator: reproducible too."""
    config = sampling_config(max_bars=2, variations=2)

    def draw(seed: int) -> list[list[int]]:
        return generate_ids(torch_models[kind], seed_ids(), config, tracker=tracker(),
                            rng=torch.Generator().manual_seed(seed))

    assert draw(5) == draw(5) != draw(6)


@pytest.mark.parametrize("kind", KINDS)
def test_top_k_one_is_greedy(models, kind):
    greedy = sample(models[kind], sampling_config(temperature=0, max_bars=4), 1)
    top1 = sample(models[kind], sampling_config(temperature=1.0, top_k=1, max_bars=4), 2)
    assert greedy == top1


@pytest.mark.parametrize("kind", KINDS)
def test_cached_batched_state_matches_full_recompute(models, kind):
    """The KV cache / LSTM state path gives the same greedy ids as running forward every step."""
    cached = sample(models[kind], sampling_config(temperature=0, max_bars=3, variations=2))
    recomputed = sample(models[kind], sampling_config(temperature=0, max_bars=3, variations=2),
                        use_cache=False)
    assert cached == recomputed
    assert cached[0] == cached[1]  # greedy rows of one batch agree


@pytest.mark.parametrize("kind", KINDS)
def test_higher_temperature_gives_more_diverse_variations(models, kind):
    def distinct(temperature: float) -> tuple[int, int]:
        """(different tokens used, different variations) among 16 variations of 24 tokens."""
        config = sampling_config(temperature=temperature, max_bars=None, max_tokens=24, variations=16)
        rows = sample(models[kind], config, 5)
        return len({t for row in rows for t in row}), len({tuple(row) for row in rows})

    (cold_tokens, cold_rows), (warm_tokens, warm_rows), (hot_tokens, hot_rows) = (
        distinct(0.05), distinct(1.0), distinct(3.0))
    assert cold_tokens < warm_tokens < hot_tokens
    assert cold_rows <= warm_rows <= hot_rows == 16


@pytest.mark.parametrize("kind", KINDS)
def test_variations_differ(models, kind):
    rows = sample(models[kind], sampling_config(max_bars=4, variations=4), 3)
    assert len({tuple(row) for row in rows}) == 4


# ---------------------------------------------------------------------------------- constraints


def bar_lengths(rows: list[list[int]], start: GrammarTracker) -> list[int]:
    """The length in ticks of every bar closed by a generated bar line (the first one completes the
    seed's last bar, so it is counted from the seed's position)."""
    lengths = []
    for row in rows:
        position = start.position
        for token in row:
            if VOCAB.kinds[token] == DUR:
                position += VOCAB.duration_of(token)
            elif VOCAB.kinds[token] == BAR:
                lengths.append(position)
                position = 0
    return lengths


@pytest.mark.parametrize("kind", KINDS)
def test_meter_constraint_makes_every_bar_exact(models, kind):
    start = tracker()
    rows = sample(models[kind], sampling_config(temperature=1.5, max_bars=6, variations=24), 8,
                  tracker=start)
    lengths = bar_lengths(rows, start)
    assert len(lengths) >= 24 * 3
    assert set(lengths) == {SEED.meter.bar_ticks}


@pytest.mark.parametrize("kind", KINDS)
def test_every_constrained_sample_decodes_to_the_grammar(models, kind):
    rows = sample(models[kind], sampling_config(temperature=2.0, max_bars=4, variations=16), 4)
    for row in rows:
        check = tracker()
        for token in row:
            assert token in check.allowed()
            check.advance(token)


@pytest.mark.parametrize("kind", KINDS)
def test_banned_pitches_are_never_sampled(models, kind):
    allowed = set(VOCAB.pitch_ids_in_mode("major")) & set(VOCAB.pitch_ids_between(60, 72))
    banned = set(VOCAB.ids_of_kind(PITCH)) - allowed
    rows = sample(models[kind], sampling_config(temperature=2.0, max_bars=4, variations=16), 6,
                  banned_ids=banned)
    pitches = [t for row in rows for t in row if VOCAB.kinds[t] == PITCH]
    assert pitches and set(pitches) <= allowed


@pytest.mark.parametrize("kind", KINDS)
def test_without_the_grammar_the_model_samples_freely(models, kind):
    rows = sample(models[kind], sampling_config(temperature=3.0, max_bars=None, max_tokens=40,
                                               variations=8, stop_at_end=False), 2, tracker=None)
    kinds_seen = {VOCAB.kinds[t] for row in rows for t in row}
    assert len(kinds_seen) >= 3
    assert all(len(row) == 40 for row in rows)


def test_note_limit_and_no_end_token(models):
    rows = sample(models["lstm"], sampling_config(max_bars=None, max_notes=10, variations=4,
                                                 stop_at_end=False), 9)
    for row in rows:
        assert EOS not in row
        assert VOCAB.note_count(row) <= 10
        assert VOCAB.kinds[row[-1]] == DUR
        assert sum(VOCAB.kinds[t] == PITCH for t in row) >= 10


# ----------------------------------------------------------------------------- progress, cancel


class StepCounter:
    """The real model, counting how many times `step` runs (a spy, not a stand-in)."""

    def __init__(self, model) -> None:
        self.model, self.steps = model, 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def step(self, ids, state):
        self.steps += 1
        return self.model.step(ids, state)


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_stops_within_one_step(models, kind):
    spy = StepCounter(models[kind])
    asked = {"n": 0}

    def should_stop() -> bool:
        asked["n"] += 1
        return asked["n"] > 5

    with pytest.raises(Cancelled):
        sample(spy, sampling_config(max_bars=50, stop_at_end=False), 0, should_stop=should_stop)
    assert spy.steps <= 6  # the prefill and at most five single-token steps
    assert asked["n"] == 6


def test_progress_rises_to_one(models):
    seen: list[float] = []
    sample(models["transformer"], sampling_config(max_bars=4, variations=2, stop_at_end=False), 0,
           on_progress=lambda done, total, message: seen.append(done / total))
    assert seen and seen[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-9 for a, b in zip(seen, seen[1:]))
    assert all(0.0 <= f <= 1.0 and not math.isnan(f) for f in seen)


def test_training_mode_is_restored(torch_models):
    model = torch_models["lstm"]
    model.train()
    sample(model, sampling_config(max_bars=1))
    assert model.training
    model.eval()


def test_empty_seed_is_refused(models):
    with pytest.raises(GenerationError):
        generate_ids(models["lstm"], [], sampling_config())


def test_torch_threads_are_restored(torch_models):
    before = torch.get_num_threads()
    seen = []
    sample(torch_models["lstm"], sampling_config(max_bars=1), threads=1,
           on_progress=lambda *_: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before


class Float64Steps:
    """The real engine, its steps' logits handed on in float64 with two ids 1e-10 apart at the
    top (equal in float32): what an engine computing in double precision would return."""

    def __init__(self, model, low: int, high: int) -> None:
        self.model, self.low, self.high = model, low, high

    def __getattr__(self, name):
        return getattr(self.model, name)

    def step(self, ids, state):
        logits, state = self.model.step(ids, state)
        out = np.zeros(logits.shape, np.float64)
        out[:, self.low], out[:, self.high] = 5.0, 5.0 + 1e-10
        return out, state


def test_steps_are_drawn_from_in_the_logits_own_precision(models):
    """A step's logits plus masks keep the logits' type (float64 here, though the seed's logits
    were float32): greedy takes the id that is larger only in float64."""
    low, high = VOCAB.pitch_id(60), VOCAB.pitch_id(62)
    engine = Float64Steps(models["lstm"], low, high)
    ids = sample(engine, sampling_config(max_bars=None, max_tokens=6, stop_at_end=False,
                                         temperature=0), tracker=None)[0]
    assert ids[1:] == [high] * 5  # the first id comes from the seed's own (float32) logits
