"""SamplingPanel: the controls that shape a generation (temperature, top-p, length, RNG seed...).

It holds `SamplingValues`, a plain frozen value with the same field names as
`musicgen.pipeline.GenerationConfig` (so this widget never imports the pipeline or torch) plus
the panel-only switch ``new_seed_each_time``.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QSlider, QSpinBox, QToolButton,
    QVBoxLayout, QWidget,
)

__all__ = ["SamplingPanel", "SamplingValues", "MAX_RNG_SEED"]

MAX_RNG_SEED = 2**31 - 1


@dataclass(frozen=True)
class SamplingValues:
    """What the panel shows; ``generation_kwargs()`` feeds GenerationConfig."""

    temperature: float = 1.0
    top_p: float = 1.0
    bars: int = 8
    variations: int = 4
    rng_seed: int = 1234
    new_seed_each_time: bool = True
    key_lock: bool = False
    meter_constraint: bool = True

    def generation_kwargs(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("new_seed_each_time")
        return values

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SamplingValues:
        """Build from saved settings, ignoring unknown keys and values of the wrong type."""
        clean: dict[str, Any] = {}
        for spec in fields(cls):
            value, default = data.get(spec.name), spec.default
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok:
                clean[spec.name] = type(default)(value)
        return cls(**clean)


class SamplingPanel(QGroupBox):
    """Temperature slider + number, top-p, bars, variations, RNG seed with dice, switches."""

    values_changed = Signal(object)  # SamplingValues

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sampling", parent)
        self._building = True
        self.temperature_slider = QSlider(Qt.Orientation.Horizontal)
        self.temperature_slider.setRange(10, 200)
        self.temperature_spin = _double_spin(0.1, 2.0, 0.05, 2)
        self.temperature_spin.setToolTip("Low: safe and repetitive. High: adventurous.")
        self.top_p_spin = _double_spin(0.05, 1.0, 0.05, 2)
        self.top_p_spin.setToolTip("Sample only from the most likely notes that add up to this share")
        self.bars_spin = QSpinBox()
        self.bars_spin.setRange(1, 64)
        self.bars_spin.setSuffix(" bars")
        self.variations_spin = QSpinBox()
        self.variations_spin.setRange(1, 8)
        self.rng_seed_spin = QSpinBox()
        self.rng_seed_spin.setRange(0, MAX_RNG_SEED)
        self.rng_seed_spin.setToolTip("The same seed and settings give the same continuation")
        self.dice_button = QToolButton()
        self.dice_button.setText("Dice")
        self.dice_button.setToolTip("Pick a new random seed")
        self.new_seed_check = QCheckBox("New seed each time")
        self.key_lock_check = QCheckBox("Key lock (stay in the seed's scale)")
        self.meter_check = QCheckBox("Meter constraint (whole bars)")
        self._lay_out()
        self._connect()
        self.set_values(SamplingValues())
        self._building = False

    def _lay_out(self) -> None:
        temp_row = QHBoxLayout()
        temp_row.addWidget(self.temperature_slider, 1)
        temp_row.addWidget(self.temperature_spin)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.rng_seed_spin, 1)
        seed_row.addWidget(self.dice_button)
        form = QFormLayout()
        form.addRow("Temperature", temp_row)
        form.addRow("Top-p", self.top_p_spin)
        form.addRow("Length", self.bars_spin)
        form.addRow("Variations", self.variations_spin)
        form.addRow("RNG seed", seed_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for check in (self.new_seed_check, self.key_lock_check, self.meter_check):
            layout.addWidget(check)

    def _connect(self) -> None:
        self.temperature_slider.valueChanged.connect(
            lambda v: self.temperature_spin.setValue(v / 100.0))
        self.temperature_spin.valueChanged.connect(
            lambda v: self.temperature_slider.setValue(round(v * 100)))
        self.dice_button.clicked.connect(lambda: self.roll_dice())
        for spin in (self.temperature_spin, self.top_p_spin, self.bars_spin, self.variations_spin,
                     self.rng_seed_spin):
            spin.valueChanged.connect(self._emit)
        for check in (self.new_seed_check, self.key_lock_check, self.meter_check):
            check.toggled.connect(self._emit)

    def _emit(self, *_args: object) -> None:
        if not self._building:
            self.values_changed.emit(self.values())

    def values(self) -> SamplingValues:
        return SamplingValues(
            temperature=round(self.temperature_spin.value(), 2),
            top_p=round(self.top_p_spin.value(), 2),
            bars=self.bars_spin.value(),
            variations=self.variations_spin.value(),
            rng_seed=self.rng_seed_spin.value(),
            new_seed_each_time=self.new_seed_check.isChecked(),
            key_lock=self.key_lock_check.isChecked(),
            meter_constraint=self.meter_check.isChecked(),
        )

    def set_values(self, values: SamplingValues) -> None:
        building, self._building = self._building, True
        self.temperature_spin.setValue(min(max(values.temperature, 0.1), 2.0))
        self.top_p_spin.setValue(values.top_p)
        self.bars_spin.setValue(values.bars)
        self.variations_spin.setValue(values.variations)
        self.rng_seed_spin.setValue(min(max(values.rng_seed, 0), MAX_RNG_SEED))
        self.new_seed_check.setChecked(values.new_seed_each_time)
        self.key_lock_check.setChecked(values.key_lock)
        self.meter_check.setChecked(values.meter_constraint)
        self._building = building
        self._emit()

    def roll_dice(self, rng: random.Random | None = None) -> int:
        """Set and return a new random RNG seed."""
        seed = (rng or random.Random()).randrange(MAX_RNG_SEED)
        self.rng_seed_spin.setValue(seed)
        return seed

    def values_for_next_generation(self) -> SamplingValues:
        """The values to generate with, rolling a new RNG seed first when asked to."""
        if self.new_seed_check.isChecked():
            self.roll_dice()
        return self.values()

    def replace_values(self, **changes: Any) -> None:
        self.set_values(replace(self.values(), **changes))


def _double_spin(low: float, high: float, step: float, decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    return spin
