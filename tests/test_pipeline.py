"""Continuing melodies end to end in the library: seeds in, melodies out, constraints held over many samples."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

from musicgen.errors import Cancelled, CheckpointError, GenerationError
from musicgen.melody import Key, Melody, Meter, Note
from musicgen.library import ModelInfo, available_models
from musicgen.pipeline import GenerationConfig, continue_melody, load_generator
from musicgen.tokens import VOCAB

KINDS = ("lstm", "transformer")


def jig(pickup: int = 6, tail: int = 0) -> Melody:
    """A D-major 6/8 seed with a pickup; `tail` extra eighths leave it ending mid-bar."""
    pitches = [69, 66, 69, 69, 74, 69, 69, 71, 69, 66, 69, 71, 74, 66, 69, 69, 74, 78, 76, 74][: 1 + 12 + tail]
    return Melody.from_pitches(pitches, 6, meter=Meter(6, 8), key=Key(2, "major"), tempo_bpm=110,
                               title="jig", pickup_ticks=pickup)


def reel_in_dorian() -> Melody:
    """A 4/4 seed in A dorian (F# and G natural: the mode matters for the key lock)."""
    pitches = [69, 71, 72, 74, 76, 78, 79, 76, 74, 72, 71, 69, 67, 69, 71, 72]
    return Melody.from_pitches(pitches, 6, meter=Meter(4, 4), key=Key(9, "dorian"), title="reel")


@pytest.fixture(scope="module")
def generators(tiny_checkpoints):
    return {kind: load_generator(path) for kind, path in tiny_checkpoints.items()}


def bar_lengths(melody: Melody) -> list[int]:
    """Ticks in each complete bar of the continuation, bar lines placed by the melody's meter."""
    lines = [t for t in melody.bar_lines() if t >= melody.seed_end_ticks]
    return [b - a for a, b in zip(lines, lines[1:])] + (
        [] if not lines or melody.duration_ticks == lines[-1] else [melody.duration_ticks - lines[-1]])


# ------------------------------------------------------------------------------------- models


def test_available_models_reads_cards_without_torch(tiny_checkpoints):
    folder = tiny_checkpoints["lstm"].parent
    code = ("import sys, json; from musicgen.library import available_models; "
            f"cards = available_models({str(folder)!r}); "
            "print(json.dumps([[c.name, c.kind, c.parameters] for c in cards])); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    cards, torch_loaded = out.stdout.strip().splitlines()
    names = {name: (kind, params) for name, kind, params in json.loads(cards)}
    assert names["lstm-tiny"][0] == "lstm" and names["transformer-tiny"][0] == "transformer"
    assert all(params > 0 for _, params in names.values())
    assert torch_loaded == "False"


def test_model_card_fields(tiny_checkpoints):
    cards = {c.name: c for c in available_models(tiny_checkpoints["lstm"].parent)}
    card = cards["transformer-tiny"]
    assert isinstance(card, ModelInfo)
    assert card.corpus == "figures" and card.path == tiny_checkpoints["transformer"]
    assert card.bits_per_note is not None and card.bits_per_note > 0


def test_load_generator_by_path(generators):
    assert generators["lstm"].kind == "lstm" and generators["lstm"].name == "lstm-tiny"
    assert generators["transformer"].card.kind == "transformer"


def test_missing_and_damaged_checkpoints_are_refused(tmp_path, tiny_checkpoints):
    with pytest.raises(CheckpointError):
        load_generator(tmp_path / "nothing.safetensors")
    source = tiny_checkpoints["lstm"]
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(source.read_bytes()[:100])
    (tmp_path / "broken.json").write_text(source.with_suffix(".json").read_text())
    with pytest.raises(CheckpointError):
        load_generator(broken)


# ------------------------------------------------------------------------------------ results


@pytest.mark.parametrize("kind", KINDS)
def test_result_keeps_the_seed_and_its_context(generators, kind):
    seed = jig()
    results = continue_melody(seed, generators[kind], GenerationConfig(variations=3, bars=4,
                                                                       rng_seed=1))
    assert len(results) == 3
    for index, melody in enumerate(results, start=1):
        assert melody.seed_end_ticks == seed.duration_ticks
        assert melody.seed.notes == seed.notes
        assert (melody.key, melody.meter, melody.tempo_bpm, melody.pickup_ticks) == (
            seed.key, seed.meter, seed.tempo_bpm, seed.pickup_ticks)
        assert melody.continuation.note_count > 0
        meta = dict(melody.metadata)
        assert meta["model"] == f"{kind}-tiny" and meta["variation"] == str(index)
        assert meta["rng_seed"] == str(index) and meta["set_rng_seed"] == "1"  # its own seed
        assert meta["bars"] == "4" and meta["key_lock"] == "False"
        assert {"temperature", "top_k", "top_p", "meter_constraint"} <= set(meta)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_music_and_drawn_seeds_are_recorded(generators, kind):
    config = GenerationConfig(variations=2, bars=4, rng_seed=42)
    first = continue_melody(jig(), generators[kind], config)
    assert first == continue_melody(jig(), generators[kind], config)
    drawn = continue_melody(jig(), generators[kind], GenerationConfig(variations=2, bars=4))
    recorded = int(dict(drawn[0].metadata)["rng_seed"])
    again = continue_melody(jig(), generators[kind], GenerationConfig(variations=2, bars=4,
                                                                      rng_seed=recorded))
    assert [m.notes for m in again] == [m.notes for m in drawn]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("settings", [{}, {"top_p": 0.9, "temperature": 1.3}, {"cadence": True},
                                      {"form": "aabb", "part_bars": 4, "endings": True}])
def test_each_variation_is_reproduced_alone_by_its_own_seed(generators, kind, settings):
    """Variation i of a set seeded S records S+i-1 as its seed; that seed with one variation
    gives the same notes (each variation draws from its own generator, not its place in the batch)."""
    whole = continue_melody(jig(), generators[kind],
                            GenerationConfig(variations=4, bars=4, rng_seed=500, **settings))
    assert len({m.notes for m in whole}) > 1
    for index, melody in enumerate(whole):
        own = int(dict(melody.metadata)["rng_seed"])
        assert own == 500 + index
        alone = continue_melody(jig(), generators[kind],
                                GenerationConfig(variations=1, bars=4, rng_seed=own, **settings))
        assert alone[0].notes == melody.notes


def test_variation_seeds_wrap_within_the_seed_range():
    from musicgen.continuation import variation_seed
    from musicgen.generation import MAX_RNG_SEED

    assert variation_seed(7, 0) == 7 and variation_seed(7, 3) == 10
    assert variation_seed(MAX_RNG_SEED, 1) == 0
    GenerationConfig(rng_seed=variation_seed(MAX_RNG_SEED, 5))  # a valid seed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tail", [0, 3])
def test_bars_requested_are_added_after_completing_the_seeds_bar(generators, kind, tail):
    seed = jig(tail=tail)
    config = GenerationConfig(variations=4, bars=5, rng_seed=3, stop_at_end=False)
    for melody in continue_melody(seed, generators[kind], config):
        assert melody.bar_count == seed.bar_count + 5  # a partial last seed bar counts as one
        assert melody.duration_ticks == melody.bar_lines()[-1]  # it ends on a bar line


@pytest.mark.parametrize("kind", KINDS)
def test_every_generated_bar_has_the_meters_length(generators, kind):
    seeds = [jig(), jig(tail=3), jig(pickup=0, tail=5), reel_in_dorian(),
             Melody.from_pitches([67, 69, 71], 12, meter=Meter(3, 4), key=Key(7, "major"))]
    bars_checked = 0
    for number, seed in enumerate(seeds):
        config = GenerationConfig(temperature=1.5, variations=8, bars=6, rng_seed=number,
                                  stop_at_end=False)
        for melody in continue_melody(seed, generators[kind], config):
            lengths = bar_lengths(melody)
            assert set(lengths) == {seed.meter.bar_ticks}, (seed.meter, lengths)
            bars_checked += len(lengths)
    assert bars_checked >= 5 * 8 * 6


@pytest.mark.parametrize("kind", KINDS)
def test_key_lock_keeps_every_pitch_in_the_seeds_mode(generators, kind):
    for seed in (jig(), reel_in_dorian()):
        config = GenerationConfig(temperature=2.0, variations=16, bars=4, key_lock=True, rng_seed=5)
        pitches = [n.pitch for m in continue_melody(seed, generators[kind], config)
                   for n in m.continuation.pitched_notes]
        assert len(pitches) > 50
        assert all(seed.key.contains(p) for p in pitches), sorted({p % 12 for p in pitches})


@pytest.mark.parametrize("kind", KINDS)
def test_pitch_range_holds_with_and_without_key_lock(generators, kind):
    for key_lock in (False, True):
        config = GenerationConfig(temperature=2.0, variations=16, bars=4, pitch_range=(62, 74),
                                  key_lock=key_lock, rng_seed=6)
        pitches = [n.pitch for m in continue_melody(jig(), generators[kind], config)
                   for n in m.continuation.pitched_notes]
        assert pitches and all(62 <= p <= 74 for p in pitches)


def test_variations_differ_and_unconstrained_output_still_decodes(generators):
    config = GenerationConfig(temperature=1.5, variations=4, bars=4, grammar=False,
                              meter_constraint=False, rng_seed=8)
    results = continue_melody(jig(), generators["transformer"], config)
    assert len({m.notes for m in results}) == 4
    assert all(m.seed.notes == jig().notes for m in results)


def test_a_seed_longer_than_the_transformer_context_slides(generators):
    generator = generators["transformer"]
    long_seed = Melody.from_pitches([62, 64, 66, 67, 69, 71] * 30, 6, meter=Meter(6, 8),
                                    key=Key(2, "major"))
    assert len(VOCAB.encode(long_seed)) > 4 * generator.model.max_context
    results = continue_melody(long_seed, generator, GenerationConfig(bars=4, rng_seed=0,
                                                                     stop_at_end=False))
    assert results[0].seed.notes == long_seed.notes
    assert set(bar_lengths(results[0])) == {36}


# ------------------------------------------------------------------------------------- seeds


def test_unsupported_meter_is_adapted_with_a_warning(generators):
    seed = Melody.from_pitches([60, 62, 64, 65, 67, 69, 71], 12, meter=Meter(7, 4))
    with pytest.warns(UserWarning, match="7/4"):
        results = continue_melody(seed, generators["lstm"], GenerationConfig(bars=2, rng_seed=0))
    assert str(results[0].meter) in ("6/4", "4/2")


def test_a_seed_out_of_range_moves_by_octaves_with_a_warning(generators):
    seed = Melody.from_pitches([100, 102, 104, 105], 12, key=Key(4, "major"))
    with pytest.warns(UserWarning, match="octave"):
        results = continue_melody(seed, generators["lstm"], GenerationConfig(bars=2, rng_seed=0,
                                                                             stop_at_end=False))
    assert results[0].seed.notes == seed.notes
    # the model works an octave lower; the continuation comes back to the seed's register
    assert all(36 + 16 <= n.pitch <= 96 + 16 for n in results[0].continuation.pitched_notes)


@pytest.mark.parametrize("seed, words", [
    (Melody(notes=()), "no notes"),
    (Melody.from_pitches([None, None], 12), "only rests"),
    (Melody.from_pitches([20, 110], 12), "wider than"),
])
def test_seeds_that_cannot_be_continued_are_refused(generators, seed, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GenerationError, match=words):
            continue_melody(seed, generators["lstm"], GenerationConfig(bars=2))


def test_impossible_settings_are_refused(generators):
    with pytest.raises(GenerationError):
        continue_melody(jig(), generators["lstm"], GenerationConfig(bars=0))
    with pytest.raises(GenerationError):
        continue_melody(jig(), generators["lstm"], GenerationConfig(temperature=-1))
    with pytest.raises(GenerationError, match="range"):  # D# is not in D major
        continue_melody(jig(), generators["lstm"], GenerationConfig(key_lock=True, pitch_range=(63, 63)))


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_raises_cancelled(generators, kind):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        continue_melody(jig(), generators[kind], GenerationConfig(bars=32, stop_at_end=False),
                        should_stop=should_stop)
    assert len(calls) == 4


def test_progress_is_reported(generators):
    seen: list[float] = []
    continue_melody(jig(), generators["lstm"], GenerationConfig(bars=4, variations=2,
                                                                stop_at_end=False),
                    on_progress=lambda done, total, message: seen.append(done / total))
    assert seen[-1] == pytest.approx(1.0)


def test_tied_notes_across_bar_lines_keep_the_seed_intact(generators):
    notes = [Note(62, 0, 18), Note(66, 18, 30), Note(69, 48, 24)]  # the 66 crosses the bar line
    seed = Melody(notes=tuple(notes), meter=Meter(3, 4), key=Key(2, "major"))
    for melody in continue_melody(seed, generators["transformer"],
                                  GenerationConfig(variations=4, bars=3, rng_seed=2)):
        assert melody.seed.notes == seed.notes
        assert set(bar_lengths(melody)) == {36}


@pytest.mark.parametrize("kind", KINDS)
def test_stop_at_end_may_end_early_but_only_on_a_bar_line(generators, kind):
    config = GenerationConfig(variations=16, bars=12, stop_at_end=True, rng_seed=4)
    lengths = []
    for melody in continue_melody(jig(), generators[kind], config):
        lengths.append(melody.bar_count - jig().bar_count)
        assert melody.duration_ticks == melody.bar_lines()[-1]
        assert set(bar_lengths(melody)) <= {36}
    assert max(lengths) <= 12 and min(lengths) < 12  # the models learned tunes of a few bars


def test_fresh_seeds_are_valid_generation_seeds_and_differ():
    from musicgen.generation import MAX_RNG_SEED, GenerationConfig, fresh_seed

    seeds = {fresh_seed() for _ in range(200)}
    assert len(seeds) > 190 and all(0 <= s <= MAX_RNG_SEED for s in seeds)
    GenerationConfig(rng_seed=max(seeds))  # accepted as a seed a user could type
