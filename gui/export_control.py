"""ExportControl: Export: ask with the export dialog, confirm overwrites, write the files in the
worker (`gui.export_tasks`) and say where they went.

It exports the variations listed (the selected one or all of them), or the seed alone when there
are none; it reads the playback tempo through a callable. Signal: ``export_finished(list)`` (the
paths written).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.export_tasks import (
    ExportRequest,
    batch_stem,
    existing_targets,
    plan_export,
    safe_stem,
    write_plan,
)
from gui.seed_state import SeedState
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.export_dialog import ExportDialog
from gui.widgets.variations_list import VariationsList
from gui.workers import Job, Worker
from musicgen.melody import Melody

__all__ = ["ExportControl"]


class ExportControl(QObject):
    """Export the selected variation, all of them, or the seed alone."""

    export_finished = Signal(list)  # list[Path]

    def __init__(self, seed: SeedState, variations: VariationsList, *,
                 tempo_bpm: Callable[[], float], worker: Worker, status: StatusArea,
                 settings: AppSettings, dialogs: Dialogs, dialog_parent: QWidget | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seed, self._variations, self._tempo_bpm = seed, variations, tempo_bpm
        self._worker, self._status = worker, status
        self._settings, self._dialogs = settings, dialogs
        self._dialog_parent = dialog_parent
        self.last_dialog: ExportDialog | None = None

    def _melodies(self) -> list[Melody]:
        seed = self._seed.melody
        return self._variations.melodies or ([seed] if seed else [])

    def make_dialog(self) -> ExportDialog | None:
        """The export dialog for what there is to export (None, after saying so, when nothing)."""
        melodies = self._melodies()
        if not melodies:
            self._dialogs.error("There is nothing to export yet: load a seed and generate.")
            return None
        choices = self._settings.export_choices
        current = self._current_index(melodies)
        title = safe_stem(melodies[0].title or "melody")
        if self._variations.melodies:
            what = f"variation {current + 1} of {len(melodies)}"
            stem = f"{title}-variation-{current + 1}"
        else:
            what, stem = "the seed", title
        dialog = ExportDialog(choices["folder"], stem, len(melodies), self._dialog_parent,
                              what=what, batch_stem=batch_stem(melodies[0]))
        if not self._variations.melodies:
            dialog.continuation_radio.setEnabled(False)
        dialog.choose(choices["suffix"], choices["continuation_only"], choices["all_variations"])
        self.last_dialog = dialog
        return dialog

    def _current_index(self, melodies: list[Melody]) -> int:
        return min(max(self._variations.currentRow(), 0), len(melodies) - 1)

    def open_dialog(self) -> None:
        """Ctrl+E: ask how to export (window-modal, not blocking), then export when accepted."""
        dialog = self.make_dialog()
        if dialog is None:
            return
        dialog.accepted.connect(lambda: self.export_with(dialog.request()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def export_with(self, request: ExportRequest) -> Job | None:
        """Write the selected variation (or all of them) as the request says, after confirming."""
        melodies = self._melodies()
        if not melodies or not request.path:
            return None
        plan = plan_export(request, melodies, self._current_index(melodies))
        existing = existing_targets(plan)
        if existing:
            names = ", ".join(p.name for p in existing[:3]) + ("…" if len(existing) > 3 else "")
            if not self._dialogs.confirm(f"Replace {len(existing)} existing file(s): {names}?",
                                         "Replace files?"):
                return None
        job = self._worker.submit(write_plan, plan, self._tempo_bpm(), name="export")
        job.finished.connect(self._exported)
        job.failed.connect(self._export_failed)
        folder = Path(request.path) if request.all_variations else Path(request.path).parent
        self._settings.save_export_choices(str(folder), request.suffix, request.continuation_only,
                                           request.all_variations)
        return job

    def _exported(self, paths: list[Path]) -> None:
        where = paths[0] if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
        self._status.show_message(f"Exported {where}.")
        self.export_finished.emit(paths)

    def _export_failed(self, exc: BaseException) -> None:
        self._dialogs.error(describe_exception(exc, "exporting"), "Export failed")
