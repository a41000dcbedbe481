"""FocusPanel: "why this note": the candidates the model weighed at a note, what it attended to,
which known tunes the bars around it come from, and the buttons that reshape the continuation.

A view only: it is shown a `musicgen.insight.NoteInsight` and a list of
`musicgen.provenance.ProvenanceMatch`, and emits what the user asks for: use another candidate
(`candidate_chosen`), look at another layer or head (`attention_view_changed`, head None for the
average of the layer's heads), regenerate the selected bars (`regenerate_requested`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicgen.insight import Candidate, NoteInsight, duration_name

__all__ = ["FocusPanel", "describe_match"]

_HINT = ("Click a generated note on the roll or the score to see what else the model weighed, "
         "what it attended to, and whether the phrase is a known tune's.")


def describe_match(match) -> str:  # a musicgen.provenance.ProvenanceMatch
    """One line of rich text for a provenance match."""
    tune = match.tune
    first, last = match.tune_bars
    bars = f"bar {first}" if first == last else f"bars {first}–{last}"
    title = html.escape(tune.title or "Untitled")
    where = f"{html.escape(tune.collection)}, {bars}"
    if match.run_bars:
        shift = f", {match.transposition:+d} semitones" if match.transposition else ""
        what = f"{match.run_bars} bar(s) in a row match{shift}"
    else:
        what = f"{match.matched_bars} bar(s) match, {match.similar_bars} by pitch only"
    flag = " <b style='color:#b00020'>⚑ known tune</b>" if match.known else ""
    split = "" if tune.split == "train" else f" ({tune.split} set)"
    return f"<b>{title}</b>{split} · {where} · {what}{flag}"


class _ProbabilityBar(QStyledItemDelegate):
    """The probability column drawn as a bar from the item's value (``UserRole``) and text. A
    QProgressBar widget per cell, made at every click and dropped at the next, cost the window a
    layout pass and a repaint each."""

    def paint(self, painter, option, index) -> None:  # type: ignore[override]
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 2, -2, -2)
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.palette, bar.fontMetrics = option.palette, option.fontMetrics
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = round(1000 * float(index.data(Qt.ItemDataRole.UserRole) or 0.0))
        bar.text, bar.textVisible = str(index.data() or ""), True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class FocusPanel(QScrollArea):
    """The note in focus: candidates, attention, provenance, and shaping."""

    candidate_chosen = Signal(object)  # musicgen.insight.Candidate
    attention_view_changed = Signal(int, object)  # layer, head (None: average of heads)
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.insight: NoteInsight | None = None
        self.title_label = QLabel("No note in focus")
        self.title_label.setWordWrap(True)
        self.status_label = QLabel(_HINT)
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color:#555")
        self._build_candidates()
        self._build_attention()
        self.provenance_label = QLabel("")
        self.provenance_label.setWordWrap(True)
        self.provenance_label.setTextFormat(Qt.TextFormat.RichText)
        self.selection_label = QLabel("Drag across bars on the piano roll to select them.")
        self.selection_label.setWordWrap(True)
        self.regenerate_button = QPushButton("Regenerate the selected bars")
        self.regenerate_button.setToolTip("Sample those bars again; everything after them stays")
        self.regenerate_button.setEnabled(False)
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self._lay_out()

    def _build_candidates(self) -> None:
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Note", "Length", "Probability"])
        self.table.setItemDelegateForColumn(2, _ProbabilityBar(self.table))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(120)
        # Scroll bars that come and go with the number of rows (or of lines in the panel) changed
        # the widths inside at every click, and each change relaid and repainted the whole panel.
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.chosen_label = QLabel("")
        self.chosen_label.setWordWrap(True)
        self.use_button = QPushButton("Use this note and continue")
        self.use_button.setToolTip("Keep everything before the note, take the selected candidate, "
                                   "and let the model continue from there")
        self.use_button.setEnabled(False)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.use_button.clicked.connect(self._use)

    def _build_attention(self) -> None:
        self.layer_combo, self.head_combo = QComboBox(), QComboBox()
        self.attention_label = QLabel("")
        self.attention_label.setWordWrap(True)
        self.layer_combo.currentIndexChanged.connect(self._attention_choice)
        self.head_combo.currentIndexChanged.connect(self._attention_choice)

    def _lay_out(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.title_label)
        layout.addWidget(self.status_label)
        layout.addWidget(_group("Candidates at this step", self.table, self.chosen_label,
                                self.use_button))
        choosers = QWidget()
        row = QHBoxLayout(choosers)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.layer_combo)
        row.addWidget(self.head_combo, 1)
        self.attention_box = _group("Attention (what it looked at)", choosers, self.attention_label)
        layout.addWidget(self.attention_box)
        layout.addWidget(_group("Known tunes nearby", self.provenance_label))
        layout.addWidget(_group("Shape the continuation", self.selection_label,
                                self.regenerate_button))
        layout.addStretch(1)
        self.setWidget(body)
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # see the table's
        self.setFrameShape(QScrollArea.Shape.NoFrame)

    # --- what is shown --------------------------------------------------------------------------
    def show_note(self, title: str, status: str = "") -> None:
        """A new note in focus: its description; the sections empty until their results come."""
        self.title_label.setText(title)
        self.status_label.setText(status)
        self.insight = None
        self.table.setRowCount(0)
        self.chosen_label.setText("")
        self.use_button.setEnabled(False)
        self.set_attention_message("")
        self.provenance_label.setText("")

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_insight(self, insight: NoteInsight) -> None:
        """Fill the candidates table (the chosen one in bold, marked ●)."""
        self.insight = insight
        self.table.setRowCount(len(insight.candidates))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for row, candidate in enumerate(insight.candidates):
            mark = "● " if candidate.chosen else ""
            for column, text in enumerate((mark + candidate.name,
                                           duration_name(candidate.duration_ticks))):
                item = QTableWidgetItem(text)
                if candidate.chosen:
                    item.setFont(bold)
                self.table.setItem(row, column, item)
            chance = QTableWidgetItem(f"{candidate.probability * 100:.1f} %")
            chance.setData(Qt.ItemDataRole.UserRole, float(candidate.probability))
            self.table.setItem(row, 2, chance)
        self.chosen_label.setText(_describe_chosen(insight))

    def set_attention_choices(self, layers: int, heads: int) -> None:
        """Offer every layer and head (the last layer, average of heads, chosen first)."""
        for combo in (self.layer_combo, self.head_combo):
            combo.blockSignals(True)
            combo.clear()
        self.layer_combo.addItems([f"Layer {i + 1}" for i in range(layers)])
        self.head_combo.addItems(["Average of heads"] + [f"Head {i + 1}" for i in range(heads)])
        self.layer_combo.setCurrentIndex(max(0, layers - 1))
        for combo in (self.layer_combo, self.head_combo):
            combo.setEnabled(layers > 0)
            combo.setVisible(layers > 0)
            combo.blockSignals(False)

    def set_attention_message(self, text: str) -> None:
        """Say something about attention instead of choosers (an LSTM has none)."""
        self.set_attention_choices(0, 0)
        self.attention_label.setText(text)

    def set_attention_summary(self, text: str) -> None:
        self.attention_label.setText(text)

    @property
    def attention_view(self) -> tuple[int, int | None]:
        head = self.head_combo.currentIndex()
        return max(0, self.layer_combo.currentIndex()), (None if head <= 0 else head - 1)

    def set_provenance(self, matches: Sequence, note: str = "") -> None:
        lines = [f"<p style='color:#555'>{html.escape(note)}</p>"] if note else []
        if matches:
            lines.append("<ol style='margin-left:-20px'>" +
                         "".join(f"<li>{describe_match(m)}</li>" for m in matches) + "</ol>")
        elif not note:
            lines.append("No tune of the corpus shares these bars.")
        self.provenance_label.setText("".join(lines))

    def set_provenance_message(self, text: str) -> None:
        self.provenance_label.setText(html.escape(text))

    def set_selection(self, text: str, can_regenerate: bool) -> None:
        self.selection_label.setText(text)
        self.regenerate_button.setEnabled(can_regenerate)

    # --- user actions ---------------------------------------------------------------------------
    def selected_candidate(self) -> Candidate | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if self.insight is None or not rows:
            return None
        return self.insight.candidates[rows[0].row()]

    def _selection_changed(self) -> None:
        candidate = self.selected_candidate()
        self.use_button.setEnabled(candidate is not None and not candidate.chosen)

    def _use(self) -> None:
        candidate = self.selected_candidate()
        if candidate is not None and not candidate.chosen:
            self.candidate_chosen.emit(candidate)

    def _attention_choice(self, _index: int) -> None:
        if self.layer_combo.count():
            self.attention_view_changed.emit(*self.attention_view)


def _group(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    for widget in widgets:
        layout.addWidget(widget)
    return box


def _describe_chosen(insight: NoteInsight) -> str:
    chosen = insight.chosen
    bits = "∞ (the settings rule it out now)" if math.isinf(chosen.surprisal_bits) \
        else f"{chosen.surprisal_bits:.2f} bits"
    settings = insight.settings
    how = f"temperature {settings.temperature:g}"
    if settings.top_k:
        how += f", top-k {settings.top_k}"
    if settings.top_p < 1:
        how += f", top-p {settings.top_p:g}"
    return (f"Chosen: <b>{chosen.name}</b>, {duration_name(chosen.duration_ticks)} · "
            f"p = {chosen.probability:.3f} · surprisal {bits} · the model alone "
            f"p = {chosen.model_probability:.3f}. Probabilities are the sampler's ({how}, "
            "constraints in force).")
