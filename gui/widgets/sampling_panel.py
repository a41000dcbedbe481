"""SamplingPanel: the controls that shape a generation (temperature, top-p, length, RNG seed...).

It shows and gives a `musicgen.generation.GenerationConfig` (torch-free: the panel never imports
the pipeline), which holds the defaults and range checks; the panel's own defaults differ in two
values (`SAMPLING_DEFAULTS`). "New seed each time" is the panel's own switch, not a sampling value:
it says whether Generate rolls the dice first (`values_for_next_generation`).
"""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from musicgen.generation import MAX_RNG_SEED, GenerationConfig

__all__ = ["SAMPLING_DEFAULTS", "SamplingPanel"]

# What the panel shows at first: four variations to compare, a fixed RNG seed to reproduce, and
# continuations that end on a cadence (issue 11: on by default in the app).
SAMPLING_DEFAULTS = GenerationConfig(variations=4, rng_seed=1234, cadence=True)
_FORMS = (("continuation", "Continue the seed"), ("aabb", "Whole tune (AABB)"))


class SamplingPanel(QGroupBox):
    """Temperature slider + number, top-p, bars, variations, RNG seed with dice, switches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sampling", parent)
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
        self._make_tune_controls()
        self._lay_out()
        self._connect()
        self.new_seed_check.setChecked(True)
        self.set_values(SAMPLING_DEFAULTS)

    def _make_tune_controls(self) -> None:
        """Whole tunes: end on a cadence, phrase length, AABB form, part length, endings."""
        self.form_combo = QComboBox()
        for key, label in _FORMS:
            self.form_combo.addItem(label, key)
        self.form_combo.setToolTip("Continue the seed, or write a whole tune: an A part and a B "
                                   "part, each played twice and closing on the tonic")
        self.cadence_check = QCheckBox("End on a cadence")
        self.cadence_check.setToolTip("End at the end of a phrase, the last bar complete, on the "
                                      "tonic on a strong beat")
        self.phrase_combo = QComboBox()
        for bars in (8, 4):
            self.phrase_combo.addItem(f"{bars}-bar phrases", bars)
        self.part_bars_spin = QSpinBox()
        self.part_bars_spin.setRange(2, 32)
        self.part_bars_spin.setSuffix(" bars a part")
        self.endings_check = QCheckBox("First and second endings")
        self.form_combo.currentIndexChanged.connect(self._update_tune_controls)
        self.cadence_check.toggled.connect(self._update_tune_controls)
        self.meter_check.toggled.connect(self._update_tune_controls)

    def _update_tune_controls(self, *_: object) -> None:
        """Show only the choices that apply: a cadence and AABB need whole bars."""
        whole_bars = self.meter_check.isChecked()
        aabb = self.form_combo.currentData() == "aabb"
        self.form_combo.setEnabled(whole_bars)
        self.cadence_check.setEnabled(whole_bars and not aabb)
        self.phrase_combo.setEnabled(whole_bars and not aabb and self.cadence_check.isChecked())
        self.bars_spin.setEnabled(not aabb)
        for widget in (self.part_bars_spin, self.endings_check):
            widget.setVisible(aabb)
            widget.setEnabled(whole_bars)

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
        cadence_row = QHBoxLayout()
        cadence_row.addWidget(self.cadence_check)
        cadence_row.addWidget(self.phrase_combo)
        part_row = QHBoxLayout()
        part_row.addWidget(self.part_bars_spin)
        part_row.addWidget(self.endings_check)
        form.addRow("Make", self.form_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(cadence_row)
        layout.addLayout(part_row)
        for check in (self.new_seed_check, self.key_lock_check, self.meter_check):
            layout.addWidget(check)

    def _connect(self) -> None:
        self.temperature_slider.valueChanged.connect(
            lambda v: self.temperature_spin.setValue(v / 100.0))
        self.temperature_spin.valueChanged.connect(
            lambda v: self.temperature_slider.setValue(round(v * 100)))
        self.dice_button.clicked.connect(lambda: self.roll_dice())

    def values(self) -> GenerationConfig:
        """The sampling values shown (what the panel does not show keeps its default)."""
        whole_bars = self.meter_check.isChecked()
        return SAMPLING_DEFAULTS.replace(
            temperature=round(self.temperature_spin.value(), 2),
            top_p=round(self.top_p_spin.value(), 2),
            bars=self.bars_spin.value(),
            variations=self.variations_spin.value(),
            rng_seed=self.rng_seed_spin.value(),
            key_lock=self.key_lock_check.isChecked(),
            meter_constraint=whole_bars,
            cadence=whole_bars and self.cadence_check.isChecked(),
            phrase_bars=self.phrase_combo.currentData(),
            form=self.form_combo.currentData() if whole_bars else "continuation",
            part_bars=self.part_bars_spin.value(),
            endings=self.endings_check.isChecked(),
        )

    def set_values(self, config: GenerationConfig) -> None:
        """Show `config`, each value clamped to what the controls offer."""
        self.temperature_spin.setValue(min(max(config.temperature, 0.1), 2.0))
        self.top_p_spin.setValue(config.top_p)
        self.bars_spin.setValue(config.bars if config.bars is not None else SAMPLING_DEFAULTS.bars)
        self.variations_spin.setValue(config.variations)
        seed = config.rng_seed if config.rng_seed is not None else SAMPLING_DEFAULTS.rng_seed
        self.rng_seed_spin.setValue(seed)
        self.key_lock_check.setChecked(config.key_lock)
        self.meter_check.setChecked(config.meter_constraint)
        self.cadence_check.setChecked(config.cadence)
        self.phrase_combo.setCurrentIndex(max(0, self.phrase_combo.findData(config.phrase_bars)))
        self.form_combo.setCurrentIndex(max(0, self.form_combo.findData(config.form)))
        self.part_bars_spin.setValue(config.part_bars)
        self.endings_check.setChecked(config.endings)
        self._update_tune_controls()

    @property
    def new_seed_each_time(self) -> bool:
        """Whether Generate rolls a new RNG seed first."""
        return self.new_seed_check.isChecked()

    @new_seed_each_time.setter
    def new_seed_each_time(self, on: bool) -> None:
        self.new_seed_check.setChecked(on)

    def roll_dice(self, rng: random.Random | None = None) -> int:
        """Set and return a new random RNG seed."""
        seed = (rng or random.Random()).randrange(MAX_RNG_SEED)
        self.rng_seed_spin.setValue(seed)
        return seed

    def values_for_next_generation(self) -> GenerationConfig:
        """The values to generate with, rolling a new RNG seed first when asked to."""
        if self.new_seed_each_time:
            self.roll_dice()
        return self.values()

    def replace_values(self, new_seed_each_time: bool | None = None, **changes: Any) -> None:
        """Change some values (GenerationConfig field names) and, if given, the dice switch."""
        if new_seed_each_time is not None:
            self.new_seed_each_time = new_seed_each_time
        self.set_values(self.values().replace(**changes))


def _double_spin(low: float, high: float, step: float, decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    return spin
