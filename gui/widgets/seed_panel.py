"""SeedPanel: what the seed is, which tune or track of its file, trimming, and the ABC pane.

A view only: it is shown a `Melody` and a list of tune/track names and emits what the user asks
for (open a file, pick a part, correct the key, trim to N bars, apply typed ABC). ABC errors are
shown inline; the reader's notes (which track was used, what was changed to fit) in a line under
the summary, hidden when there are none. The key field shows the seed's key (tonic and mode);
changing it emits `key_chosen(Key)`.
The ABC pane shows the melody in view as ABC (`set_abc_text`: the seed, or the seed and the
selected continuation with its first bar marked); it can be copied, or edited and applied as a
new seed.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from gui.widgets.tune_picker import TunePicker
from musicgen.melody import MODES, Key, Melody

__all__ = ["SeedPanel", "describe_seed"]

TONIC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")  # by pitch class
_KEY_TIP = ("The seed's key, as read from the file (its key signature or title, else estimated "
            "from the notes). Correct it here: the models continue relative to the tonic and mode.")
_ABC_EXAMPLE = "X:1\nT:My tune\nM:6/8\nL:1/8\nK:D\nA|dfa afd|gfe dcB|AFA dFA|BGB AFD|"


def describe_seed(melody: Melody) -> str:
    title = melody.title or "Untitled"
    return (f"<b>{title}</b><br>{melody.meter} · {melody.key} · {bars_text(melody)} · "
            f"{melody.note_count} notes")


def bars_text(melody: Melody) -> str:
    """Bars as a musician counts them: "32 bars and a pickup", not 33."""
    bars = melody.musician_bars
    return f"{bars} bar{'s' if bars != 1 else ''}" + (" and a pickup" if melody.pickup_ticks else "")


class SeedPanel(QWidget):
    """Seed summary, open button, tune/track list, trim and ABC pane."""

    open_requested = Signal()
    part_chosen = Signal(int)  # 1-based tune or track number
    trim_requested = Signal(int)  # bars to keep
    key_chosen = Signal(object)  # Key: the user corrected the seed's key
    abc_submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary_label = QLabel("No seed loaded")
        self.summary_label.setWordWrap(True)
        self.notes_label = QLabel("")
        self.notes_label.setObjectName("readerNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet("color:#555")
        self.notes_label.hide()
        self.tonic_combo = QComboBox()
        self.tonic_combo.addItems(list(TONIC_NAMES))
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(list(MODES))
        for combo in (self.tonic_combo, self.mode_combo):
            combo.setToolTip(_KEY_TIP)
            combo.setEnabled(False)
            combo.currentIndexChanged.connect(self._on_key)
        self.open_button = QPushButton("Open a melody…")
        self.open_button.setToolTip("MIDI, ABC or MusicXML (Ctrl+O); you can also drop a file here")
        self.parts_box = QGroupBox("Tunes in this file")
        self.parts_picker = TunePicker()  # loads a tune when it is chosen, not while browsing
        self.parts_list = self.parts_picker.list
        QVBoxLayout(self.parts_box).addWidget(self.parts_picker)
        self.parts_box.hide()
        self.trim_spin = QSpinBox()
        self.trim_spin.setRange(1, 1)
        self.trim_spin.setPrefix("first ")
        self.trim_spin.setSuffix(" bars")
        self.trim_button = QPushButton("Trim")
        self.trim_button.setToolTip("Use only the first bars of the seed")
        self.abc_edit = QPlainTextEdit()
        self.abc_edit.setPlaceholderText("Paste or type ABC here, e.g.\n" + _ABC_EXAMPLE)
        self.abc_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.abc_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.abc_button = QPushButton("Use as the seed")
        self.abc_button.setToolTip("Read this ABC (edited or not) and make it the seed")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the ABC to the clipboard")
        self.abc_error_label = QLabel("")
        self.abc_error_label.setObjectName("abcError")
        self.abc_error_label.setWordWrap(True)
        self.abc_error_label.setStyleSheet("color:#b00020")
        self.abc_error_label.hide()
        self._lay_out()
        self.open_button.clicked.connect(self.open_requested)
        self.trim_button.clicked.connect(lambda: self.trim_requested.emit(self.trim_spin.value()))
        self.abc_button.clicked.connect(lambda: self.abc_submitted.emit(self.abc_edit.toPlainText()))
        self.copy_button.clicked.connect(self.copy_abc)
        self.parts_picker.chosen.connect(self.part_chosen)

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.notes_label)
        key_row = QHBoxLayout()
        key_label = QLabel("Key")
        key_label.setToolTip(_KEY_TIP)
        key_row.addWidget(key_label)
        key_row.addWidget(self.tonic_combo)
        key_row.addWidget(self.mode_combo, 1)
        layout.addLayout(key_row)
        layout.addWidget(self.open_button)
        layout.addWidget(self.parts_box, 1)
        trim_row = QHBoxLayout()
        trim_row.addWidget(self.trim_spin, 1)
        trim_row.addWidget(self.trim_button)
        layout.addLayout(trim_row)
        abc_box = QGroupBox("ABC")
        abc_layout = QVBoxLayout(abc_box)
        abc_layout.addWidget(self.abc_edit, 1)
        abc_layout.addWidget(self.abc_error_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.abc_button, 1)
        abc_layout.addLayout(buttons)
        layout.addWidget(abc_box, 2)

    def set_seed(self, melody: Melody | None, full_bars: int | None = None) -> None:
        """Show a seed; `full_bars` is the untrimmed length the trim box may go up to."""
        if melody is None:
            self.summary_label.setText("No seed loaded")
            for combo in (self.tonic_combo, self.mode_combo):
                combo.setEnabled(False)
            return
        self.summary_label.setText(describe_seed(melody))
        self.show_key(melody.key)
        self.trim_spin.setRange(1, max(1, full_bars or melody.bar_count))
        self.trim_spin.setValue(max(1, melody.bar_count))

    def show_key(self, key: Key) -> None:
        """Show `key` in the key field (emits nothing)."""
        for combo, index in ((self.tonic_combo, key.tonic_pc), (self.mode_combo, MODES.index(key.mode))):
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
            combo.setEnabled(True)

    @property
    def chosen_key(self) -> Key:
        return Key(self.tonic_combo.currentIndex(), MODES[self.mode_combo.currentIndex()])

    def set_notes(self, notes: Sequence[str]) -> None:
        """The reader's notes about the seed, one a line; the line hides when there are none."""
        shown = [n.strip() for n in notes if n.strip()]
        self.notes_label.setText("\n".join(shown))
        self.notes_label.setVisible(bool(shown))

    def _on_key(self, _index: int) -> None:
        self.key_chosen.emit(self.chosen_key)

    def set_parts(self, kind: str, names: Sequence[str], current: int = 1) -> None:
        """List the tunes ('tune') or tracks ('track') of the file; hidden when there is one."""
        self.parts_picker.set_names(names, current)
        self.parts_box.setTitle({"tune": "Tunes", "part": "Parts"}.get(kind, "Tracks") + " in this file")
        self.parts_box.setVisible(len(names) > 1)

    def set_abc_text(self, text: str) -> None:
        """Show the melody in view as ABC (replacing what was typed)."""
        self.abc_edit.setPlainText(text)
        self.set_abc_error("")

    def copy_abc(self) -> None:
        QGuiApplication.clipboard().setText(self.abc_edit.toPlainText())

    def set_abc_error(self, message: str) -> None:
        self.abc_error_label.setText(message)
        self.abc_error_label.setVisible(bool(message))
