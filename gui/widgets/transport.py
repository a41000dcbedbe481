"""TransportBar: Play/Stop, tempo, loop and the playback position."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

__all__ = ["TransportBar"]


class TransportBar(QWidget):
    """A play/stop toggle, a tempo box (beats per minute) and a loop switch."""

    play_clicked = Signal()
    tempo_changed = Signal(int)
    loop_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("▶  Play")
        self.play_button.setToolTip("Play or stop (Space)")
        self.play_button.setMinimumWidth(96)
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(30, 300)
        self.tempo_spin.setSuffix(" bpm")
        self.tempo_spin.setValue(120)
        self.tempo_spin.setToolTip("Playback tempo (quarter notes per minute)")
        self.loop_check = QCheckBox("Loop")
        self.position_label = QLabel("")
        self.position_label.setMinimumWidth(90)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(QLabel("Tempo"))
        layout.addWidget(self.tempo_spin)
        layout.addWidget(self.loop_check)
        layout.addStretch(1)
        layout.addWidget(self.position_label)
        self.play_button.clicked.connect(self.play_clicked)
        self.tempo_spin.valueChanged.connect(self.tempo_changed)
        self.loop_check.toggled.connect(self.loop_toggled)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("■  Stop" if playing else "▶  Play")

    def set_position(self, seconds: float | None, total_seconds: float | None = None) -> None:
        if seconds is None:
            self.position_label.setText("")
            return
        text = f"{int(seconds) // 60}:{seconds % 60:04.1f}"
        if total_seconds:
            text += f" / {int(total_seconds) // 60}:{total_seconds % 60:04.1f}"
        self.position_label.setText(text)

    @property
    def tempo_bpm(self) -> int:
        return self.tempo_spin.value()

    @property
    def loop(self) -> bool:
        return self.loop_check.isChecked()
