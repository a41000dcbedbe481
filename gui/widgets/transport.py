"""TransportBar: Play/Stop, tempo, loop, the output (synthesizer or a MIDI port) and the position.

The tempo is shown and typed in the meter's beat, as musicians read it: ``♩. = 110`` in 6/8 (165
quarter notes a minute), ``𝅗𝅥 = 60`` in cut time; `tempo_bpm` is always quarter notes a minute.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget,
)

from musicgen.io.tempo import beat_to_quarter_bpm, quarter_to_beat_bpm, tempo_text
from musicgen.melody import Meter

__all__ = ["TransportBar", "SYNTH_OUTPUT", "FIND_PORTS", "NO_PORT_FOUND", "NO_MIDI_PORTS_TIP"]

SYNTH_OUTPUT = "Synthesizer"  # the built-in one (short: the bar must fit a 1024 px window)
FIND_PORTS = "Find MIDI ports…"
NO_PORT_FOUND = "No MIDI port found"
NO_MIDI_PORTS_TIP = ("No MIDI output port was found (a MIDI backend such as python-rtmidi and a "
                     "sound system are needed), so playback uses the built-in synthesizer.")
_PORTS_TIP = "Play through the built-in synthesizer or send the notes to a MIDI output port"


class TransportBar(QWidget):
    """A play/stop toggle, a tempo box (beats per minute) and a loop switch."""

    play_clicked = Signal()
    loop_toggled = Signal(bool)
    output_changed = Signal(object)  # a MIDI port name, or None for the built-in synthesizer
    find_ports_requested = Signal()  # "Find MIDI ports…" was chosen in the output list

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("▶  Play")
        self.play_button.setToolTip("Play or stop (Space)")
        self.play_button.setMinimumWidth(84)
        self._meter = Meter(4, 4)
        self._quarter_bpm = 120.0
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(20, 400)
        self.tempo_spin.setValue(120)
        self.tempo_spin.setAccessibleName("Tempo")
        self.tempo_spin.valueChanged.connect(self._on_tempo_typed)
        self._show_tempo()
        self.loop_check = QCheckBox("Loop")
        self.output_combo = QComboBox()
        # as wide as "Synthesizer": the list opens as wide as its longest entry
        self.output_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.output_combo.setMinimumContentsLength(len(SYNTH_OUTPUT))
        self.set_midi_ports([])
        self.position_label = QLabel("")
        self.position_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.play_button)
        layout.addSpacing(8)  # the tempo box must not touch the button
        layout.addWidget(self.tempo_spin)  # "♩ = 120" says what it is; no label (1024 px)
        layout.addWidget(self.loop_check)
        layout.addWidget(self.output_combo)
        layout.addStretch(1)
        layout.addWidget(self.position_label)
        self.play_button.clicked.connect(self.play_clicked)
        self.loop_check.toggled.connect(self.loop_toggled)
        self._shown_index = 0
        self.output_combo.currentIndexChanged.connect(self._output_chosen)

    def set_midi_ports(self, names: list[str]) -> None:
        """Offer these MIDI output ports. The list always ends with "Find MIDI ports…", and says
        "No MIDI port found" (with the reason in its tooltip) when a search found none."""
        keep = self.midi_port
        combo = self.output_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(SYNTH_OUTPUT, None)
        combo.setItemData(0, "The built-in synthesizer", Qt.ItemDataRole.ToolTipRole)
        for name in names:
            combo.addItem(f"MIDI: {name}", name)
        if not names:
            combo.addItem(NO_PORT_FOUND, None)
            combo.model().item(combo.count() - 1).setEnabled(False)
            combo.setItemData(combo.count() - 1, NO_MIDI_PORTS_TIP, Qt.ItemDataRole.ToolTipRole)
        combo.insertSeparator(combo.count())
        combo.addItem(FIND_PORTS, None)
        index = combo.findData(keep) if keep in names else 0
        combo.setCurrentIndex(max(index, 0))
        self._shown_index = combo.currentIndex()
        combo.blockSignals(False)
        combo.setToolTip(_PORTS_TIP if names else NO_MIDI_PORTS_TIP)
        combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)
        if keep != self.midi_port:
            self.output_changed.emit(self.midi_port)

    def _output_chosen(self, index: int) -> None:
        if self.output_combo.itemText(index) == FIND_PORTS:
            self.output_combo.blockSignals(True)
            self.output_combo.setCurrentIndex(self._shown_index)  # the output stays as it was
            self.output_combo.blockSignals(False)
            self.find_ports_requested.emit()
            return
        self._shown_index = index
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
