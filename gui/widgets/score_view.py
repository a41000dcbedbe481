"""ScoreView: the melody as staff notation, engraved by verovio (`musicgen.engrave`); a new
generated melody opens where its continuation starts.

It shows a page image the controller renders in the worker (`gui.score_tasks`) with, on top:
the sounding note during playback (a red halo), the note in focus (a ring) and the attention an
earlier note got (a green glow, stronger for more weight). Systems wrap at the view's width and
the page scrolls vertically; `width_changed` asks for a new layout when the width changes.
Clicking a note selects it (`note_clicked`, its index in ``melody.notes``) and asks to play from
there (`seek_requested`), as on the piano roll. A view only: it gets an image, an `Engraving` and
a `Melody`.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from gui.widgets.piano_roll import is_edit_of
from musicgen.engrave import EngravedNote, Engraving
from musicgen.melody import Melody, pitch_to_name

__all__ = ["ScoreView"]

_PLAYING = QColor(214, 40, 40, 90)
_FOCUS = QColor("#1d1d1f")
_ATTENTION = QColor(46, 160, 67)
_HIT_PX = 9  # how near a notehead a click must be


class _ScoreCanvas(QWidget):
    """The page and its overlays, inside the scroll area."""

    def __init__(self, view: ScoreView) -> None:
        super().__init__()
        self._view = view
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return self._view.page_size()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._view.paint(painter, QRectF(event.rect()))
        finally:
            painter.end()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._view.click(event.position())

    def event(self, event) -> bool:  # type: ignore[override]
        if event.type() == event.Type.ToolTip:
            text = self._view.describe_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class ScoreView(QScrollArea):
    """Staff notation of the shown melody, with playback, focus and attention drawn over it."""

    note_clicked = Signal(int)  # index in melody.notes
    seek_requested = Signal(int)  # tick: play from there
    width_changed = Signal(int)  # the width a page should be laid out for

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.melody: Melody | None = None
        self.engraving: Engraving | None = None
        self.image: QImage | None = None
        self.message = "No melody yet"
        self.playhead_ticks: int | None = None
        self.focus_index: int | None = None
        self.attention: dict[int, float] = {}
        self._canvas = _ScoreCanvas(self)
        self.setWidget(self._canvas)
        self.setWidgetResizable(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(60)  # one staff; the window must still fit a 500 px height
        self.setBackgroundRole(self.backgroundRole())
        self._relayout()

    # --- what is shown --------------------------------------------------------------------------
    def set_message(self, text: str) -> None:
        """Say something instead of a page ("Engraving…", a failure); the old page stays if any."""
        self.message = text
        self._canvas.update()

    def set_page(self, melody: Melody, engraving: Engraving, image: QImage) -> None:
        """Show an engraved page of ``melody`` (overlays are kept only if the melody is the same)."""
        new = melody is not self.melody
        edit = new and is_edit_of(melody, self.melody)
        if new:
            self.focus_index, self.attention, self.playhead_ticks = None, {}, None
        self.melody, self.engraving, self.image, self.message = melody, engraving, image, ""
        self._relayout()
        if new and not edit:  # a new variation: where its continuation starts, the seed above
            boundary = melody.seed_end_ticks
            first = next((n for n in engraving.notes if boundary is not None
                          and melody.notes[n.note_indices[0]].onset_ticks >= boundary), None)
            middle = int(first.y) - self.viewport().height() // 2 if first else 0
            self.verticalScrollBar().setValue(max(0, middle))

    def clear(self, message: str = "No melody yet") -> None:
        self.melody = self.engraving = self.image = None
        self.focus_index, self.attention, self.message = None, {}, message
        self._relayout()

    def set_playhead(self, ticks: int | None) -> None:
        """Highlight the note sounding at ``ticks`` (None: stopped), scrolling it into view."""
        self.playhead_ticks = ticks
        sounding = self.sounding_notes()
        if sounding:
            self.ensureVisible(int(sounding[0].x), int(sounding[0].y), 40, 60)
        self._canvas.update()

    def set_focus_note(self, index: int | None) -> None:
        self.focus_index = index
        drawn = self.engraving.notes_of(index) if self.engraving and index is not None else []
        if drawn:
            self.ensureVisible(int(drawn[0].x), int(drawn[0].y), 40, 60)
        self._canvas.update()

    def set_attention(self, weights: dict[int, float] | None) -> None:
        weights = dict(weights or {})
        if weights or self.attention:  # clearing nothing repaints nothing
            self.attention = weights
            self._canvas.update()

    def sounding_notes(self) -> list[EngravedNote]:
        """The drawn notes of the melody note sounding at the playhead."""
        if self.playhead_ticks is None or self.melody is None or self.engraving is None:
            return []
        onsets = [n.onset_ticks for n in self.melody.notes]
        index = bisect.bisect_right(onsets, self.playhead_ticks) - 1
        if index < 0 or self.melody.notes[index].is_rest:
            return []
        return self.engraving.notes_of(index)

    # --- geometry and clicks --------------------------------------------------------------------
    def page_size(self) -> QSize:
        if self.engraving is None:
            return QSize(self.viewport().width(), 80)
        return QSize(int(self.engraving.width_px), int(self.engraving.height_px))

    def _relayout(self) -> None:
        size = self.page_size()
        self._canvas.resize(max(size.width(), self.viewport().width()),
                            max(size.height(), self.viewport().height()))
        self._canvas.update()

    def resizeEvent(self, event) -> None:  # type: ignore[override]
        super().resizeEvent(event)
        self._relayout()
        if event.oldSize().width() != event.size().width():
            self.width_changed.emit(self.viewport().width())

    def note_at(self, pos: QPointF) -> EngravedNote | None:
        """The drawn note (not rest) whose notehead is nearest ``pos``, within a few pixels."""
        if self.engraving is None:
            return None
        best, best_distance = None, float(_HIT_PX)
        for drawn in self.engraving.notes:
            distance = max(abs(drawn.x - pos.x()), abs(drawn.y - pos.y()))
            if not drawn.is_rest and distance <= best_distance:
                best, best_distance = drawn, distance
        return best

    def click(self, pos: QPointF) -> None:
        drawn = self.note_at(pos)
        if drawn is None or self.melody is None:
            return
        index = drawn.note_indices[0]
        self.note_clicked.emit(index)
        self.seek_requested.emit(self.melody.notes[index].onset_ticks)

    def describe_at(self, pos: QPointF) -> str:
        drawn = self.note_at(pos)
        if drawn is None or self.melody is None:
            return ""
        note = self.melody.notes[drawn.note_indices[0]]
        bar = self.melody.bar_index(note.onset_ticks) + (0 if self.melody.pickup_ticks else 1)
        boundary = self.melody.seed_end_ticks
        role = "continuation" if boundary is not None and note.onset_ticks >= boundary else "seed"
        return f"{pitch_to_name(note.pitch or 0)} · bar {bar} · {role}"

    # --- painting -------------------------------------------------------------------------------
    def paint(self, painter: QPainter, clip: QRectF) -> None:
        painter.fillRect(clip, QColor("#ffffff"))
        if self.image is not None:
            painter.drawImage(QPointF(0, 0), self.image)
        if self.message:
            painter.setPen(QColor("#777"))
            painter.drawText(QRectF(0, 0, self._canvas.width(), 40),
                             Qt.AlignmentFlag.AlignCenter, self.message)
        if self.engraving is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        radius = max(4.0, 7.0 * self.engraving.scale / 0.045)
        self._paint_attention(painter, radius)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_PLAYING)
        for drawn in self.sounding_notes():
            painter.drawEllipse(QPointF(drawn.x, drawn.y), radius * 1.6, radius * 1.6)
        if self.focus_index is not None:
            painter.setPen(QPen(_FOCUS, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for drawn in self.engraving.notes_of(self.focus_index):
                painter.drawEllipse(QPointF(drawn.x, drawn.y), radius * 1.4, radius * 1.4)

    def _paint_attention(self, painter: QPainter, radius: float) -> None:
        if not self.attention or self.engraving is None:
            return
        top = max(self.attention.values()) or 1.0
        painter.setPen(Qt.PenStyle.NoPen)
        for drawn in self.engraving.notes:
            weight = max((self.attention.get(i, 0.0) for i in drawn.note_indices), default=0.0)
            if weight > 0 and not drawn.is_rest:
                glow = QColor(_ATTENTION)
                glow.setAlpha(int(30 + 190 * min(1.0, weight / top)))
                painter.setBrush(glow)
                painter.drawEllipse(QPointF(drawn.x, drawn.y), radius * 1.5, radius * 1.5)
