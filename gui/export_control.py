"""ExportControl: the window's Export: ask with the export dialog, confirm overwrites, write the
files in the worker (`gui.export`) and report where they went."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from musicgen.melody import Melody

from gui.errors import describe_exception
from gui.export import ExportRequest, existing_targets, plan_export, safe_stem, write_plan
from gui.widgets.export_dialog import ExportDialog
from gui.workers import Job

if TYPE_CHECKING:
    from gui.main_window import MainWindow

__all__ = ["ExportControl"]


class ExportControl:
    """Export for one window: the selected variation, all of them, or the seed alone."""

    def __init__(self, window: MainWindow) -> None:
        self._win = window
        self.last_dialog: ExportDialog | None = None

    def _melodies(self) -> list[Melody]:
        win = self._win
        return win.ui.variations.melodies or ([win.seed] if win.seed else [])

    def make_dialog(self) -> ExportDialog | None:
        """The export dialog for what there is to export (None, after saying so, when nothing)."""
        win = self._win
        melodies = self._melodies()
        if not melodies:
            win.dialogs.error("There is nothing to export yet: load a seed and generate.")
            return None
        title = melodies[0].title or "melody"
        dialog = ExportDialog(win.settings.last_folder, safe_stem(title), len(melodies), win)
        if not win.ui.variations.melodies:
            dialog.continuation_radio.setEnabled(False)
        self.last_dialog = dialog
        return dialog

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
        win = self._win
        melodies = self._melodies()
        if not melodies or not request.path:
            return None
        current = max(win.ui.variations.currentRow(), 0)
        plan = plan_export(request, melodies, min(current, len(melodies) - 1))
        existing = existing_targets(plan)
        if existing:
            names = ", ".join(p.name for p in existing[:3]) + ("…" if len(existing) > 3 else "")
            if not win.dialogs.confirm(f"Replace {len(existing)} existing file(s): {names}?",
                                       "Replace files?"):
                return None
        job = win.worker.submit(write_plan, plan, win.ui.transport.tempo_bpm, name="export")
        job.finished.connect(self._exported)
        job.failed.connect(lambda exc: win.dialogs.error(
            describe_exception(exc, "exporting"), "Export failed"))
        folder = Path(request.path) if request.all_variations else Path(request.path).parent
        win.settings.last_folder = str(folder)
        return job

    def _exported(self, paths: list[Path]) -> None:
        where = paths[0] if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
        self._win.show_status(f"Exported {where}.")
        self._win.export_finished.emit(paths)
