"""ModelControl: which model generates: list the models, load the chosen one in the background, add
a checkpoint the user trained.

It drives the model panel and remembers the choice in the settings; the loading runs in the worker
through the shared `GeneratorCache` (`gui.generation_tasks`), so the first Generate finds the model
ready. Signals: ``models_listed(list)`` (the model cards, now in the chooser) and
``model_ready(str)`` (the name or path that finished loading).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.generation_tasks import GeneratorCache, list_models
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.model_panel import ModelPanel
from gui.workers import Job, Worker

__all__ = ["CHECKPOINT_FILTER", "ModelControl"]

CHECKPOINT_FILTER = "Checkpoints (*.safetensors *.json);;All files (*)"


class ModelControl(QObject):
    """The model chooser: listing, loading and adding checkpoints."""

    models_listed = Signal(list)
    model_ready = Signal(str)

    def __init__(self, panel: ModelPanel, generators: GeneratorCache, *, worker: Worker,
                 status: StatusArea, settings: AppSettings, dialogs: Dialogs,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._panel, self.generators = panel, generators
        self._worker, self._status = worker, status
        self._settings, self._dialogs = settings, dialogs
        panel.model_chosen.connect(self.choose_model)
        panel.other_checkpoint_requested.connect(self.open_checkpoint_dialog)

    def current_model(self) -> str | None:
        """The name or checkpoint path to generate with; None when there is no model."""
        return self._panel.current_model()

    def refresh_models(self, preload: bool = False) -> Job:
        """List the models in the worker; with `preload`, then load the selected one."""
        job = self._worker.submit(list_models, name="list models")
        job.finished.connect(lambda cards: self._models_listed(cards, preload))
        job.failed.connect(self._listing_failed)
        return job

    def _models_listed(self, cards: list[Any], preload: bool) -> None:
        self._panel.set_models(cards, self._settings.model)
        self.models_listed.emit(cards)
        model = self._panel.current_model()
        if preload and model:
            self.choose_model(model)

    def _listing_failed(self, exc: BaseException) -> None:
        self._status.show_message(describe_exception(exc, "looking for models"))

    def choose_model(self, name_or_path: str) -> Job:
        """Remember the model and load it in the background."""
        self._settings.model = name_or_path
        self._panel.set_status("Loading the model…")
        job = self._worker.submit(self.generators.load, name_or_path, name="load model")
        job.finished.connect(lambda _generator: self._model_loaded(name_or_path))
        job.failed.connect(self._model_failed)
        return job

    def _model_loaded(self, name_or_path: str) -> None:
        self._panel.set_status("Ready.")
        self.model_ready.emit(name_or_path)

    def _model_failed(self, exc: BaseException) -> None:
        self._panel.set_status("Could not load this model.")
        self._status.show_message(describe_exception(exc, "loading the model"))

    def open_checkpoint_dialog(self) -> None:
        path = self._dialogs.open_file(self._settings.last_folder, CHECKPOINT_FILTER,
                                       "Open a model checkpoint")
        if path:
            self.add_checkpoint(path)

    def add_checkpoint(self, path: str) -> Job:
        """Load a checkpoint the user trained and add it to the model chooser."""
        job = self._worker.submit(self.generators.card, path, name="load checkpoint")
        job.finished.connect(lambda card: self._panel.add_checkpoint(card, path))
        job.failed.connect(self._checkpoint_failed)
        return job

    def _checkpoint_failed(self, exc: BaseException) -> None:
        self._dialogs.error(describe_exception(exc, "loading the checkpoint"),
                            "Cannot use this checkpoint")
