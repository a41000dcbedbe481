"""VariationsList: the generated variations, each shown with its length and the settings that made it.

Lengths are counted as a musician counts them (`describe_length`): new bars after the seed's
last bar, bars in all without the pickup, a whole tune's parts and its bars as played. Each row
shows its variation's own RNG seed, which remakes it alone.

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

__all__ = ["VariationsList", "describe_length", "describe_settings", "new_bar_count"]

# The asked bar count is left out: the row's first line says how many bars the variation has.
_SHOWN = (("model", "{}"), ("temperature", "T {}"), ("top_p", "top-p {}"), ("rng_seed", "seed {}"),
          ("key_lock", "key lock {}"))


def describe_settings(melody: Melody) -> str:
    """One line of the provenance a variation carries (model, temperature, its own RNG seed, ...)."""
    meta = dict(melody.metadata)
    parts = []
    for key, template in _SHOWN:
        value = meta.get(key)
        if value in (None, ""):
            continue
        if key == "top_p" and str(value) in ("1", "1.0"):
            continue  # 1.0 is no nucleus at all: nothing to say
        if key == "key_lock":
            if str(value).lower() in ("true", "1"):
                parts.append("key lock")
            continue
        parts.append(template.format(value))
    return " · ".join(parts)


def new_bar_count(melody: Melody) -> int:
    """Bars the continuation adds, as a musician counts them: completing the seed's last bar is
    not a new bar, a final bar left short is one. Computed without slicing the notes (this runs
    on the GUI thread when a generation arrives)."""
    if melody.seed_end_ticks is None:
        return 0
    total = melody.duration_ticks - melody.seed_end_ticks
    bar = melody.meter.bar_ticks
    completing = (melody.pickup_ticks - melody.seed_end_ticks) % bar  # the seed's unfinished bar
    return -(-max(total - completing, 0) // bar)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def describe_length(melody: Melody) -> str:
    """How long a variation is, in a musician's words: '8 new bars, 24 in all', or for a whole
    tune 'AABB tune, 8-bar parts, 32 bars as played' (a pickup is not a bar)."""
    form = melody.form
    if form is not None and form.parts:
        bar = melody.meter.bar_ticks
        sizes = sorted({part.played_ticks // 2 // bar for part in form.parts})
        parts = " and ".join(f"{n}-bar" for n in sizes)
        names = "".join(part.name * 2 for part in form.parts)
        return (f"{names} tune, {parts} parts, "
                f"{_plural(melody.musician_bars, 'bar')} as played")
    return f"{_plural(new_bar_count(melody), 'new bar')}, {melody.musician_bars} in all"


class VariationsList(QListWidget):
    """One row per variation: its number, its settings and its length."""

    variation_selected = Signal(int)
    variations_reset = Signal()  # the list was emptied or replaced: rows mean new melodies
    variation_edited = Signal(int)  # a row's melody was replaced by its edit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlternatingRowColors(True)
        self.setWordWrap(True)  # a narrow column wraps a row's settings instead of cutting them
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.currentRowChanged.connect(self._on_row)
        self._melodies: list[Melody] = []
        self._set_of_row: list[int] = []  # the set (0 first) each row belongs to
        self._sets = 0

    def set_variations(self, melodies: Sequence[Melody]) -> None:
        """Show only these variations (one set; none clears the list)."""
        self.blockSignals(True)
        self.clear()
        self._melodies = []
        self._set_of_row = []
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
        self._set_of_row.extend([self._sets - 1] * len(melodies))
        self.setCurrentRow(first)
        self.blockSignals(False)
        self.scrollToItem(self.item(first))
        self.variation_selected.emit(first)

    def _describe(self, item: QListWidgetItem, melody: Melody) -> None:
        label = item.data(Qt.ItemDataRole.UserRole)
        edits = dict(melody.metadata).get("edits")
        edited = f" · edited ({edits})" if edits else ""
        item.setText(f"{label} — {describe_length(melody)}{edited}\n"
                     f"{describe_settings(melody)}")
        item.setToolTip(dict(melody.metadata).get("last_edit", describe_settings(melody)))

    def replace_melody(self, row: int, melody: Melody) -> None:
        """Put an edited melody in place of row ``row`` and show it (``variation_selected``)."""
        if not 0 <= row < len(self._melodies):
            return
        self._melodies[row] = melody
        self._describe(self.item(row), melody)
        self.variation_edited.emit(row)
        if self.currentRow() == row:
            self.variation_selected.emit(row)
        else:
            self.setCurrentRow(row)

    @property
    def current_melody(self) -> Melody | None:
        row = self.currentRow()
        return self._melodies[row] if 0 <= row < len(self._melodies) else None

    def set_of(self, row: int) -> list[Melody]:
        """The variations made by the same Generate as row ``row`` (edits included)."""
        if not 0 <= row < len(self._melodies):
            return []
        number = self._set_of_row[row]
        return [m for m, s in zip(self._melodies, self._set_of_row) if s == number]

    def pitch_range_of(self, row: int) -> tuple[int, int] | None:
        """The lowest and highest pitch over row ``row``'s set: the roll keeps these rows for
        every variation of a set, so picking another one does not move the rows."""
        ranges = [m.pitch_range for m in self.set_of(row) if m.pitch_range is not None]
        if not ranges:
            return None
        return min(low for low, _ in ranges), max(high for _, high in ranges)

    def sets(self) -> list[list[Melody]]:
        """Every set, in the order generated (what a session saves)."""
        return [[m for m, s in zip(self._melodies, self._set_of_row) if s == number]
                for number in range(self._sets)]

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
