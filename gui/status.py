"""StatusArea: the status line, the progress bar and the Stop button: one object controllers share.

Controllers report through it instead of reaching into the window: `show_message` for a sentence,
`show_progress(done, total, message)` relayed unchanged from a worker job (`musicgen.progress`:
``total`` 0 means the call cannot tell how far it is, shown as a busy bar), and `set_busy` around
work the user may stop. `stop_clicked` fires when the Stop button is pressed.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from musicgen.progress import fraction_of

__all__ = ["StatusArea"]

_BAR_STEPS = 1000  # the bar's resolution: 0.1 %
_FORMAT_CHARS = 40  # the most of a progress message the bar shows


class StatusArea(QWidget):
    """A status label, a progress bar and a Stop button (the last two shown only while busy)."""

    message_changed = Signal(str)
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        self.stop_button = QPushButton("Stop")
        self.stop_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.stop_button)
        self._shown_value = -2  # the bar's value (in 1/1000) shown last, to skip needless repaints
        self.stop_button.clicked.connect(self.stop_clicked)
        # As tall when idle as when busy: the Stop button is taller than the line, and a status
        # bar changing height resized the whole window's contents at every job (each click on
        # a note relaid and repainted every panel: 20-100 ms on the GUI thread).
        self.setFixedHeight(max(w.sizeHint().height() for w in (self.label, self.progress_bar,
                                                                 self.stop_button)))

    @property
    def message(self) -> str:
        return self.label.text()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.message_changed.emit(text)

    def set_busy(self, busy: bool, message: str) -> None:
        """Show (or hide) a busy bar with the Stop button, and say `message`."""
        self.stop_button.setVisible(busy)
        self.progress_bar.setVisible(busy)
        self.progress_bar.setRange(0, 0)
        self._shown_value = -2
        self.show_message(message)

    def show_progress(self, done: float, total: float, message: str) -> None:
        """Show a worker's progress (busy when `total` is 0); skips repaints that change nothing."""
        bar = self.progress_bar
        fraction = fraction_of(done, total)
        value = -1 if fraction < 0 else int(fraction * _BAR_STEPS)
        if bar.isHidden():
            bar.show()
        if value != self._shown_value:
            self._shown_value = value
            if value < 0:
                bar.setRange(0, 0)
            else:
                bar.setRange(0, _BAR_STEPS)
                bar.setValue(value)
        if message and bar.format() != message[:_FORMAT_CHARS]:
            bar.setFormat(message[:_FORMAT_CHARS])

    def hide_progress(self) -> None:
        self.progress_bar.hide()
        self._shown_value = -2
