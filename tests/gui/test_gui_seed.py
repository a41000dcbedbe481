"""Loading seeds through the real window: every format, tune books, tracks, ABC pane, corruption."""

from __future__ import annotations

import pytest

from musicgen.melody import Meter
from tests.support.gui import click_tune, open_and_wait


@pytest.mark.parametrize("name, first_pitch, meter", [
    ("kesh", 67, Meter(6, 8)), ("air", 72, Meter(4, 4)), ("scale", 60, Meter(4, 4))])
def test_open_each_format_shows_the_seed(qtbot, window, seed_files, name, first_pitch, meter):
    melody = open_and_wait(qtbot, window, seed_files[name])
    assert window.seed.melody is melody
    assert melody.pitched_notes[0].pitch == first_pitch
    assert melody.meter == meter
    assert window.ui.roll.melody is melody
    assert [role for _n, role in window.ui.roll.note_spans()] == ["seed"] * melody.note_count
    assert str(seed_files[name].resolve()) == window.settings.recent_files[0]


def test_corrupt_file_shows_a_dialog_and_keeps_the_seed(qtbot, window, seed_files):
    good = open_and_wait(qtbot, window, seed_files["kesh"])
    with qtbot.waitSignal(window.dialogs.error_shown, timeout=30000) as shown:
        window.seeds.open_path(str(seed_files["corrupt"]))
    text = shown.args[0]
    assert "corrupt.mid" in text
    assert "Traceback" not in text and len(text) < 300
    assert window.dialogs.last_box is not None and window.dialogs.last_box.text() == text
    assert window.seed.melody is good and window.ui.roll.melody is good


def test_tune_book_lists_its_tunes_and_switches(qtbot, window, seed_files):
    first = open_and_wait(qtbot, window, seed_files["book"])
    panel = window.ui.seed_panel
    assert first.title == "First Tune"
    assert [panel.parts_list.item(i).text() for i in range(panel.parts_list.count())] == [
        "First Tune", "Second Tune", "Third Tune"]
    assert not panel.parts_box.isHidden()
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        click_tune(qtbot, panel.parts_list, 1)
    assert changed.args[0].title == "Second Tune"
    assert changed.args[0].meter == Meter(3, 4)


def test_multi_track_midi_opens_the_fullest_track_like_the_cli_and_says_so(qtbot, window,
                                                                          seed_files):
    from musicgen.io import read_melody_with_report

    first = open_and_wait(qtbot, window, seed_files["duet"])
    panel = window.ui.seed_panel
    assert panel.parts_list.count() == 2
    cli_melody, report = read_melody_with_report(seed_files["duet"])  # what `generate` continues
    assert first.notes == cli_melody.notes and first.pitched_notes[0].pitch == 48
    assert panel.parts_list.currentRow() == 1
    assert report.source_part == "track 2: Line 2"
    assert panel.notes_label.text().splitlines()[0] == "Using track 2: Line 2"
    assert not panel.notes_label.isHidden()
    assert "Using track 2: Line 2" in window.status.message
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        click_tune(qtbot, panel.parts_list, 0)
    assert changed.args[0].pitched_notes[0].pitch == 72
    assert panel.notes_label.text().splitlines()[0] == "Using track 1: Line 1"


def test_reader_notes_show_dropped_chord_symbols_and_hide_when_silent(qtbot, window, seed_files,
                                                                      tmp_path):
    chords = tmp_path / "chords.abc"
    chords.write_text('X:1\nT:Chords\nM:4/4\nL:1/8\nK:G\n"G"GABc "Am"dcBA|"D7"G2A2 "G"B4|]\n')
    open_and_wait(qtbot, window, chords)
    panel = window.ui.seed_panel
    assert not panel.notes_label.isHidden()
    assert panel.notes_label.text() == "4 chord symbols were dropped: the models read melody only."
    open_and_wait(qtbot, window, seed_files["scale"])  # one track, nothing changed: no notes
    assert panel.notes_label.isHidden() and panel.notes_label.text() == ""


def test_key_field_shows_the_seeds_key_and_a_correction_feeds_generation(qtbot, window,
                                                                         seed_files):
    from musicgen.melody import Key

    melody = open_and_wait(qtbot, window, seed_files["kesh"])
    panel = window.ui.seed_panel
    assert melody.key == Key(7, "major")
    assert (panel.tonic_combo.currentText(), panel.mode_combo.currentText()) == ("G", "major")
    assert " 16 bars · " in panel.summary_label.text()  # a repeated 8-bar part, no pickup
    window.seed.trim(4)
    with qtbot.waitSignal(window.seed.seed_changed, timeout=5000) as changed:
        panel.mode_combo.setCurrentText("mixolydian")
    assert changed.args[0].key == Key(7, "mixolydian")
    # what Generate continues (the trimmed seed) and the untrimmed seed both carry the correction
    assert window.seed.melody.key == window.seed.full.key == Key(7, "mixolydian")
    assert window.seed.melody.bar_count == 4 and window.seed.melody.notes == melody.first_bars(4).notes
    assert "G mixolydian" in panel.summary_label.text()
    with qtbot.waitSignal(window.seed.seed_changed, timeout=5000):
        panel.tonic_combo.setCurrentText("A")
    assert window.seed.melody.key == Key(9, "mixolydian")


def test_tempo_is_shown_and_set_in_the_meters_beat(qtbot, window, seed_files, tmp_path):
    jig = tmp_path / "jig.abc"
    jig.write_text("X:1\nT:Jig\nM:6/8\nL:1/8\nQ:3/8=110\nK:D\nA|dfa afd|gfe dcB|AFA dFA|BGB AFD|]\n")
    open_and_wait(qtbot, window, jig)
    assert " 4 bars and a pickup · " in window.ui.seed_panel.summary_label.text()  # not 5
    transport = window.ui.transport
    assert transport.tempo_spin.prefix() == "♩. = " and transport.tempo_spin.value() == 110
    assert transport.tempo_bpm == 165  # quarter notes a minute, what playback uses
    transport.tempo_spin.setValue(120)  # the user types dotted quarters
    assert transport.tempo_bpm == 180
    open_and_wait(qtbot, window, seed_files["scale"])  # 4/4 at 120 quarters
    assert transport.tempo_spin.prefix() == "♩ = " and transport.tempo_spin.value() == 120
    assert transport.tempo_bpm == 120


def test_abc_pane_applies_text_and_shows_errors_inline(qtbot, window, seed_files):
    from tests.support import KESH_ABC

    good = open_and_wait(qtbot, window, seed_files["scale"])
    panel = window.ui.seed_panel
    panel.abc_edit.setPlainText("this is not ABC at all")
    job = window.seeds.apply_abc(panel.abc_edit.toPlainText())
    qtbot.waitSignal(job.failed, timeout=30000).wait()
    assert panel.abc_error_label.isVisibleTo(window) and panel.abc_error_label.text()
    assert window.seed.melody is good
    panel.abc_edit.setPlainText(KESH_ABC)
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        panel.abc_button.click()
    assert changed.args[0].title == "The Kesh"
    assert not panel.abc_error_label.isVisibleTo(window)


def test_trim_keeps_the_first_bars(qtbot, window, seed_files):
    full = open_and_wait(qtbot, window, seed_files["kesh"])
    assert full.bar_count >= 8
    window.ui.seed_panel.trim_spin.setValue(2)
    window.ui.seed_panel.trim_button.click()
    assert window.seed.melody.bar_count == 2
    assert window.seed.melody.duration_ticks == 2 * Meter(6, 8).bar_ticks
    window.ui.seed_panel.trim_spin.setValue(full.bar_count)
    window.ui.seed_panel.trim_button.click()
    assert window.seed.melody.notes == full.notes


def test_a_tune_book_saved_as_txt_lists_its_tunes_and_loads_tune_2(qtbot, window, tmp_path):
    """The format is told from the content, as the command line does: no tune list was shown for
    an ABC book named .txt, since the app went by the suffix."""
    from tests.support import TUNE_BOOK_ABC

    book = tmp_path / "session-tunes.txt"
    book.write_text(TUNE_BOOK_ABC)
    first = open_and_wait(qtbot, window, book)
    panel = window.ui.seed_panel
    assert first.title == "First Tune" and window.seed.path == str(book)
    assert [panel.parts_list.item(i).text() for i in range(panel.parts_list.count())] == [
        "First Tune", "Second Tune", "Third Tune"]
    assert not panel.parts_box.isHidden() and panel.parts_box.title() == "Tunes in this file"
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        click_tune(qtbot, panel.parts_list, 1)
    second = changed.args[0]
    assert second.title == "Second Tune" and second.meter == Meter(3, 4)
    assert window.seed.melody is second and window.ui.roll.melody is second


def _drop(window, path):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, data,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    if enter.isAccepted():
        window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                                    Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    return enter.isAccepted()


def test_dropping_any_file_reads_it_by_content(qtbot, window, seed_files, tmp_path):
    good = open_and_wait(qtbot, window, seed_files["kesh"])
    tunes = tmp_path / "tunes.txt"
    tunes.write_text(seed_files["book"].read_text())
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        assert _drop(window, tunes)
    assert changed.args[0].title == "First Tune" and window.ui.seed_panel.parts_list.count() == 3
    good = changed.args[0]
    notes = tmp_path / "notes.txt"
    notes.write_text("Buy strings and rosin before Friday's session.\n")
    with qtbot.waitSignal(window.dialogs.error_shown, timeout=30000) as shown:
        assert _drop(window, notes)
    text = shown.args[0]
    assert "notes.txt" in text and "unknown format" in text
    assert "Traceback" not in text and text.count("\n") == 0 and len(text) < 300
    assert window.seed.melody is good and window.ui.roll.melody is good
