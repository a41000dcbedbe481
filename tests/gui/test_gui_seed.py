"""Loading seeds through the real window: every format, tune books, tracks, ABC pane, corruption."""

from __future__ import annotations

import pytest
from gui_helpers import open_and_wait

from musicgen.melody import Meter


@pytest.mark.parametrize("name, first_pitch, meter", [
    ("kesh", 67, Meter(6, 8)), ("air", 72, Meter(4, 4)), ("scale", 60, Meter(4, 4))])
def test_open_each_format_shows_the_seed(qtbot, window, seed_files, name, first_pitch, meter):
    melody = open_and_wait(qtbot, window, seed_files[name])
    assert window.seed is melody
    assert melody.pitched_notes[0].pitch == first_pitch
    assert melody.meter == meter
    assert window.ui.roll.melody is melody
    assert [role for _n, role in window.ui.roll.note_spans()] == ["seed"] * melody.note_count
    assert str(seed_files[name].resolve()) == window.settings.recent_files[0]


def test_corrupt_file_shows_a_dialog_and_keeps_the_seed(qtbot, window, seed_files):
    good = open_and_wait(qtbot, window, seed_files["kesh"])
    with qtbot.waitSignal(window.dialogs.error_shown, timeout=30000) as shown:
        window.open_path(str(seed_files["corrupt"]))
    text = shown.args[0]
    assert "corrupt.mid" in text
    assert "Traceback" not in text and len(text) < 300
    assert window.dialogs.last_box is not None and window.dialogs.last_box.text() == text
    assert window.seed is good and window.ui.roll.melody is good


def test_tune_book_lists_its_tunes_and_switches(qtbot, window, seed_files):
    first = open_and_wait(qtbot, window, seed_files["book"])
    panel = window.ui.seed_panel
    assert first.title == "First Tune"
    assert [panel.parts_list.item(i).text() for i in range(panel.parts_list.count())] == [
        "First Tune", "Second Tune", "Third Tune"]
    assert not panel.parts_box.isHidden()
    with qtbot.waitSignal(window.seed_changed, timeout=30000) as changed:
        panel.parts_list.setCurrentRow(1)
    assert changed.args[0].title == "Second Tune"
    assert changed.args[0].meter == Meter(3, 4)


def test_multi_track_midi_lists_tracks(qtbot, window, seed_files):
    first = open_and_wait(qtbot, window, seed_files["duet"])
    panel = window.ui.seed_panel
    assert panel.parts_list.count() == 2
    assert first.pitched_notes[0].pitch == 72
    with qtbot.waitSignal(window.seed_changed, timeout=30000) as changed:
        panel.parts_list.setCurrentRow(1)
    assert changed.args[0].pitched_notes[0].pitch == 48


def test_abc_pane_applies_text_and_shows_errors_inline(qtbot, window, seed_files):
    from gui_helpers import KESH_ABC

    good = open_and_wait(qtbot, window, seed_files["scale"])
    panel = window.ui.seed_panel
    panel.abc_edit.setPlainText("this is not ABC at all")
    job = window.apply_abc(panel.abc_edit.toPlainText())
    qtbot.waitSignal(job.failed, timeout=30000).wait()
    assert panel.abc_error_label.isVisibleTo(window) and panel.abc_error_label.text()
    assert window.seed is good
    panel.abc_edit.setPlainText(KESH_ABC)
    with qtbot.waitSignal(window.seed_changed, timeout=30000) as changed:
        panel.abc_button.click()
    assert changed.args[0].title == "The Kesh"
    assert not panel.abc_error_label.isVisibleTo(window)


def test_trim_keeps_the_first_bars(qtbot, window, seed_files):
    full = open_and_wait(qtbot, window, seed_files["kesh"])
    assert full.bar_count >= 8
    window.ui.seed_panel.trim_spin.setValue(2)
    window.ui.seed_panel.trim_button.click()
    assert window.seed.bar_count == 2
    assert window.seed.duration_ticks == 2 * Meter(6, 8).bar_ticks
    window.ui.seed_panel.trim_spin.setValue(full.bar_count)
    window.ui.seed_panel.trim_button.click()
    assert window.seed.notes == full.notes
