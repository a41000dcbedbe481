"""The score view and the ABC pane, through the real window: staff notation that is not blank for a
seed in every format, seed and continuation in their colours, a click that selects a note, the
sounding note highlighted, roll / score / both, long tunes wrapped; the ABC of the melody in view,
marked where the continuation starts, copied and applied as a new seed."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage

from gui.score_tasks import CONTINUATION_COMMENT
from gui.widgets.piano_roll import CONTINUATION_COLOUR, SEED_COLOUR
from tests.support.gui import generate_and_wait, open_and_wait, select_model


def pixels(image: QImage) -> np.ndarray:
    """(H, W, 3) RGB of an image, copied: the converted QImage is freed when this returns, and a
    view of its buffer would read freed memory (CI once saw allocator bytes as an orange pixel)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=stride * height)
    return data.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def near(image: QImage, colour, tolerance: int = 40) -> int:
    """How many pixels are within ``tolerance`` (per channel) of ``colour``."""
    target = np.array([colour.red(), colour.green(), colour.blue()], np.int16)
    return int((np.abs(pixels(image).astype(np.int16) - target).max(axis=-1) <= tolerance).sum())


def ink(image: QImage) -> float:
    """The share of pixels that are not (almost) white."""
    return float((pixels(image).min(axis=-1) < 200).mean())


def generated(rendered) -> bool:
    """An engraving of a generated melody (not a late one of the seed)."""
    return rendered.melody.seed_end_ticks is not None


def open_and_engrave(qtbot, win, path):
    with qtbot.waitSignal(win.score.engraved, timeout=60000) as engraved:
        open_and_wait(qtbot, win, path)
    return engraved.args[0]


@pytest.mark.parametrize("name", ["kesh", "air", "scale", "book"])
def test_the_score_is_not_blank_for_a_seed_in_each_format(qtbot, window, seed_files, name):
    rendered = open_and_engrave(qtbot, window, seed_files[name])
    melody = window.seed.melody
    assert rendered.melody is melody is window.ui.score.melody
    drawn = {i for n in rendered.engraving.notes for i in n.note_indices}
    assert {i for i, n in enumerate(melody.notes) if not n.is_rest} <= drawn
    page = rendered.image
    assert ink(page) > 0.01  # staves, clef, notes: not a blank page
    assert near(page, SEED_COLOUR) > 30 and near(page, CONTINUATION_COLOUR) == 0
    shown = window.ui.score.grab().toImage()
    assert ink(shown) > 0.01 and near(shown, SEED_COLOUR) > 30
    abc = window.ui.seed_panel.abc_edit.toPlainText()
    assert "K:" in abc and CONTINUATION_COMMENT not in abc


def test_seed_and_continuation_colours_and_the_marked_abc(qtbot, models_window):
    win = models_window
    select_model(win, "lstm")
    win.ui.sampling.replace_values(variations=2, bars=4, rng_seed=3, new_seed_each_time=False)
    with qtbot.waitSignal(win.score.engraved, timeout=60000, check_params_cb=generated) as engraved:
        melodies = generate_and_wait(qtbot, win)
    rendered = engraved.args[0]
    assert rendered.melody is melodies[0]
    assert near(rendered.image, SEED_COLOUR) > 30 and near(rendered.image, CONTINUATION_COLOUR) > 30
    shown = win.ui.score.grab().toImage()
    assert near(shown, SEED_COLOUR) > 30 and near(shown, CONTINUATION_COLOUR) > 30

    # The pane shows seed + continuation, the continuation's first bar marked, and reads back.
    from musicgen.io import abc_text_to_melody

    melody = melodies[0]
    text = win.ui.seed_panel.abc_edit.toPlainText()
    bar = melody.bar_index(melody.seed_end_ticks) + (0 if melody.pickup_ticks else 1)
    assert f"{CONTINUATION_COMMENT} (bar {bar}" in text
    assert abc_text_to_melody(text).notes == melody.notes
    with qtbot.waitSignal(win.score.engraved, timeout=60000,
                          check_params_cb=lambda r: r.melody is melodies[1]):
        win.ui.variations.setCurrentRow(1)
    assert win.ui.seed_panel.abc_edit.toPlainText() != text  # follows the selection
    win.ui.seed_panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == win.ui.seed_panel.abc_edit.toPlainText()

    # Edited and applied, the ABC becomes the new seed.
    edited = text.replace("T:", "T:Edited ", 1)
    win.ui.seed_panel.abc_edit.setPlainText(edited)
    with qtbot.waitSignal(win.seed.seed_changed, timeout=30000) as changed:
        win.ui.seed_panel.abc_button.click()
    assert changed.args[0].title.startswith("Edited") and changed.args[0].notes == melody.notes


def test_a_click_on_the_score_selects_a_note_and_playback_highlights_it(qtbot, models_window):
    win = models_window
    win.ui.sampling.replace_values(variations=1, bars=4, rng_seed=5, new_seed_each_time=False)
    with qtbot.waitSignal(win.score.engraved, timeout=60000, check_params_cb=generated) as engraved:
        generate_and_wait(qtbot, win)
    engraving, melody = engraved.args[0].engraving, win.ui.roll.melody
    drawn = next(n for n in engraving.notes
                 if melody.notes[n.note_indices[0]].onset_ticks >= melody.seed_end_ticks)
    canvas = win.ui.score.widget()
    with qtbot.waitSignal(win.focus.note_focused, timeout=10000) as focused:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(drawn.x), int(drawn.y)))
    assert focused.args[0] == drawn.note_indices[0]
    assert win.ui.roll.focus_index == win.ui.score.focus_index == drawn.note_indices[0]
    assert win.ui.tabs.currentWidget() is win.ui.focus

    before = win.ui.score.grab().toImage()
    note = melody.notes[drawn.note_indices[0]]
    win.playback.playhead_moved.emit(note.onset_ticks + 1)
    sounding = win.ui.score.sounding_notes()
    assert sounding and all(drawn.note_indices[0] in n.note_indices for n in sounding)
    assert pixels(win.ui.score.grab().toImage()).tolist() != pixels(before).tolist()
    win.playback.playhead_moved.emit(None)
    assert win.ui.score.sounding_notes() == []


def test_roll_score_or_both_and_remembered(qtbot, window, seed_files, tmp_path):
    open_and_engrave(qtbot, window, seed_files["kesh"])
    modes, ui = window.actions.view_modes, window.ui
    modes["roll"].trigger()
    assert ui.roll.isVisible() and not ui.score.isVisible()
    assert window.settings.score_view == "roll"
    modes["score"].trigger()
    assert ui.score.isVisible() and not ui.roll.isVisible()
    modes["both"].trigger()
    assert ui.score.isVisible() and ui.roll.isVisible()
    modes["score"].trigger()
    window.save_settings()
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    again = MainWindow(AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(again)
    assert again.actions.view_modes["score"].isChecked()
    assert again.ui.roll.isHidden() and not again.ui.score.isHidden()


def test_a_long_tune_wraps_into_systems_and_scrolls(qtbot, window):
    from tests.support import training_melodies

    tune = training_melodies(1)[0]
    long_tune = tune
    while long_tune.bar_count < 64:
        long_tune = long_tune.concatenated(tune)
    long_tune = long_tune.first_bars(64)
    with qtbot.waitSignal(window.score.engraved, timeout=60000) as engraved:
        window.seeds.use(long_tune)
    engraving = engraved.args[0].engraving
    view = window.ui.score
    assert engraving.width_px <= view.viewport().width() + 2  # wrapped, not one long line
    systems = len({round(n.y / 30) for n in engraving.notes})
    assert systems >= 6 and engraving.height_px > view.viewport().height()
    assert view.verticalScrollBar().maximum() > 0
