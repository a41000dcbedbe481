"""TrainForm: what to train: the model to start from, its name, the budget, and "Advanced".

A view: `set_models(cards)` fills the starting points (every model of the library to fine-tune,
then a new LSTM or Transformer of a size preset); `values()` gives the choices as a dict of
`musicgen.train.finetune.FineTunePlan` fields (without the corpus), which the controller turns
into a plan. Defaults are the measured ones: 5 minutes, the fine-tuning learning rate of
`FINETUNE_LR` and the token limit of `FINETUNE_BATCH_TOKENS` (shown as "default"), batches of
at most 16 tunes, stop after 5 passes without a better held-out figure.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
    QLineEdit, QRadioButton, QSpinBox, QVBoxLayout, QWidget,
)

__all__ = ["TrainForm", "NEW_MODEL_PRESETS"]

NEW_MODEL_PRESETS = ("small", "cpu")  # sizes a new model can start from on a laptop
_KIND_NAMES = {"lstm": "LSTM", "transformer": "Transformer"}
_PRESET_WORDS = {"small": "small, trains in minutes", "cpu": "the shipped size, needs an hour+"}


class TrainForm(QWidget):
    """The starting model, the new model's name, the budget and the advanced settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_combo = QComboBox()
        self.start_combo.setToolTip("Fine-tune a model (it keeps what it knows and learns your "
                                    "style), or train a new one from scratch")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("a name for the new model")
        self.minutes_radio, self.passes_radio = QRadioButton("Minutes"), QRadioButton("Passes")
        self.minutes_radio.setChecked(True)
        self._budget_group = QButtonGroup(self)
        for radio in (self.minutes_radio, self.passes_radio):
            self._budget_group.addButton(radio)
        self.minutes_spin = _spin(QDoubleSpinBox(), 0.1, 600.0, 5.0, " min")
        self.passes_spin = _spin(QSpinBox(), 1, 1000, 10, " passes")
        self.passes_spin.setEnabled(False)
        self.minutes_radio.toggled.connect(self.minutes_spin.setEnabled)
        self.passes_radio.toggled.connect(self.passes_spin.setEnabled)
        self.advanced = self._build_advanced()
        form = QFormLayout()
        form.addRow("Start from", self.start_combo)
        form.addRow("Name", self.name_edit)
        budget = QHBoxLayout()
        for widget in (self.minutes_radio, self.minutes_spin, self.passes_radio, self.passes_spin):
            budget.addWidget(widget)
        budget.addStretch(1)
        form.addRow("Train for", budget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.advanced)

    def _build_advanced(self) -> QGroupBox:
        box = QGroupBox("Advanced")
        box.setFlat(True)
        box.setCheckable(True)
        box.setChecked(False)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(0.0, 0.05)
        self.lr_spin.setSingleStep(0.0001)
        self.lr_spin.setSpecialValueText("default (measured)")
        self.batch_spin = _spin(QSpinBox(), 1, 256, 16, " tunes")
        self.batch_tokens_spin = _spin(QSpinBox(), 0, 65536, 0, " tokens at most")
        self.batch_tokens_spin.setSingleStep(512)
        self.batch_tokens_spin.setSpecialValueText("default token limit (measured)")
        self.patience_spin = _spin(QSpinBox(), 0, 100, 5, " passes")
        self.patience_spin.setSpecialValueText("never")
        self.seed_spin = _spin(QSpinBox(), 0, 2**31 - 1, 0, "")
        self.guard_check = QCheckBox("Keep no pass that copies my tunes more than the base model")
        self.guard_check.setChecked(True)
        inner = QWidget()
        form = QFormLayout(inner)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Batch", self.batch_spin)
        form.addRow("", self.batch_tokens_spin)
        form.addRow("Stop early after", self.patience_spin)
        form.addRow("Random seed", self.seed_spin)
        form.addRow(self.guard_check)
        outer = QVBoxLayout(box)
        outer.addWidget(inner)
        inner.setVisible(False)
        box.toggled.connect(inner.setVisible)
        return box

    def set_models(self, cards: Sequence[Any], selected: str = "") -> None:
        """Offer every model to fine-tune, then new models of each kind and size preset."""
        self.start_combo.clear()
        for card in cards:
            kind = _KIND_NAMES.get(str(card.kind), str(card.kind))
            self.start_combo.addItem(f"Fine-tune {kind} · {card.name}",
                                     {"base": str(card.path), "kind": card.kind,
                                      "label": card.name})
        for kind, pretty in _KIND_NAMES.items():
            for preset in NEW_MODEL_PRESETS:
                self.start_combo.addItem(f"New {pretty} ({_PRESET_WORDS[preset]})",
                                         {"base": None, "kind": kind, "preset": preset,
                                          "label": f"new-{kind}"})
        self.start_combo.setCurrentIndex(self._index_of(selected))

    def _index_of(self, selected: str) -> int:
        """The entry fine-tuning `selected` (a path, a name or a kind: "lstm"), else the first."""
        entries = [self.start_combo.itemData(i) for i in range(self.start_combo.count())]
        for keys in (("base", "label"), ("kind",)):
            for i, data in enumerate(entries):
                if selected and data["base"] and selected in (str(data[k]) for k in keys):
                    return i
        return 0

    def suggest_name(self, folder_name: str, taken: Sequence[str] = ()) -> None:
        """Propose '<folder>-<model>' (numbered when taken) unless the user typed a name."""
        if self.name_edit.isModified() and self.name_edit.text().strip():
            return
        choice = self.start_combo.currentData() or {"label": "model"}
        base = f"{folder_name}-{choice['label']}".replace("/", "-")[:70]
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        self.name_edit.setText(name)

    def values(self) -> dict[str, Any]:
        """The FineTunePlan fields the form sets (name, base, kind, preset, budget, advanced)."""
        choice = self.start_combo.currentData() or {"base": None, "kind": "lstm"}
        minutes = self.minutes_radio.isChecked()
        return {"name": self.name_edit.text().strip(), "base": choice["base"],
                "kind": choice["kind"], "preset": choice.get("preset", "small"),
                "minutes": self.minutes_spin.value() if minutes else None,
                "epochs": None if minutes else self.passes_spin.value(),
                "lr": self.lr_spin.value() or None, "batch_size": self.batch_spin.value(),
                "batch_tokens": self.batch_tokens_spin.value() or None,
                "patience": self.patience_spin.value(), "seed": self.seed_spin.value(),
                "copy_guard": self.guard_check.isChecked()}


def _spin(spin: Any, low: float, high: float, value: float, suffix: str) -> Any:
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin
