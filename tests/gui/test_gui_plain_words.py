"""Every dialog shows plain text: a message about "<html>" keeps its angle brackets."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_an_error_box_shows_angle_brackets_as_text(qtbot, window):
    message = "the root element is <html>, not a partwise MusicXML score"
    with qtbot.waitSignal(window.dialogs.error_shown):
        window.dialogs.error(message)
    box = window.dialogs.last_box
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert box.text() == message
    box.close()
