"""CorpusBrowser: search the folk corpus by title, filter it by collection, pick a tune as the seed.

Columns a musician uses: title, tune type (the source's ``R:`` field, where it has one), meter, key
and collection; typing searches titles, types and collections.

The first load prepares the corpus (minutes): the browser says how many tunes are parsed and about
how long is left, and offers Stop. What was parsed is kept, so "Resume" carries on from there (and
says how many tunes it found done).
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QEvent, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHeaderView, QLabel, QLineEdit, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

__all__ = ["CorpusBrowser", "ALL_COLLECTIONS"]

ALL_COLLECTIONS = "All collections"
_COLUMNS = ("Title", "Type", "Meter", "Key", "Collection")
_COLLECTION = _COLUMNS.index("Collection")
_COLUMN_SAMPLES = ("hornpipe", "Meter", "E dorian", "oneills1850")  # widths of columns 2 to 5


class _TitleOrCollectionFilter(QSortFilterProxyModel):
    """Keeps rows whose title or collection contains every word typed (any order, any case),
    within the chosen collection (all when none is chosen)."""

    words: list[str] = []
    collection: str | None = None

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_collection(self, collection: str | None) -> None:
        self.beginFilterChange()
        self.collection = collection or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent) -> bool:  # type: ignore[override]
        model = self.sourceModel()
        if self.collection is not None and model.index(row, _COLLECTION, parent).data() != self.collection:
            return False
        words = self.words
        if not words:
            return True
        text = " ".join(str(model.index(row, col, parent).data() or "")
                        for col in (0, 1, _COLLECTION)).lower()
        return all(word in text for word in words)


class CorpusBrowser(QWidget):
    """A search box over a table of tunes (title, type, meter, key, collection), and "Use as seed"."""

    load_requested = Signal()
    stop_requested = Signal()
    tune_chosen = Signal(object)  # the corpus tune (it has .melody)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status_label = QLabel("The folk corpus is loaded when you first need it.")
        self.status_label.setWordWrap(True)
        self.load_button = QPushButton("Load the folk corpus")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop preparing the corpus; the tunes parsed so far are kept and "
                                    "the next load resumes from there")
        self.stop_button.hide()
        self._parsed = (0, 0)  # tunes parsed and in all, as last reported
        self._resumed = ""  # what a resumed preparation found done, in words
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search title, type or collection…")
        self.search_edit.setClearButtonEnabled(True)
        self.collection_combo = QComboBox()
        self.collection_combo.setToolTip("Show the tunes of one collection only")
        self.collection_combo.addItem(ALL_COLLECTIONS, None)
        self._model = QStandardItemModel(0, len(_COLUMNS), self)
        self._model.setHorizontalHeaderLabels(list(_COLUMNS))
        self._proxy = _TitleOrCollectionFilter(self)
        self._proxy.setSourceModel(self._model)
        self.table = QTableView()
        self.table.setModel(self._proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        # Titles get the room. The other columns have widths of their own (the user can drag
        # them), long texts are elided on one line: sized to their contents, Essen's types
        # ("Liebes - Lied, Abschieds - Lied") took 431 px and left the titles 26 at 1024 x 600.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.table.fontMetrics()
        self._natural = [metrics.horizontalAdvance(sample) + 16 for sample in _COLUMN_SAMPLES]
        self.table.viewport().installEventFilter(self)
        self._fit_columns()
        self.use_button = QPushButton("Use as seed")
        layout = QVBoxLayout(self)
        for widget in (self.status_label, self.load_button, self.stop_button, self.search_edit,
                       self.collection_combo):
            layout.addWidget(widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.use_button)
        self._tunes: list[Any] = []
        self.load_button.clicked.connect(self.load_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.search_edit.textChanged.connect(self._proxy.set_text)
        self.collection_combo.currentIndexChanged.connect(
            lambda _i: self._proxy.set_collection(self.collection_combo.currentData()))
        self.use_button.clicked.connect(self._use_selected)
        self.table.doubleClicked.connect(lambda _index: self._use_selected())

    def eventFilter(self, watched: Any, event: Any) -> bool:  # type: ignore[override]
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """Keep at least 45% of a narrow table (and 120 px) for the titles: the other columns
        shrink together, their texts elided, down to 28 px each."""
        available = self.table.viewport().width()
        room = available - max(120, int(0.45 * available))
        scale = min(1.0, room / sum(self._natural)) if room > 0 else 0.0
        for column, natural in enumerate(self._natural, start=1):
            self.table.setColumnWidth(column, max(28, int(natural * scale)))

    def set_tunes(self, tunes: Sequence[Any]) -> None:
        """Show corpus tunes (objects with title, collection, split and melody)."""
        self._tunes = list(tunes)
        self._model.removeRows(0, self._model.rowCount())
        for i, tune in enumerate(self._tunes):
            cells = [QStandardItem(text) for text in _row(tune)]
            cells[0].setData(i, Qt.ItemDataRole.UserRole)
            self._model.appendRow(cells)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.collection_combo.blockSignals(True)
        self.collection_combo.clear()
        self.collection_combo.addItem(ALL_COLLECTIONS, None)
        for name in sorted({str(getattr(t, "collection", "") or "") for t in self._tunes} - {""}):
            self.collection_combo.addItem(name, name)
        self.collection_combo.blockSignals(False)
        self._proxy.set_collection(None)
        self.load_button.hide()
        self.stop_button.hide()
        self.status_label.setText(f"{len(self._tunes):,} tunes. Double-click one to use it as the seed.")

    def set_status(self, text: str) -> None:
        """A sentence about the corpus (a failure: Load stays there to try again)."""
        self.stop_button.hide()
        self.load_button.setVisible(not self._tunes)
        self.status_label.setText(text)

    def show_loading(self) -> None:
        """Loading has started: Stop instead of Load."""
        self._resumed = ""
        self.load_button.hide()
        self.stop_button.show()
        self.stop_button.setEnabled(True)
        self.status_label.setText("Loading the corpus (the first time it is prepared: a few minutes)…")

    def show_progress(self, done: float, total: float, message: str) -> None:
        """The preparation's progress (`musicgen.corpus.prepare_corpus` reports) in words."""
        if message.startswith("resuming:"):
            self._resumed = f"Resuming: {message.split(':', 1)[1].strip()}. "
        if message.startswith(("resuming:", "parsing tunes")) and total:
            self._parsed = (int(done), int(total))
            left = message.split(", ", 1)[1] if ", " in message else ""
            text = (f"{self._resumed}Preparing the corpus (only the first time): {int(done):,} of "
                    f"{int(total):,} tunes parsed" + (f", {left}" if left else "") + ".")
        elif message.startswith("checking"):
            text = f"{self._resumed}All {self._parsed[1]:,} tunes parsed; checking and splitting them…"
        else:
            return
        self.status_label.setText(text)

    def show_stopped(self) -> None:
        """The preparation was stopped: what is kept, and Resume."""
        done, total = self._parsed
        kept = f"{done:,} of {total:,} tunes are parsed and kept" if total else "what was parsed is kept"
        self.status_label.setText(f"Stopped: {kept}. Resume carries on from there.")
        self.stop_button.hide()
        self.load_button.setText("Resume preparing the corpus")
        self.load_button.show()

    def search(self, text: str) -> None:
        self.search_edit.setText(text)

    def visible_titles(self) -> list[str]:
        return [str(self._proxy.index(r, 0).data()) for r in range(self._proxy.rowCount())]

    def choose_row(self, row: int) -> None:
        """Select a row of the (filtered) table and use that tune."""
        self.table.selectRow(row)
        self._use_selected()

    def _use_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            index = self._proxy.index(rows[0].row(), 0)
            self.tune_chosen.emit(self._tunes[int(index.data(Qt.ItemDataRole.UserRole))])


def _row(tune: Any) -> list[str]:
    """The cells of one tune: title, type, meter, key, collection."""
    melody = getattr(tune, "melody", None)
    meta = dict(getattr(melody, "metadata", ()) or ())
    return [str(getattr(tune, "title", "") or ""), meta.get("rhythm", ""),
            str(melody.meter) if melody is not None else "",
            str(melody.key) if melody is not None else "",
            str(getattr(tune, "collection", "") or "")]
