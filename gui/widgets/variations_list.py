"""VariationsList: the generated variations, each shown with the settings that made it.

Every Generate adds a set (its rows are appended, nothing is rebuilt), so continuations made at two
temperatures stay side by side until the seed changes (`set_variations([])`, which says
`variations_reset`). An edited variation takes its row's place (`replace_melody`), marked
"edited", and is selected again so the views show it.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from musicgen.melody import Melody

__all__ = ["VariationsList", "describe_settings", "generated_bar_count"]

_SHOWN = (("model", "{}"), ("temperature", "T {}"), ("top_p", "top-p {}"), ("rng_seed", "seed {}"),
          ("bars", "{} bars"), ("key_lock", "key lock {}"))


def describe_settings(melody: Melody) -> str:
    """One line of the provenance a variation carries (model, temperature, RNG seed, ...)."""
    meta = dict(melody.metadata)
    parts = []
    for key, template in _SHOWN:
        value = meta.get(key)
        if value in (None, ""):
            continue
        if key == "key_lock":
            if str(value).lower() in ("true", "1"):
                parts.append("key lock")
            continue
        parts.append(template.format(value))
    return " · ".join(parts)


def generated_bar_count(melody: Melody) -> int:
    """`melody.continuation.bar_count`, computed without slicing the notes (this runs on the GUI
    thread when a generation arrives)."""
    if melody.seed_end_ticks is None:
        return 0
    total = melody.duration_ticks - melody.seed_end_ticks
    if total <= 0:
        return 0
    bar = melody.meter.bar_ticks
    pickup = (melody.pickup_ticks - melody.seed_end_ticks) % bar
    full, partial = divmod(max(total - pickup, 0), bar)
    return full + (1 if partial else 0) + (1 if pickup else 0)


class VariationsList(QListWidget):
    """One row per variation: its number, its settings and its length."""

    variation_selected = Signal(int)
    variations_reset = Signal()  # the list was emptied or replaced: rows mean new melodies

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlternatingRowColors(True)
        self.currentRowChanged.connect(self._on_row)
        self._melodies: list[Melody] = []
        self._sets = 0

    def set_variations(self, melodies: Sequence[Melody]) -> None:
        """Show only these variations (one set; none clears the list)."""
        self.blockSignals(True)
        self.clear()
        self._melodies = []
        self._sets = 0
        self.blockSignals(False)
        self.variations_reset.emit()
        self.add_set(melodies)

    def add_set(self, melodies: Sequence[Melody]) -> None:
        """Append the variations of one generation and select the first of them."""
        if not melodies:
            return
        self._sets += 1
        first = len(self._melodies)
        self.blockSignals(True)
        for i, melody in enumerate(melodies, start=first + 1):
            label = f"Variation {i}" + (f" · set {self._sets}" if self._sets > 1 else "")
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, label)
            self.addItem(item)
            self._describe(item, melody)
        self._melodies.extend(melodies)
        self.setCurrentRow(first)
        self.blockSignals(False)
        self.scrollToItem(self.item(first))
        self.variation_selected.emit(first)

    def _describe(self, item: QListWidgetItem, melody: Melody) -> None:
        label = item.data(Qt.ItemDataRole.UserRole)
        edits = dict(melody.metadata).get("edits")
        edited = f" · edited ({edits})" if edits else ""
        item.setText(f"{label}  ({generated_bar_count(melody)} bars generated){edited}\n"
                     f"{describe_settings(melody)}")
        item.setToolTip(dict(melody.metadata).get("last_edit", describe_settings(melody)))

    def replace_melody(self, row: int, melody: Melody) -> None:
        """Put an edited melody in place of row ``row`` and show it (``variation_selected``)."""
        if not 0 <= row < len(self._melodies):
            return
        self._melodies[row] = melody
        self._describe(self.item(row), melody)
        if self.currentRow() == row:
            self.variation_selected.emit(row)
        else:
            self.setCurrentRow(row)

    @property
    def current_melody(self) -> Melody | None:
        row = self.currentRow()
        return self._melodies[row] if 0 <= row < len(self._melodies) else None

    @property
    def set_count(self) -> int:
        """How many generations the list holds."""
        return self._sets

    @property
    def melodies(self) -> list[Melody]:
        return list(self._melodies)

    def _on_row(self, row: int) -> None:
        if 0 <= row < len(self._melodies):
            self.variation_selected.emit(row)
