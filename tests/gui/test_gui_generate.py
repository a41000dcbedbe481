"""Generating through the real window with real (tiny, freshly trained) checkpoints."""

from __future__ import annotations

import pytest

from tests.support.gui import generate_and_wait, select_model


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_generate_with_each_model_fills_the_list_and_the_roll(qtbot, models_window, kind):
    win = models_window
    select_model(win, kind)
    assert kind in win.ui.model_panel.card_label.text().lower()
    win.ui.sampling.replace_values(variations=3, bars=4, new_seed_each_time=False, rng_seed=11)
    melodies = generate_and_wait(qtbot, win)
    assert len(melodies) == 3 and win.ui.variations.count() == 3
    seed = win.seed.melody
    for melody in melodies:
        assert melody.seed_end_ticks == seed.duration_ticks
        assert melody.seed.notes == seed.notes
    for row, melody in enumerate(melodies):  # each variation's own seed, shown on its row
        meta = dict(melody.metadata)
        assert meta["model"] == f"{kind}-tiny" and meta["rng_seed"] == str(11 + row)
        assert f"seed {11 + row}" in win.ui.variations.item(row).text()
    roles = [role for _n, role in win.ui.roll.note_spans()]
    assert win.ui.roll.melody is melodies[0]
    assert roles.count("seed") == seed.note_count and roles.count("continuation") > 0
    assert "seed 11" in win.ui.variations.item(0).text()
    win.ui.variations.setCurrentRow(2)
    assert win.ui.roll.melody is melodies[2]


def test_same_settings_reproduce_and_other_settings_differ(qtbot, models_window):
    win = models_window
    select_model(win, "lstm")
    sampling = win.ui.sampling
    sampling.replace_values(variations=2, bars=4, new_seed_each_time=False, rng_seed=7,
                            temperature=1.0)
    first = generate_and_wait(qtbot, win)
    again = generate_and_wait(qtbot, win)
    assert [m.notes for m in first] == [m.notes for m in again]
    sampling.replace_values(rng_seed=8)
    other_seed = generate_and_wait(qtbot, win)
    assert [m.notes for m in other_seed] != [m.notes for m in first]
    sampling.replace_values(rng_seed=7, temperature=1.9)
    hot = generate_and_wait(qtbot, win)
    assert [m.notes for m in hot] != [m.notes for m in first]
    assert dict(hot[0].metadata)["temperature"] == "1.9"


def test_new_seed_each_time_rolls_the_dice(qtbot, models_window):
    win = models_window
    win.ui.sampling.replace_values(variations=1, bars=2, new_seed_each_time=True, rng_seed=5)
    melodies = generate_and_wait(qtbot, win)
    shown = win.ui.sampling.values().rng_seed
    assert dict(melodies[0].metadata)["rng_seed"] == str(shown)


def test_stop_a_running_generation(qtbot, models_window):
    win = models_window
    select_model(win, "transformer")
    win.ui.sampling.replace_values(variations=8, bars=64, new_seed_each_time=False)
    with qtbot.waitSignal(win.generation.generation_cancelled, timeout=60000):
        job = win.generation.generate()
        assert job is not None and win.actions.stop.isEnabled()
        with qtbot.waitSignal(job.progress, timeout=60000):
            pass
        win.actions.stop.trigger()
    assert win.ui.generate_button.isEnabled() and not win.actions.stop.isEnabled()
    assert win.ui.variations.count() == 0
    assert "stopped" in win.status.message.lower()


def test_model_loads_in_the_background_and_reports_ready(qtbot, models_window):
    win = models_window
    path = select_model(win, "lstm")
    with qtbot.waitSignal(win.models.model_ready, timeout=60000) as ready:
        win.models.choose_model(path)
    assert ready.args[0] == path and win.ui.model_panel.status_label.text() == "Ready."


def test_a_broken_checkpoint_is_reported_and_the_chooser_unchanged(qtbot, models_window, tmp_path):
    win = models_window
    before = win.ui.model_panel.combo.count()
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    with qtbot.waitSignal(win.dialogs.error_shown, timeout=30000) as shown:
        win.models.add_checkpoint(str(broken))
    assert "broken" in shown.args[0]
    assert win.ui.model_panel.combo.count() == before


def test_a_trained_checkpoint_can_be_added(qtbot, models_window, tiny_checkpoint_dir):
    win = models_window
    path = str(tiny_checkpoint_dir / "lstm-tiny.safetensors")
    with qtbot.waitSignal(win.ui.model_panel.model_chosen, timeout=60000):
        win.models.add_checkpoint(path)
    assert win.ui.model_panel.current_model() == path


def test_loading_a_model_freezes_long_lived_objects_out_of_the_collector(qtbot, models_window):
    """A full garbage collection over torch's objects froze the window for ~80 ms (bench_app)."""
    import gc

    win = models_window
    select_model(win, "lstm")
    win.ui.sampling.replace_values(variations=1, bars=2, new_seed_each_time=False, rng_seed=1)
    generate_and_wait(qtbot, win)
    assert gc.get_freeze_count() > 10_000
