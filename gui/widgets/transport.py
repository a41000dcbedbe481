"""TransportBar: Play/Stop, tempo, loop, the output (synthesizer or a MIDI port) and the position.

The tempo is shown and typed in the meter's beat, as musicians read it: ``♩. = 110`` in 6/8 (165
quarter notes a minute), ``𝅗𝅥 = 60`` in cut time; `tempo_bpm` is always quarter notes a minute.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget,
)

from musicgen.io.tempo import beat_to_quarter_bpm, quarter_to_beat_bpm, tempo_text
from musicgen.melody import Meter

__all__ = ["TransportBar", "SYNTH_OUTPUT", "NO_MIDI_PORTS_TIP"]

SYNTH_OUTPUT = "Built-in synthesizer"
NO_MIDI_PORTS_TIP = ("No MIDI output port was found (a MIDI backend such as python-rtmidi and a "
                     "sound system are needed), so playback uses the built-in synthesizer.")
_PORTS_TIP = "Play through the built-in synthesizer or send the notes to a MIDI output port"


class TransportBar(QWidget):
    """A play/stop toggle, a tempo box (beats per minute) and a loop switch."""

    play_clicked = Signal()
    loop_toggled = Signal(bool)
    output_changed = Signal(object)  # a MIDI port name, or None for the built-in synthesizer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("▶  Play")
        self.play_button.setToolTip("Play or stop (Space)")
        self.play_button.setMinimumWidth(96)
        self._meter = Meter(4, 4)
        self._quarter_bpm = 120.0
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(20, 400)
        self.tempo_spin.setValue(120)
        self.tempo_spin.valueChanged.connect(self._on_tempo_typed)
        self._show_tempo()
        self.loop_check = QCheckBox("Loop")
        self.output_combo = QComboBox()
        self.output_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.set_midi_ports([])
        self.position_label = QLabel("")
        self.position_label.setMinimumWidth(90)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(QLabel("Tempo"))
        layout.addWidget(self.tempo_spin)
        layout.addWidget(self.loop_check)
        layout.addWidget(self.output_combo)
        layout.addStretch(1)
        layout.addWidget(self.position_label)
        self.play_button.clicked.connect(self.play_clicked)
        self.loop_check.toggled.connect(self.loop_toggled)
        self.output_combo.currentIndexChanged.connect(
            lambda _i: self.output_changed.emit(self.midi_port))

    def set_midi_ports(self, names: list[str]) -> None:
        """Offer these MIDI output ports; with none, the choice is disabled and says why."""
        keep = self.midi_port
        self.output_combo.blockSignals(True)
        self.output_combo.clear()
        self.output_combo.addItem(SYNTH_OUTPUT, None)
        for name in names:
            self.output_combo.addItem(f"MIDI: {name}", name)
        index = self.output_combo.findData(keep) if keep in names else 0
        self.output_combo.setCurrentIndex(max(index, 0))
        self.output_combo.blockSignals(False)
        self.output_combo.setEnabled(bool(names))
        self.output_combo.setToolTip(_PORTS_TIP if names else NO_MIDI_PORTS_TIP)
        if keep != self.midi_port:
            self.output_changed.emit(self.midi_port)

    @property
    def midi_port(self) -> str | None:
        """The chosen MIDI output port, or None for the built-in synthesizer."""
        data = self.output_combo.currentData()
        return str(data) if data else None

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

    def set_meter(self, meter: Meter) -> None:
        """Show the tempo in this meter's beat (the tempo itself does not change)."""
        if meter != self._meter:
            self._meter = meter
            self._show_tempo()

    def set_tempo(self, quarter_bpm: float) -> None:
        """Play at `quarter_bpm` quarter notes a minute, shown in the meter's beat."""
        self._quarter_bpm = float(quarter_bpm)
        self._show_tempo()

    def _show_tempo(self) -> None:
        spin, meter = self.tempo_spin, self._meter
        symbol = tempo_text(self._quarter_bpm, meter).rsplit("=", 1)[0].strip()
        spin.blockSignals(True)
        spin.setPrefix(f"{symbol} = ")
        spin.setValue(round(quarter_to_beat_bpm(self._quarter_bpm, meter)))
        spin.blockSignals(False)
        spin.setToolTip(f"Playback tempo in beats of {symbol} a minute (the meter's beat, "
                        f"{meter}); {self._quarter_bpm:.0f} quarter notes a minute")

    def _on_tempo_typed(self, beats: int) -> None:
        self._quarter_bpm = beat_to_quarter_bpm(beats, self._meter)

    @property
    def tempo_bpm(self) -> float:
        """Quarter notes a minute."""
        return self._quarter_bpm

    @property
    def loop(self) -> bool:
        return self.loop_check.isChecked()
