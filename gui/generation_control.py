"""GenerationControl: models and generation for the window: list and load models, add a
checkpoint, Generate / Stop with a progress bar, and the variations that come back.

The model work runs in the worker (`gui.generation`); this object wires the results into the
window's panels, status bar and signals.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from musicgen.melody import Melody

from gui.errors import describe_exception
from gui.generation import GeneratorCache, list_models
from gui.workers import Job

if TYPE_CHECKING:
    from gui.main_window import MainWindow

__all__ = ["GenerationControl", "CHECKPOINT_FILTER"]

CHECKPOINT_FILTER = "Checkpoints (*.safetensors *.json);;All files (*)"


class GenerationControl:
    """Model choice and generation for one window."""

    def __init__(self, window: MainWindow) -> None:
        self._win = window
        self.generators = GeneratorCache()
        self.job: Job | None = None
        self._started = 0.0
        self._progress_value = -2  # last value shown (in 1/1000), to skip repaints that change nothing

    # --- models -------------------------------------------------------------------------------
    def refresh_models(self, preload: bool = False) -> Job:
        job = self._win.worker.submit(list_models, name="list models")
        job.finished.connect(lambda cards: self._models_listed(cards, preload))
        job.failed.connect(lambda exc: self._win.show_status(
            describe_exception(exc, "looking for models")))
        return job

    def _models_listed(self, cards: list[Any], preload: bool) -> None:
        win = self._win
        win.ui.model_panel.set_models(cards, win.settings.model)
        win.models_listed.emit(cards)
        model = win.ui.model_panel.current_model()
        if preload and model:
            self.choose_model(model)

    def choose_model(self, name_or_path: str) -> Job:
        """Remember the model and load it in the background."""
        win = self._win
        win.settings.model = name_or_path
        win.ui.model_panel.set_status("Loading the model…")
        job = win.worker.submit(self.generators.load, name_or_path, name="load model")
        job.finished.connect(lambda _gen: self._model_loaded(name_or_path))
        job.failed.connect(self._model_failed)
        return job

    def _model_loaded(self, name_or_path: str) -> None:
        self._win.ui.model_panel.set_status("Ready.")
        self._win.model_ready.emit(name_or_path)

    def _model_failed(self, exc: BaseException) -> None:
        self._win.ui.model_panel.set_status("Could not load this model.")
        self._win.show_status(describe_exception(exc, "loading the model"))

    def open_checkpoint_dialog(self) -> None:
        win = self._win
        path = win.dialogs.open_file(win.settings.last_folder, CHECKPOINT_FILTER,
                                     "Open a model checkpoint")
        if path:
            self.add_checkpoint(path)

    def add_checkpoint(self, path: str) -> Job:
        """Load a checkpoint the user trained and add it to the model chooser."""
        win = self._win
        job = win.worker.submit(self.generators.card, path, name="load checkpoint")
        job.finished.connect(lambda card: win.ui.model_panel.add_checkpoint(card, path))
        job.failed.connect(lambda exc: win.dialogs.error(
            describe_exception(exc, "loading the checkpoint"), "Cannot use this checkpoint"))
        return job

    # --- generation ---------------------------------------------------------------------------
    def generate(self) -> Job | None:
        """Continue the seed with the chosen model and the sampling values (in the worker)."""
        win = self._win
        if self.job is not None:
            return None
        model = win.ui.model_panel.current_model()
        if win.seed is None or model is None:
            win.dialogs.error("Load a seed melody and choose a model first." if model else
                              "No model is available: choose “Other checkpoint…”.")
            return None
        values = win.ui.sampling.values_for_next_generation()
        win.settings.sampling = values.__dict__.copy()
        job = win.worker.submit(self.generators.generate, model, win.seed, values, name="generate")
        self.job, self._started = job, time.monotonic()
        job.progress.connect(self.show_progress)
        job.finished.connect(self._generated)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._stopped)
        self._set_busy(True, f"Generating {values.variations} variation(s) with {model}…")
        return job

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self._win.show_status("Stopping…")

    def _generated(self, melodies: list[Melody]) -> None:
        seconds = time.monotonic() - self._started
        self._set_busy(False, f"Generated {len(melodies)} variation(s) in {seconds:.1f} s.")
        self._win.ui.variations.add_set(melodies)
        self._win.generation_finished.emit(melodies)

    def _failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "generating")
        self._set_busy(False, "Generation failed.")
        self._win.dialogs.error(text, "Generation failed")
        self._win.generation_failed.emit(text)

    def _stopped(self) -> None:
        self._set_busy(False, "Generation stopped.")
        self._win.generation_cancelled.emit()

    def _set_busy(self, busy: bool, message: str) -> None:
        win = self._win
        if not busy:
            self.job = None
        win.actions.generate.setEnabled(not busy)
        win.ui.generate_button.setEnabled(not busy)
        win.actions.stop.setEnabled(busy)
        win.stop_button.setVisible(busy)
        win.progress_bar.setVisible(busy)
        win.progress_bar.setRange(0, 0)
        self._progress_value = -2
        win.show_status(message)

    def show_progress(self, fraction: float, message: str) -> None:
        """Show a worker's progress; skips the repaint when the bar would not change."""
        bar = self._win.progress_bar
        value = -1 if fraction < 0 else int(fraction * 1000)
        if not bar.isVisible():
            bar.show()
        if value != self._progress_value:
            self._progress_value = value
            if value < 0:
                bar.setRange(0, 0)
            else:
                bar.setRange(0, 1000)
                bar.setValue(value)
        if message and bar.format() != message[:40]:
            bar.setFormat(message[:40])
