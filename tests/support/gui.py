"""Helpers for driving the real main window in tests: open a seed, generate, pick a model."""

from __future__ import annotations

from pathlib import Path

__all__ = ["click_tune", "generate_and_wait", "open_and_wait", "select_model"]


def open_and_wait(qtbot, win, path: Path | str, part: int | None = None, timeout: int = 30000):
    """Open a seed file through the window and wait until it is the seed."""
    with qtbot.waitSignal(win.seed.seed_changed, timeout=timeout) as blocker:
        win.seeds.open_path(str(path), part)
    return blocker.args[0]


def generate_and_wait(qtbot, win, timeout: int = 120000):
    """Press Generate and wait for the variations."""
    with qtbot.waitSignal(win.generation.generation_finished, timeout=timeout) as done:
        win.ui.generate_button.click()
    return done.args[0]


def select_model(win, kind: str) -> str:
    panel = win.ui.model_panel
    for i in range(panel.combo.count() - 1):
        if panel.combo.itemText(i).lower().startswith(kind):
            panel._on_activated(i)
            return panel.current_model()
    raise AssertionError(f"no {kind} model listed")


def click_tune(qtbot, tune_list, row: int) -> None:
    """Click row `row` of a tune/track list (the seed panel's picker) as a user does."""
    from PySide6.QtCore import Qt

    item = tune_list.item(row)
    tune_list.scrollToItem(item)
    qtbot.mouseClick(tune_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=tune_list.visualItemRect(item).center())
