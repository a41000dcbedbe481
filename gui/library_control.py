"""LibraryControl: rename, delete and show the user's own models (the model panel's buttons).

It asks through `Dialogs` (a new name; a confirmation before deleting), changes the library
through `musicgen.library` (checkpoint, card and run folder move or go together), and announces
``library_changed(str)`` with the path to select afterwards ('' for none), so the model chooser
lists the change at once. The model being trained cannot be renamed or deleted (`busy_name`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.model_panel import ModelPanel

__all__ = ["LibraryControl"]


class LibraryControl(QObject):
    """The user's models: rename, delete (after a confirmation), reveal in the file manager."""

    library_changed = Signal(str)  # the path to select now ('' when the selection went away)

    def __init__(self, panel: ModelPanel, *, busy_name: Callable[[], str], status: StatusArea,
                 settings: AppSettings, dialogs: Dialogs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._busy_name, self._status = busy_name, status
        self._settings, self._dialogs = settings, dialogs
        panel.rename_requested.connect(self.rename)
        panel.delete_requested.connect(self.delete)
        panel.reveal_requested.connect(self.reveal)

    def _refuse_busy(self, card: Any) -> bool:
        if card.name == self._busy_name():
            self._dialogs.error(f"“{card.name}” is being trained: stop the training first.",
                                "The model is in use")
            return True
        return False

    def rename(self, card: Any) -> str | None:
        """Ask for a new name and rename the model (checkpoint, card, run folder)."""
        from musicgen import library

        if self._refuse_busy(card):
            return None
        new_name = self._dialogs.ask_text(f"A new name for “{card.name}”:", "Rename the model",
                                          card.name)
        if not new_name or new_name.strip() == card.name:
            return None
        try:
            path = str(library.rename_model(card.name, new_name))
        except Exception as exc:  # noqa: BLE001 - told in words, the library stays as it was
            self._dialogs.error(describe_exception(exc, "renaming the model"), "Cannot rename")
            return None
        if self._settings.model in (str(card.path), card.name):
            self._settings.model = path
        self._status.show_message(f"Renamed “{card.name}” to “{new_name.strip()}”.")
        self.library_changed.emit(path)
        return path

    def delete(self, card: Any) -> bool:
        """Delete the model after the user confirms."""
        from musicgen import library

        if self._refuse_busy(card):
            return False
        if not self._dialogs.confirm(f"Delete “{card.name}” for good? Its checkpoint, its card "
                                     "and its training run are removed.", "Delete the model"):
            return False
        try:
            library.delete_model(card.name)
        except Exception as exc:  # noqa: BLE001 - told in words
            self._dialogs.error(describe_exception(exc, "deleting the model"), "Cannot delete")
            return False
        if self._settings.model in (str(card.path), card.name):
            self._settings.model = "lstm"
        self._status.show_message(f"Deleted “{card.name}”.")
        self.library_changed.emit("")
        return True

    def reveal(self, card: Any) -> None:
        if not self._dialogs.reveal(str(card.path)):
            self._status.show_message(f"No file manager could be opened; the model is in "
                                      f"{card.path.parent}.")
