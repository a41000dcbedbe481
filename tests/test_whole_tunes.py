"""Whole tunes: continuations that end on a cadence, and tunes in AABB form whose ABC shows the repeats.

The tiny models of tests/conftest.py are barely trained: the cadence and the form must hold because
the sampler enforces them, not because the model is good.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musicgen.cadence import CadenceRule, CadenceTracker, cadence_bars
from musicgen.cli import main
from musicgen.errors import SettingsError
from musicgen.io import read_melody
from musicgen.io.abc_writer import melody_to_abc
from musicgen.melody import MODE_INTERVALS, Key, Melody, Meter
from musicgen.pipeline import GenerationConfig, continue_melody, load_generator
from musicgen.tokens import VOCAB, GrammarTracker
from musicgen.whole_tune import header_seed

KINDS = ("lstm", "transformer")
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def generators(tiny_checkpoints):
    return {kind: load_generator(path) for kind, path in tiny_checkpoints.items()}


def jig(bars_of_eighths: int = 4, tail: int = 0) -> Melody:
    """A G-major 6/8 seed with an eighth pickup; `tail` extra eighths end it mid-bar."""
    line = [67, 69, 67, 67, 69, 71, 69, 71, 69, 69, 71, 74]
    pitches = [62] + (line * 4)[: 6 * bars_of_eighths + tail]
    return Melody.from_pitches(pitches, 6, meter=Meter(6, 8), key=Key(7, "major"), pickup_ticks=6)


def reel() -> Melody:
    return Melody.from_pitches([62, 66, 69, 66, 62, 66, 69, 74] * 2, 6, meter=Meter(4, 4),
                               key=Key(2, "dorian"))


def waltz() -> Melody:
    return Melody.from_pitches([67, 71, 74, 72, 71, 69], 12, meter=Meter(3, 4), key=Key(7, "major"))


def bar_lengths(melody: Melody) -> list[int]:
    lines = melody.bar_lines()
    return [b - a for a, b in zip(lines, lines[1:])]


def assert_cadence(melody: Melody, degree: int = 1) -> None:
    bar = melody.meter.bar_ticks
    assert (melody.duration_ticks - melody.pickup_ticks) % bar == 0, "the last bar is complete"
    last = melody.notes[-1]
    assert last.pitch is not None, "the tune ends on a note, not a rest"
    wanted = (melody.key.tonic_pc + MODE_INTERVALS[melody.key.mode][degree - 1]) % 12
    assert last.pitch % 12 == wanted
    assert (last.onset_ticks - melody.pickup_ticks) % bar in melody.meter.strong_positions
    assert last.end_ticks == melody.duration_ticks
    assert set(bar_lengths(melody.slice_ticks(0, melody.duration_ticks))) == {bar}


# ------------------------------------------------------------------------------------- cadence


def test_the_phrase_boundary_is_counted_from_the_first_full_bar():
    assert cadence_bars(jig(4), 8, 8) == 16 - 4  # 4 bars after the pickup, 8 asked: end at bar 16
    assert cadence_bars(jig(4), 8, 4) == 12 - 4
    assert cadence_bars(jig(4, tail=2), 8, 8) == 16 - 4  # mid-bar: bar 5 completes, then 8 more
    assert cadence_bars(jig(8), 8, 8) == 8  # a seed ending on a phrase boundary gets a whole phrase


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed_name", ["jig", "jig-mid-bar", "reel", "waltz"])
def test_every_sample_ends_on_the_tonic_at_the_phrase_end(generators, kind, seed_name):
    seed = {"jig": jig(4), "jig-mid-bar": jig(3, tail=4), "reel": reel(), "waltz": waltz()}[seed_name]
    config = GenerationConfig(bars=8, variations=8, cadence=True, temperature=1.5, rng_seed=0)
    for rng_seed in range(6):
        for melody in continue_melody(seed, generators[kind], config.replace(rng_seed=rng_seed)):
            assert melody.notes[: len(seed.notes)] == seed.notes
            full_bars = (melody.duration_ticks - melody.pickup_ticks) // melody.meter.bar_ticks
            assert full_bars % 8 == 0 and full_bars >= 8
            assert_cadence(melody)


@pytest.mark.parametrize("kind", KINDS)
def test_a_chosen_degree_and_four_bar_phrases(generators, kind):
    config = GenerationConfig(bars=2, variations=8, cadence=True, cadence_degree=5, phrase_bars=4,
                              rng_seed=11, temperature=1.5)
    for melody in continue_melody(jig(4), generators[kind], config):
        assert (melody.duration_ticks - melody.pickup_ticks) // melody.meter.bar_ticks == 8
        assert_cadence(melody, degree=5)


def test_without_the_option_the_continuation_stops_at_the_bars_asked(generators):
    melody = continue_melody(jig(4), generators["lstm"], GenerationConfig(bars=3, rng_seed=1))[0]
    assert (melody.duration_ticks - melody.pickup_ticks) // melody.meter.bar_ticks == 7


def test_in_the_closing_bar_only_the_final_pitch_may_start_on_the_last_strong_beat():
    start = GrammarTracker(VOCAB, Meter(6, 8), 0, expect="bar")
    tracker = CadenceTracker(start, CadenceRule(final_bar=0, final_pitch_class=0, strong=(0, 18)))
    for token in ("P:62", "D:6", "P:64", "D:12"):  # D then E: 18 ticks, the last strong beat
        assert VOCAB.id(token) in tracker.allowed()
        tracker.advance(VOCAB.id(token))
    allowed = {VOCAB.tokens[i] for i in tracker.allowed()}
    assert allowed == {f"P:{p}" for p in range(36, 97) if p % 12 == 0}
    tracker.advance(VOCAB.id("P:60"))
    assert [VOCAB.tokens[i] for i in tracker.allowed()] == ["D:18"]  # it lasts to the bar line


def test_cached_masks_tell_a_final_pitch_from_a_passing_one():
    """The sampler caches masks by state key: after the tonic and after another pitch on the same
    strong beat, the allowed durations differ, so the keys must too (a shared cache once let a
    passing pitch take the final note's length)."""
    from musicgen.sampling import ConstraintMasks

    masks = ConstraintMasks.shared(VOCAB, allow_end=False)
    rule = CadenceRule(final_bar=0, final_pitch_class=0, strong=(0, 12))
    chosen = {}
    for pitch in ("P:60", "P:62"):
        tracker = CadenceTracker(GrammarTracker(VOCAB, Meter(2, 4), 0, expect="bar"), rule)
        tracker.advance(VOCAB.id(pitch))
        allowed = np.flatnonzero(np.isfinite(masks.for_tracker(tracker))).tolist()
        chosen[pitch] = {VOCAB.tokens[i] for i in allowed}
    assert "D:24" in chosen["P:60"] and "D:24" not in chosen["P:62"]
    assert max(int(t[2:]) for t in chosen["P:62"]) == 12


def test_a_passing_note_ends_by_the_last_strong_beat_and_nothing_ties_into_the_closing_bar():
    tracker = CadenceTracker(GrammarTracker(VOCAB, Meter(4, 4), 0, expect="bar"),
                             CadenceRule(final_bar=1, final_pitch_class=0, strong=(0, 24)))
    for token in ("P:62", "D:48"):
        tracker.advance(VOCAB.id(token))
    assert VOCAB.tie_id not in tracker.allowed()  # the bar before the closing one
    tracker.advance(VOCAB.bar_id)
    tracker.advance(VOCAB.id("P:64"))  # not the tonic: it must end by tick 24
    assert max(VOCAB.duration_of(i) for i in tracker.allowed()) == 24


def test_a_bad_cadence_setting_is_one_clear_sentence(tmp_path, capsys):
    with pytest.raises(SettingsError, match="meter constraint"):
        GenerationConfig(cadence=True, meter_constraint=False)
    code = main(["generate", str(DATA / "kesh-jig.abc"), "--cadence", "--final-degree", "8",
                 "-o", str(tmp_path / "x.abc")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("musicgen: error: --final-degree:") and "1 to 7" in err[0]


# ------------------------------------------------------------------------------------ AABB


def assert_aabb(tune: Melody, part_bars: int, endings: bool) -> None:
    form = tune.form
    assert form is not None and [p.name for p in form.parts] == ["A", "B"]
    bar = tune.meter.bar_ticks
    for part in form.parts:
        assert part.has_endings == endings
        written = part.body_ticks + part.second_ending_ticks
        assert written == part_bars * bar
        if endings:
            assert part.first_ending_ticks == part.second_ending_ticks == bar
        spans = part.written_spans()
        close = tune.slice_ticks(spans[-1][1], spans[-1][2])
        assert close.notes[-1].pitch % 12 == tune.key.tonic_pc  # each part closes on the tonic
        if endings:
            first = tune.slice_ticks(spans[1][1], spans[1][2])
            dominant = (tune.key.tonic_pc + 7) % 12
            assert first.notes[-1].pitch % 12 == dominant
    assert_cadence(tune)


def abc_round_trip(tune: Melody, tmp_path: Path) -> Melody:
    path = tmp_path / "tune.abc"
    path.write_text(melody_to_abc(tune))
    return read_melody(path)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endings", [False, True])
def test_a_tune_from_a_seed_in_aabb_form_round_trips_through_abc(generators, kind, endings, tmp_path):
    seed = jig(4)
    config = GenerationConfig(form="aabb", endings=endings, variations=3, rng_seed=5, temperature=1.3)
    for tune in continue_melody(seed, generators[kind], config):
        assert tune.notes[: len(seed.notes)] == seed.notes and tune.seed_end_ticks == seed.duration_ticks
        assert_aabb(tune, 8, endings)
        text = melody_to_abc(tune)
        assert text.count("|:") == 2 and (":|2" in text) == endings and ("|1" in text) == endings
        back = abc_round_trip(tune, tmp_path)
        assert back.notes == tune.notes and back.pickup_ticks == tune.pickup_ticks


@pytest.mark.parametrize("kind", KINDS)
def test_a_tune_from_nothing_but_a_meter_and_a_mode(generators, kind, tmp_path):
    seed = header_seed(Meter(4, 4), Key(9, "dorian"), "A reel")
    config = GenerationConfig(form="aabb", part_bars=4, variations=2, rng_seed=2)
    for tune in continue_melody(seed, generators[kind], config):
        assert tune.pickup_ticks == 0 and tune.key == Key(9, "dorian")
        assert_aabb(tune, 4, endings=False)
        assert tune.bar_count == 16
        assert abc_round_trip(tune, tmp_path).notes == tune.notes
        assert "AABB, 4-bar parts" in dict(tune.metadata)["form"]


def test_the_cli_writes_an_aabb_tune_with_repeat_signs_and_midi_as_played(tiny_checkpoints, tmp_path,
                                                                          capsys):
    abc, mid = tmp_path / "reel.abc", tmp_path / "reel.mid"
    for out in (abc, mid):
        assert main(["generate", "--meter", "2/4", "--key", "D major", "--form", "aabb", "--endings",
                     "--model", str(tiny_checkpoints["transformer"]), "--rng-seed", "4",
                     "-o", str(out)]) == 0
    assert "a tune in AABB form" in capsys.readouterr().out
    text = abc.read_text()
    assert "|:" in text and "|1" in text and ":|2" in text
    assert read_melody(mid).notes == read_melody(abc).notes  # both the tune as played


def test_a_tune_needs_a_seed_or_a_meter_and_key(tmp_path, capsys):
    code = main(["generate", "--form", "aabb", "-o", str(tmp_path / "x.abc")])
    assert code == 2 and "--meter and --key" in capsys.readouterr().err
    code = main(["generate", "--meter", "6/8", "--key", "H major", "--form", "aabb",
                 "-o", str(tmp_path / "x.abc")])
    assert code == 2 and "not a key" in capsys.readouterr().err
