"""GenerationControl: Generate and Stop, and the variations that come back.

It drives the sampling panel, the variations list, the Generate button and the Generate / Stop
actions; it reads the seed from the `SeedState` and the model from a `current_model` callable, and
runs the generation in the worker (`gui.generation_tasks`), showing its progress in the
`StatusArea`. A new seed clears the previous seed's variations.

Signals: ``generation_finished(list)`` (the new variations, now listed),
``generation_cancelled()`` and ``generation_failed(str)`` (the sentence shown).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.generation_tasks import GeneratorCache
from gui.seed_state import SeedState
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.sampling_panel import SamplingPanel
from gui.widgets.variations_list import VariationsList
from gui.workers import Job, Worker
from musicgen.melody import Melody

__all__ = ["GenerationControl"]


class GenerationControl(QObject):
    """Continue the seed with the chosen model and the panel's sampling values."""

    generation_finished = Signal(list)  # list[Melody]
    generation_cancelled = Signal()
    generation_failed = Signal(str)

    def __init__(self, seed: SeedState, sampling: SamplingPanel, variations: VariationsList,
                 generate_button: QPushButton, generate_action: QAction, stop_action: QAction, *,
                 generators: GeneratorCache, current_model: Callable[[], str | None],
                 worker: Worker, status: StatusArea, settings: AppSettings, dialogs: Dialogs,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seed, self._sampling, self._variations = seed, sampling, variations
        self._generate_button, self._generate_action = generate_button, generate_action
        self._stop_action = stop_action
        self._generators, self._current_model = generators, current_model
        self._worker, self._status = worker, status
        self._settings, self._dialogs = settings, dialogs
        self.job: Job | None = None
        self.model_in_use: str | None = None  # the model of the last generation started
        self._started = 0.0
        seed.seed_changed.connect(self._seed_changed)
        generate_button.clicked.connect(self.generate)
        generate_action.triggered.connect(self.generate)
        stop_action.triggered.connect(self.stop)
        stop_action.setEnabled(False)

    def generate(self) -> Job | None:
        """Continue the seed with the chosen model and the sampling values (in the worker)."""
        if self.job is not None:
            return None
        model, seed = self._current_model(), self._seed.melody
        if seed is None or model is None:
            self._dialogs.error("Load a seed melody and choose a model first." if model else
                                "No model is available: choose “Other checkpoint…”.")
            return None
        config = self._sampling.values_for_next_generation()
        self._settings.save_sampling(config, self._sampling.new_seed_each_time)
        job = self._worker.submit(self._generators.generate, model, seed, config, name="generate")
        self.job, self._started, self.model_in_use = job, time.monotonic(), model
        job.progress.connect(self._status.show_progress)
        job.finished.connect(self._generated)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._stopped)
        self._set_busy(True, f"Generating {config.variations} variation(s) with {model}…")
        return job

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self._status.show_message("Stopping…")

    def _generated(self, melodies: list[Melody]) -> None:
        seconds = time.monotonic() - self._started
        self._set_busy(False, f"Generated {len(melodies)} variation(s) in {seconds:.1f} s.")
        self._variations.add_set(melodies)
        self.generation_finished.emit(melodies)

    def _failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "generating")
        self._set_busy(False, "Generation failed.")
        self._dialogs.error(text, "Generation failed")
        self.generation_failed.emit(text)

    def _stopped(self) -> None:
        self._set_busy(False, "Generation stopped.")
        self.generation_cancelled.emit()

    def _set_busy(self, busy: bool, message: str) -> None:
        if not busy:
            self.job = None
        self._generate_action.setEnabled(not busy)
        self._generate_button.setEnabled(not busy)
        self._stop_action.setEnabled(busy)
        self._status.set_busy(busy, message)

    def _seed_changed(self, _melody: Melody) -> None:
        self._variations.set_variations([])
