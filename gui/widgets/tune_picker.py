"""TunePicker: the tunes of a tune book (or the tracks of a MIDI file) with a search box.

A tune is loaded when the user chooses it: a click, or Enter (on the list or in the search box),
or a double-click. Moving through the list with the arrow keys or its type-ahead, and typing in the
search box, only move the highlight and filter: an 800-tune book is browsed without reading every
tune passed on the way (and without an error dialog for an unreadable one nobody asked for).
Choosing the tune already shown does nothing.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

__all__ = ["TunePicker", "SEARCH_FROM"]

SEARCH_FROM = 8  # the search box shows for this many tunes or more
_NUMBER = Qt.ItemDataRole.UserRole  # each row's 1-based tune/track number, whatever is filtered


class TunePicker(QWidget):
    """A searchable list of names; ``chosen(int)`` (1-based) when the user picks one."""

    chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip("Type part of a title, then click a tune or press Enter to load it")
        self.list = QListWidget()
        self.list.setToolTip("Click a tune, or move to it and press Enter, to use it as the seed")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.list, 1)
        self._shown = 0  # the number loaded now (0: none)
        self._names: list[str] = []
        self.search_edit.textChanged.connect(self.filter)
        self.search_edit.returnPressed.connect(self._choose_from_search)
        self.list.itemClicked.connect(self._choose_item)
        self.list.itemActivated.connect(self._choose_item)  # Enter, double-click

    def set_names(self, names: Sequence[str], current: int = 1) -> None:
        """Show the names (numbered from 1), `current` highlighted as the one loaded. The same
        names again (another tune of the same book was loaded) keep the search as it is."""
        self._shown = current if names else 0
        if list(names) == self._names:
            self.list.setCurrentRow(current - 1)
            return
        self._names = list(names)
        self.list.clear()
        for number, name in enumerate(names, start=1):
            item = QListWidgetItem(name)
            item.setData(_NUMBER, number)
            self.list.addItem(item)
        self.search_edit.blockSignals(True)
        self.search_edit.clear()
        self.search_edit.blockSignals(False)
        self.search_edit.setVisible(len(names) >= SEARCH_FROM)
        self.list.setCurrentRow(current - 1)

    def filter(self, text: str) -> None:
        """Show only names holding every typed word (any order, any case); the first one left is
        highlighted (not loaded)."""
        words = text.casefold().split()
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hidden = not all(word in item.text().casefold() for word in words)
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        current = self.list.currentItem()
        if first is not None and (current is None or current.isHidden()):
            self.list.setCurrentItem(first)

    def visible_names(self) -> list[str]:
        return [self.list.item(r).text() for r in range(self.list.count()) if not self.list.item(r).isHidden()]

    def choose(self, number: int) -> None:
        """Ask for tune `number` (1-based), unless it is the one shown (`set_names` says which is
        shown once it has loaded; a tune that could not be read may be chosen again)."""
        if number != self._shown:
            self.chosen.emit(number)

    def _choose_item(self, item: QListWidgetItem) -> None:
        self.choose(int(item.data(_NUMBER)))

    def _choose_from_search(self) -> None:
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            self._choose_item(item)
