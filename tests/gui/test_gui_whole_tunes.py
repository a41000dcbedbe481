"""Whole tunes in the real window: the cadence is on by default, AABB sits beside the sampling
controls, the roll labels the parts, and the exported ABC shows the repeat signs."""

from __future__ import annotations

from musicgen.io import read_melody
from musicgen.io.abc_writer import melody_to_abc
from tests.support.gui import generate_and_wait, select_model


def test_continuations_end_on_a_cadence_by_default(qtbot, models_window):
    win = models_window
    select_model(win, "lstm")
    config = win.ui.sampling.values()
    assert config.cadence and config.phrase_bars == 8 and config.form == "continuation"
    win.ui.sampling.replace_values(variations=3, bars=4, new_seed_each_time=False, rng_seed=3)
    for melody in generate_and_wait(qtbot, win):
        bar = melody.meter.bar_ticks
        full_bars = (melody.duration_ticks - melody.pickup_ticks) // bar
        assert full_bars % 8 == 0 and (melody.duration_ticks - melody.pickup_ticks) % bar == 0
        last = melody.notes[-1]
        assert last.pitch is not None and last.pitch % 12 == melody.key.tonic_pc
        assert (last.onset_ticks - melody.pickup_ticks) % bar in melody.meter.strong_positions


def test_a_whole_tune_from_the_panel_is_labelled_on_the_roll_and_exports_repeats(
        qtbot, models_window, tmp_path):
    win = models_window
    select_model(win, "transformer")
    panel = win.ui.sampling
    panel.form_combo.setCurrentIndex(panel.form_combo.findData("aabb"))
    assert panel.part_bars_spin.isVisibleTo(panel) and not panel.bars_spin.isEnabled()
    assert not panel.cadence_check.isEnabled()  # every part closes on a cadence anyway
    panel.endings_check.setChecked(True)
    panel.replace_values(variations=2, part_bars=4, new_seed_each_time=False, rng_seed=5)
    tunes = generate_and_wait(qtbot, win)
    assert all(t.form is not None and [p.name for p in t.form.parts] == ["A", "B"] for t in tunes)
    labels = [label for _, label in win.ui.roll.form_labels()]
    assert labels[:4] == ["A", "1st ending", "A again", "2nd ending"] and "B" in labels
    path = tmp_path / "tune.abc"
    path.write_text(melody_to_abc(win.ui.roll.melody))
    text = path.read_text()
    assert "|:" in text and "|1" in text and ":|2" in text
    assert read_melody(path).notes == win.ui.roll.melody.notes


def test_without_whole_bars_the_tune_choices_are_off(qtbot, window):
    panel = window.ui.sampling
    panel.meter_check.setChecked(False)
    config = panel.values()
    assert not config.cadence and config.form == "continuation"
    assert not panel.cadence_check.isEnabled() and not panel.form_combo.isEnabled()
