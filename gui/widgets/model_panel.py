"""ModelPanel: choose the LSTM, the Transformer, one of your own models or another checkpoint,
read its model card, and rename, delete or show your own models.

A view only: it is given the model cards (`musicgen.library.ModelInfo`-like objects with name,
path, kind, parameters, corpus, bits_per_note, measured_on, and for a fine-tune bits_before, base,
copy_share; ``user`` for the user's own models). Each bits-per-note figure says which tunes it was
measured on, and only figures measured on the same tunes are set beside each other
(`compare_note`): the folk test split and a few of the user's own tunes do not compare. and emits the name or path the user picked, and
the card to rename, delete or reveal (offered for the user's own models only).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["ModelPanel", "compare_note", "describe_card", "OTHER_CHECKPOINT"]

OTHER_CHECKPOINT = "Other checkpoint…"
_KIND_NAMES = {"lstm": "LSTM", "transformer": "Transformer"}


def _size(parameters: Any) -> str:
    try:
        count = int(parameters)
    except (TypeError, ValueError):
        return "?"
    if count >= 1_000_000:
        return f"{count / 1e6:.1f} M parameters"
    return f"{count / 1e3:.0f} k parameters" if count >= 1000 else f"{count} parameters"


def _bits(card: Any) -> float | None:
    bits = getattr(card, "bits_per_note", None)
    return float(bits) if isinstance(bits, (int, float)) else None


def _name(card: Any) -> str:
    return str(getattr(card, "name", "") or Path(str(getattr(card, "path", "model"))).stem)


def compare_note(card: Any, others: Sequence[Any]) -> str:
    """Which other models' bits per note this card's figure can be set beside: only those
    measured on the same tunes. Figures on other tunes (the folk test split against a few of the
    user's own tunes) say nothing about which model is better, so they are named apart."""
    tunes = getattr(card, "measured_on", None)
    if _bits(card) is None or not tunes:
        return ""
    measured = [o for o in others if o is not card and _bits(o) is not None
                and getattr(o, "measured_on", None)]
    same = [o for o in measured if o.measured_on == tunes]
    apart = [o for o in measured if o.measured_on != tunes]
    notes = []
    if same:
        notes.append("Compares with " + ", ".join(f"{_name(o)} ({_bits(o):.2f})" for o in same)
                     + ": the same tunes.")
    if apart:
        notes.append("Not comparable with " + ", ".join(_name(o) for o in apart)
                     + ": measured on other tunes.")
    return " ".join(notes)


def describe_card(card: Any, others: Sequence[Any] = ()) -> str:
    """A model card as short rich text: kind, size, corpus, bits per note and the tunes it was
    measured on (a fine-tune's base model on the same tunes), which listed models it compares
    with, and a fine-tune's copying."""
    bits = _bits(card)
    bits_text = f"{bits:.2f}" if bits is not None else "not measured"
    measured_on = getattr(card, "measured_on", None)
    if bits is not None and measured_on:
        bits_text += f" <span style='color:#666'>on {escape(str(measured_on))}</span>"
    before = getattr(card, "bits_before", None)
    if isinstance(before, (int, float)) and bits is not None:
        base = escape(str(getattr(card, "base", None) or "the base model"))
        bits_text += f"<br>{base} on the same tunes: {before:.2f} (lower is better)"
    kind = str(getattr(card, "kind", "") or "?")
    rows = [("Kind", _KIND_NAMES.get(kind.lower(), kind)),
            ("Size", _size(getattr(card, "parameters", None))),
            ("Corpus", escape(str(getattr(card, "corpus", "") or "unknown"))),
            ("Bits/note", bits_text)]
    note = compare_note(card, others)
    if note:
        rows.append(("", f"<span style='color:#666'>{escape(note)}</span>"))
    copies = getattr(card, "copy_share", None)
    if isinstance(copies, (int, float)):
        reference = getattr(card, "copy_reference", None)
        rows.append(("Copies", f"{copies:.0%} of samples repeat 4+ bars of its tunes"
                     + (f" (base {reference:.0%})" if isinstance(reference, (int, float)) else "")))
    cells = "".join(f"<tr><td style='color:#666;padding-right:8px'>{k}</td><td>{v}</td></tr>"
                    for k, v in rows)
    return f"<table>{cells}</table>"


def _label(card: Any) -> str:
    """'LSTM · lstm-folk': the kind first, so the two shipped models are told apart at a glance."""
    name = str(getattr(card, "name", "") or Path(str(getattr(card, "path", "model"))).stem)
    kind = str(getattr(card, "kind", "") or "")
    pretty = _KIND_NAMES.get(kind.lower(), kind)
    return f"{pretty} · {name}" if pretty else name


class ModelPanel(QGroupBox):
    """A model combo box with an "Other checkpoint…" entry, a model card and a load status."""

    model_chosen = Signal(str)  # a model name ("lstm") or a checkpoint path
    other_checkpoint_requested = Signal()
    rename_requested = Signal(object)  # the card of one of the user's models
    delete_requested = Signal(object)
    reveal_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self.combo = QComboBox()
        self.card_label = QLabel("Looking for models…")
        self.card_label.setWordWrap(True)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet("color:#666")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.reveal_button = QPushButton("Show file")
        self.reveal_button.setToolTip("Show the model's folder in the file manager")
        self.library_row = QWidget()
        row = QHBoxLayout(self.library_row)
        row.setContentsMargins(0, 0, 0, 0)
        for button, signal in ((self.rename_button, self.rename_requested),
                               (self.delete_button, self.delete_requested),
                               (self.reveal_button, self.reveal_requested)):
            row.addWidget(button)
            button.clicked.connect(lambda _=False, s=signal: self._emit_card(s))
        self.library_row.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.combo)
        layout.addWidget(self.card_label)
        layout.addWidget(self.library_row)
        layout.addWidget(self.status_label)
        self._cards: list[Any] = []
        self._keys: list[str] = []
        self._current = -1
        self.combo.activated.connect(self._on_activated)

    def set_models(self, cards: Sequence[Any], selected: str = "") -> None:
        """Fill the chooser; select `selected` (a name or path) when it is among them."""
        self._cards = list(cards)
        self._keys = [self._key(card) for card in self._cards]
        self.combo.blockSignals(True)
        self.combo.clear()
        for card, key in zip(self._cards, self._keys):
            self.combo.addItem(_label(card), key)
        self.combo.addItem(OTHER_CHECKPOINT, None)
        self.combo.blockSignals(False)
        index = self._index_of(selected)
        self._select(index if index >= 0 else (0 if self._cards else -1))

    def add_checkpoint(self, card: Any, path: str) -> None:
        """Add (or reselect) a checkpoint file the user picked, select it and announce it."""
        index = self._index_of(path)
        if index < 0:
            self._cards.append(card)
            self._keys.append(path)
            index = len(self._cards) - 1
            self.combo.insertItem(index, _label(card), path)
            self.combo.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        self._select(index)
        self.model_chosen.emit(path)

    @property
    def cards(self) -> list[Any]:
        """The model cards listed (the user's checkpoints picked by path included)."""
        return list(self._cards)

    def current_model(self) -> str | None:
        """The name or checkpoint path to load, None when there is no model."""
        return self._keys[self._current] if 0 <= self._current < len(self._keys) else None

    def current_card(self) -> Any | None:
        return self._cards[self._current] if 0 <= self._current < len(self._cards) else None

    def _emit_card(self, signal: Any) -> None:
        card = self.current_card()
        if card is not None and getattr(card, "user", False):
            signal.emit(card)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _on_activated(self, index: int) -> None:
        if index >= len(self._cards):  # "Other checkpoint…"
            self.combo.setCurrentIndex(max(self._current, 0))
            self.other_checkpoint_requested.emit()
            return
        self._select(index)
        self.model_chosen.emit(self._keys[index])

    def _select(self, index: int) -> None:
        self._current = index
        if index >= 0:
            self.combo.setCurrentIndex(index)
            self.card_label.setText(describe_card(self._cards[index], self._cards))
        else:
            self.card_label.setText("No model found: choose “Other checkpoint…”.")
        card = self.current_card()
        self.library_row.setVisible(bool(card is not None and getattr(card, "user", False)))

    def _index_of(self, key: str) -> int:
        """The card whose path, name or kind ("lstm") is `key`; -1 when none."""
        for i, card in enumerate(self._cards):
            if key and key in (self._keys[i], str(getattr(card, "name", ""))):
                return i
        for i, card in enumerate(self._cards):
            if key and key.lower() == str(getattr(card, "kind", "")).lower():
                return i
        return -1

    @staticmethod
    def _key(card: Any) -> str:
        """What `load_generator` is given: the checkpoint path (a name only when there is none)."""
        path = getattr(card, "path", None)
        return str(path) if path else str(getattr(card, "name", ""))
