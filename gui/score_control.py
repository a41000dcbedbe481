"""ScoreControl: the score view and the ABC pane follow the melody on the piano roll; the View
menu shows the roll, the score, or both.

Whenever the roll shows another melody (a seed, a variation, an edit), the worker writes its ABC
for the pane and, when the score is shown, engraves it for the score view's width
(`gui.score_tasks.render_score`: verovio in a helper process, QtSvg on the worker thread), so the
window only sets text and paints a finished image. One job runs at a time; a request made
meanwhile is remembered and run next, and a result for a melody no longer shown is dropped. While
the score is hidden only the ABC is written. The chosen view is saved in the settings.

Signals: ``engraved(object)`` (a `gui.score_tasks.RenderedScore`, now shown),
``engrave_failed(str)``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction

from gui.errors import describe_exception
from gui.score_tasks import RenderedScore, render_score
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.piano_roll import CONTINUATION_COLOUR, SEED_COLOUR, PianoRollView
from gui.widgets.score_view import ScoreView
from gui.widgets.seed_panel import SeedPanel
from gui.workers import Job, Worker
from musicgen.melody import Melody

__all__ = ["VIEW_MODES", "ScoreControl"]

VIEW_MODES = ("roll", "score", "both")
_RELAYOUT_MS = 250  # a resize waits this long for the next before the page is laid out again


class ScoreControl(QObject):
    """The score and the ABC of the melody on the roll, and which views are shown."""

    engraved = Signal(object)
    engrave_failed = Signal(str)

    def __init__(self, score: ScoreView, roll: PianoRollView, seed_panel: SeedPanel,
                 view_actions: dict[str, QAction], *, worker: Worker, status: StatusArea,
                 settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._score, self._roll, self._seed_panel = score, roll, seed_panel
        self._view_actions = view_actions
        self._worker, self._status, self._settings = worker, status, settings
        self.job: Job | None = None
        self._pending = False
        self._shown_width = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_RELAYOUT_MS)
        self._timer.timeout.connect(self._width_settled)
        roll.melody_changed.connect(self.show)
        score.width_changed.connect(lambda _width: self._timer.start())
        for mode, action in view_actions.items():
            action.triggered.connect(lambda _checked=False, m=mode: self.set_mode(m))
        self.set_mode(settings.score_view)

    @property
    def mode(self) -> str:
        return next((m for m, a in self._view_actions.items() if a.isChecked()), "both")

    def set_mode(self, mode: str) -> None:
        """Show the roll, the score, or both (saved for the next start)."""
        mode = mode if mode in VIEW_MODES else "both"
        self._view_actions[mode].setChecked(True)
        self._roll.setVisible(mode != "score")
        self._score.setVisible(mode != "roll")
        self._settings.score_view = mode
        if mode != "roll" and self._score.melody is not self._roll.melody:
            self.engrave()

    def show(self, melody: Melody | None) -> None:
        """The roll shows ``melody``: its ABC in the pane and its score engraved (in the worker)."""
        if melody is None:
            self._score.clear()
            return
        self.engrave()

    def engrave(self) -> Job | None:
        """Write the roll's melody as ABC and, with the score shown, engrave it (after the running
        job, if any)."""
        melody = self._roll.melody
        if melody is None or not melody.notes:
            return None
        if self.job is not None:
            self._pending = True
            return None
        page = self._score.isVisible()
        if page and self._score.melody is not melody:
            self._score.set_message("Engraving…")
        width = max(320, self._score.viewport().width() - 4)
        ratio = self._score.devicePixelRatioF()
        job = self._worker.submit(render_score, melody, width, ratio, SEED_COLOUR.name(),
                                  CONTINUATION_COLOUR.name(), page, name="engrave")
        self.job, self._pending = job, False
        self._shown_width = width if page else self._shown_width
        job.finished.connect(self._engraved)
        job.failed.connect(self._failed)
        return job

    def _width_settled(self) -> None:
        if abs(self._score.viewport().width() - 4 - self._shown_width) > 8:
            self.engrave()

    def _engraved(self, rendered: RenderedScore) -> None:
        self.job = None
        current = rendered.melody is self._roll.melody
        if current:
            self._seed_panel.set_abc_text(rendered.abc)
        if current and rendered.engraving is not None:
            self._score.set_page(rendered.melody, rendered.engraving, rendered.image)
            self.engraved.emit(rendered)
        if self._pending or not current:
            self.engrave()

    def _failed(self, exc: BaseException) -> None:
        self.job = None
        text = describe_exception(exc, "engraving the score")
        self._score.set_message(text)
        self.engrave_failed.emit(text)
        if self._pending:
            self.engrave()
