"""ShapeControl: reshape the selected variation: use another candidate at the note in focus,
regenerate the bars dragged over on the roll, and undo or redo every edit, per variation.

An edit runs in the worker (`gui.shape_tasks`) on the model that made the variation
(`gui.focus_tasks.ModelRecall`), then takes the variation's place in the list
(`VariationsList.replace_melody`), so the roll, the score, the ABC pane, playback and export all
use the edited melody. Each variation keeps its own undo and redo stacks (Ctrl+Z, Ctrl+Shift+Z);
a new seed or a new list clears them. Stop (the status area's button) stops a running edit.

Signals: ``shaped(object)`` (the edited melody, now listed), ``shape_failed(str)``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.focus_tasks import ModelRecall
from gui.shape_tasks import pick, regenerate
from gui.status import StatusArea
from gui.widgets.focus_panel import FocusPanel
from gui.widgets.piano_roll import PianoRollView
from gui.widgets.variations_list import VariationsList
from gui.workers import Job, Worker
from musicgen.melody import Melody

__all__ = ["ShapeControl"]


class ShapeControl(QObject):
    """Edits of the selected variation, with undo and redo per variation."""

    shaped = Signal(object)  # Melody
    shape_failed = Signal(str)

    def __init__(self, variations: VariationsList, roll: PianoRollView, panel: FocusPanel,
                 undo_action: QAction, redo_action: QAction, regenerate_action: QAction,
                 recall: ModelRecall, generators: Any, *, worker: Worker, status: StatusArea,
                 dialogs: Dialogs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._variations, self._roll, self._panel = variations, roll, panel
        self._undo_action, self._redo_action = undo_action, redo_action
        self._regenerate_action = regenerate_action
        self._recall, self._generators = recall, generators
        self._worker, self._status, self._dialogs = worker, status, dialogs
        self._history: dict[int, tuple[list[Melody], list[Melody]]] = {}
        self.job: Job | None = None
        panel.candidate_chosen.connect(self.pick)
        panel.regenerate_requested.connect(self.regenerate_selection)
        regenerate_action.triggered.connect(self.regenerate_selection)
        undo_action.triggered.connect(self.undo)
        redo_action.triggered.connect(self.redo)
        status.stop_clicked.connect(self.stop)
        roll.bars_selected.connect(lambda *_bars: self._update())
        roll.melody_changed.connect(lambda _melody: self._update())
        variations.variations_reset.connect(self._reset)
        self._update()

    # --- what can be edited ---------------------------------------------------------------------
    def _target(self) -> tuple[int, Melody, str] | None:
        """(row, melody, model key) of the variation shown on the roll, when it can be edited."""
        row, melody = self._variations.currentRow(), self._variations.current_melody
        if melody is None or self._roll.melody is not melody:
            return None
        key = self._recall.key_for(melody)
        return (row, melody, key) if key else None

    def _stacks(self, row: int) -> tuple[list[Melody], list[Melody]]:
        return self._history.setdefault(row, ([], []))

    def _update(self) -> None:
        target, idle = self._target(), self.job is None
        undo, redo = self._stacks(target[0]) if target else ([], [])
        self._undo_action.setEnabled(idle and bool(undo))
        self._redo_action.setEnabled(idle and bool(redo))
        bars = self._roll.selected_bars
        can = idle and target is not None and bars is not None
        self._regenerate_action.setEnabled(can)
        if bars is None:
            text = "Drag across bars on the piano roll to select them."
        else:
            melody = self._roll.melody
            number = 0 if melody is None or melody.pickup_ticks else 1
            text = f"Bars {bars[0] + number}–{bars[1] + number} selected."
            if target is None:
                text += " Select a generated variation to regenerate them."
        self._panel.set_selection(text, can)

    def _reset(self) -> None:
        self._history.clear()
        self._update()

    # --- edits ----------------------------------------------------------------------------------
    def pick(self, candidate: Any) -> Job | None:
        """Use ``candidate`` (a `musicgen.insight.Candidate`) at the note in focus and continue."""
        target, insight = self._target(), self._panel.insight
        if target is None or insight is None or self.job is not None:
            return None
        row, melody, key = target
        return self._run(row, melody, f"Continuing from {candidate.name}…", pick, self._generators,
                         key, melody, insight.note_index, candidate.pitch, candidate.duration_ticks)

    def regenerate_selection(self) -> Job | None:
        """Regenerate the bars selected on the roll (everything after them stays)."""
        target, bars = self._target(), self._roll.selected_bars
        if target is None or bars is None or self.job is not None:
            if bars is None:
                self._status.show_message("Drag across bars on the piano roll to select them first.")
            return None
        row, melody, key = target
        return self._run(row, melody, "Regenerating the selected bars…", regenerate,
                         self._generators, key, melody, bars[0], bars[1])

    def _run(self, row: int, before: Melody, message: str, fn: Any, *args: Any) -> Job:
        job = self._worker.submit(fn, *args, name="shape")
        self.job = job
        job.progress.connect(self._status.show_progress)
        job.finished.connect(lambda after: self._shaped(row, before, after))
        job.failed.connect(self._failed)
        job.cancelled.connect(lambda: self._done("Stopped; the variation is unchanged."))
        self._status.set_busy(True, message)
        self._update()
        return job

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()

    def _done(self, message: str) -> None:
        self.job = None
        self._status.set_busy(False, message)
        self._update()

    def _shaped(self, row: int, before: Melody, after: Melody) -> None:
        if row >= len(self._variations.melodies) or self._variations.melodies[row] is not before:
            self._done("The variation changed meanwhile; the edit was dropped.")
            return
        undo, redo = self._stacks(row)
        undo.append(before)
        redo.clear()
        self._done(f"{dict(after.metadata).get('last_edit', 'Edited').capitalize()}. "
                   "Ctrl+Z undoes it.")
        self._variations.replace_melody(row, after)
        self.shaped.emit(after)

    def _failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "reshaping the variation")
        self._done("The variation is unchanged.")
        self._dialogs.error(text, "Cannot reshape")
        self.shape_failed.emit(text)

    # --- undo and redo --------------------------------------------------------------------------
    def undo(self) -> None:
        self._step_history(back=True)

    def redo(self) -> None:
        self._step_history(back=False)

    def _step_history(self, back: bool) -> None:
        target = self._target()
        if target is None or self.job is not None:
            return
        row, current, _key = target
        undo, redo = self._stacks(row)
        source, other = (undo, redo) if back else (redo, undo)
        if not source:
            return
        other.append(current)
        melody = source.pop()
        self._status.show_message("Undone." if back else "Redone.")
        self._variations.replace_melody(row, melody)
        self._update()
