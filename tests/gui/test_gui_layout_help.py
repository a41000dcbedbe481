"""The window at a 1024×600 laptop and at 1366×768 (nothing overlaps or is cut; no empty area
under Generate), and the Help menu: shortcuts read from the actions, getting started, About."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtWidgets import QWidget

from tests.support.gui import generate_and_wait, select_model


def _visible_children(bar: QWidget) -> list[QWidget]:
    layout = bar.layout()
    items = (layout.itemAt(i).widget() for i in range(layout.count()))
    return [w for w in items if w is not None and w.isVisible()]


@pytest.mark.parametrize("size", [(1024, 600), (1366, 768)])
def test_the_window_fits_and_nothing_overlaps_or_is_cut(qtbot, models_window, size):
    win = models_window
    assert win.minimumSizeHint().width() <= size[0] and win.minimumSizeHint().height() <= size[1]
    win.resize(*size)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size)
    select_model(win, "lstm")
    win.ui.sampling.replace_values(variations=4, bars=4, new_seed_each_time=False, rng_seed=2)
    generate_and_wait(qtbot, win)
    transport = win.ui.transport
    children = _visible_children(transport)
    assert transport.play_button in children and transport.output_combo in children
    for a, b in itertools.combinations(children, 2):
        assert not a.geometry().intersects(b.geometry()), (a, b)
    for child in children:  # every control at least as wide as it needs: nothing cut
        assert child.width() >= child.minimumSizeHint().width(), child
    play, tempo = transport.play_button.geometry(), transport.tempo_spin.geometry()
    assert tempo.left() - play.right() >= 6  # the tempo does not touch the Play button
    combo = transport.output_combo
    text = combo.fontMetrics().horizontalAdvance(combo.currentText())
    assert combo.width() >= text + 20  # "Synthesizer" whole, with its arrow
    assert transport.geometry().right() <= transport.parentWidget().width()
    # the model and sampling values never scroll sideways or hide under a neighbour
    scroll = win.findChild(QWidget, "choicesScroll")
    choices = scroll.widget()
    assert choices.width() >= choices.minimumSizeHint().width()
    assert win.ui.generate_button.isVisible() and win.ui.export_button.isVisible()
    assert win.ui.variations.height() >= 60  # rows of variations, not a sliver


def test_at_1366_by_768_the_space_under_generate_is_used(qtbot, models_window):
    """There was a large empty area under Generate: now the variations list fills it, and the
    choices above are whole (no scrolling)."""
    win = models_window
    win.resize(1366, 768)
    qtbot.waitUntil(lambda: win.width() == 1366)
    generate = win.ui.generate_button
    box = win.ui.variations.parentWidget()  # the Variations group under Generate
    gap = box.mapTo(win, box.rect().topLeft()).y() - generate.mapTo(win, generate.rect().bottomLeft()).y()
    assert 0 <= gap <= 16
    bottom = box.mapTo(win, box.rect().bottomLeft()).y()
    assert win.centralWidget().height() - (bottom - win.centralWidget().y()) <= 16
    scroll = win.findChild(QWidget, "choicesScroll")
    assert scroll.verticalScrollBar().maximum() == 0  # the choices are whole at this height


def test_help_menu_pages(qtbot, models_window):
    win = models_window
    menus = {a.text().replace("&", ""): a.menu() for a in win.menuBar().actions()}
    entries = [a.text().replace("&", "") for a in menus["Help"].actions()]
    assert entries == ["Getting started", "Keyboard shortcuts", "About musicgen"]
    win.actions.help_shortcuts.trigger()
    page = win.help.dialog
    assert page.isVisible() and page.windowTitle() == "Keyboard shortcuts"
    for action in win.actions.all():  # every shortcut the window has, from the actions
        keys = action.shortcut().toString()
        if keys:
            assert keys in page.text, keys
    assert "Ctrl+G" in page.text and "Ctrl + mouse wheel" in page.text
    win.actions.help_getting_started.trigger()
    assert page.windowTitle() == "Getting started" and "Choose a seed" in page.text
    assert "Generate" in page.text and "Ctrl+E" in page.text
    win.actions.help_about.trigger()
    from importlib import metadata

    assert f"musicgen {metadata.version('musicgen')}" in page.text
    assert "lstm-tiny" in page.text and "transformer-tiny" in page.text  # the models listed
    assert f"music21\t{metadata.version('music21')}\tBSD-3-Clause" in page.text.replace("\n", "\t") \
        or ("music21" in page.text and "BSD-3-Clause" in page.text)
    assert "LGPL-3.0" in page.text  # PySide6 and verovio
    page.close()
