"""RollPainter: draws a `PianoRollView` (rows, grid, selection, attention, notes, focus, playhead).

Painting runs on the GUI thread at every click, playhead move and scroll, so it draws only what
lies in the region Qt asks for and keeps, per melody and zoom, what it would otherwise recompute
on every paint: each note's rectangle and role, sorted by onset (a bisection finds the ones in
view), and the bar lines. A 64-bar roll painted note by note, all of it recomputed, took 20-30 ms
of the GUI thread per paint; the window's longest stall was mostly that.
"""

from __future__ import annotations

import bisect
from typing import Any

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

from musicgen.melody import pitch_to_name
from musicgen.replay import bar_spans

__all__ = ["CONTINUATION_COLOUR", "GUTTER_PX", "SEED_COLOUR", "TOP_PX", "RollPainter", "note_rect"]

SEED_COLOUR = QColor("#3a78c9")
CONTINUATION_COLOUR = QColor("#e07b2a")
GUTTER_PX = 40  # the pitch names' column
TOP_PX = 18  # the bar numbers' band

_BLACK_KEYS = {1, 3, 6, 8, 10}
_SELECTION = QColor(58, 120, 201, 45)  # selected bars
_ATTENTION = QColor(46, 160, 67)  # the glow behind attended notes
_FOCUS = QColor("#1d1d1f")
_PLAYHEAD = QColor("#d62828")
_FORM_LINE = QColor("#7a4fb0")  # part labels of a whole tune
_MIN_BEAT_PX = 5  # beat lines closer than this are left out
_MIN_LABEL_PX = 26  # bar numbers are written at least this far apart
_MARGIN_PX = 60  # a label or a glow may reach this far past its tick
_CHUNK = 32  # notes a path


def note_rect(note: Any, px_per_tick: float, row_px: float, high: int) -> QRectF:
    """Where ``note`` is drawn on a roll whose top row is pitch ``high`` (the view's `note_rect`
    and the painter's layout both use this)."""
    return QRectF(GUTTER_PX + note.onset_ticks * px_per_tick,
                  TOP_PX + (high - (note.pitch or 0)) * row_px,
                  max(2.0, note.duration_ticks * px_per_tick - 1), max(3.0, row_px - 1))


class _Layout:
    """What painting needs of one melody at one zoom and height, computed once: the notes as
    rounded rectangles gathered into one path per role and run of `_CHUNK` notes, so a paint is
    a few calls into Qt instead of one per note (each call can hand the interpreter lock to a
    worker thread generating meanwhile, and wait a switch interval to get it back)."""

    def __init__(self, view: Any, key: tuple) -> None:
        melody = self.melody = view.melody
        assert melody is not None
        self.key = key  # (px per tick, row height, top pitch): with the melody, what it depends on
        pitched = melody.pitched_notes
        self.onsets = [n.onset_ticks for n in pitched]  # sorted: a melody's notes are in order
        rects = [note_rect(n, *key) for n in pitched]
        continuation = [view._role(n) == "continuation" for n in pitched]
        self.chunks: list[tuple[QPainterPath, QPainterPath]] = []
        for first in range(0, len(rects), _CHUNK):
            paths = (QPainterPath(), QPainterPath())  # seed, continuation
            for i in range(first, min(len(rects), first + _CHUNK)):
                paths[continuation[i]].addRoundedRect(rects[i], 2, 2)
            self.chunks.append(paths)
        self.longest = max((n.duration_ticks for n in pitched), default=0)
        self.bar_lines = list(melody.bar_lines())
        colours = (SEED_COLOUR, CONTINUATION_COLOUR)
        self.pens = [QPen(c.darker(130), 1) for c in colours]
        self.brushes = list(colours)

    def visible_chunks(self, low: float, high: float) -> list[tuple[QPainterPath, QPainterPath]]:
        """The chunks holding the notes that meet ticks low..high."""
        first = bisect.bisect_left(self.onsets, low - self.longest)
        last = bisect.bisect_right(self.onsets, high) - 1
        return self.chunks[first // _CHUNK:last // _CHUNK + 1] if last >= first else []


class RollPainter:
    """Paints one `PianoRollView` (``view``: typed Any, as the view module imports this one);
    what it keeps is rebuilt when the view's melody, zoom or height changes."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self._layout: _Layout | None = None
        self.ticks: tuple[float, float] = (0.0, 0.0)  # the ticks being painted

    def layout(self) -> _Layout:
        v = self.view
        key = (v.px_per_tick, v.row_px, v._high)
        if self._layout is None or self._layout.melody is not v.melody or key != self._layout.key:
            self._layout = _Layout(v, key)
        return self._layout

    def shown(self, start: float, end: float | None = None) -> bool:
        """Whether ticks start..end meet the part being painted."""
        low, high = self.ticks
        return start <= high and (start if end is None else end) >= low

    def paint(self, painter: QPainter, clip: QRectF) -> None:
        v = self.view
        margin = _MARGIN_PX / v.px_per_tick
        self.ticks = (v.x_to_tick(clip.left()) - margin, v.x_to_tick(clip.right()) + margin)
        painter.fillRect(clip, QColor("#fbfbfd"))
        self._rows(painter, clip)
        if v.melody is None or not v.melody.notes:
            painter.setPen(QColor("#888"))
            painter.drawText(v._canvas.rect(), Qt.AlignmentFlag.AlignCenter, "No melody yet")
            self._gutter(painter)
            return
        layout = self.layout()
        self._grid(painter, layout)
        self._selection(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._attention(painter)
        for role in (0, 1):
            painter.setPen(layout.pens[role])
            painter.setBrush(layout.brushes[role])
            for paths in layout.visible_chunks(*self.ticks):
                if not paths[role].isEmpty():
                    painter.drawPath(paths[role])
        self._focus(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if v.playhead_ticks is not None:
            x = v.tick_to_x(v.playhead_ticks)
            painter.setPen(QPen(_PLAYHEAD, 2))
            painter.drawLine(int(x), 0, int(x), v._canvas.height())
        self._gutter(painter)

    def _selection(self, painter: QPainter) -> None:
        v = self.view
        spans = bar_spans(v.melody) if v.selected_bars is not None else []
        if v.selected_bars is None or v.selected_bars[0] >= len(spans):
            return
        first, last = v.selected_bars
        left, right = v.tick_to_x(spans[first][0]), v.tick_to_x(spans[min(last, len(spans) - 1)][1])
        painter.fillRect(QRectF(left, 0, right - left, v._canvas.height()), _SELECTION)

    def _attention(self, painter: QPainter) -> None:
        v = self.view
        if not v.attention:
            return
        top = max(v.attention.values()) or 1.0
        painter.setPen(Qt.PenStyle.NoPen)
        notes = v.melody.notes
        for index, weight in v.attention.items():
            note = notes[index] if 0 <= index < len(notes) else None
            if note is None or note.is_rest or not self.shown(note.onset_ticks, note.end_ticks):
                continue
            glow = QColor(_ATTENTION)
            glow.setAlpha(int(30 + 200 * min(1.0, weight / top)))
            painter.setBrush(glow)
            painter.drawRoundedRect(v.note_rect(note).adjusted(-3, -4, 3, 4), 4, 4)

    def _focus(self, painter: QPainter) -> None:
        v = self.view
        if v.focus_index is None or not 0 <= v.focus_index < len(v.melody.notes):
            return
        painter.setPen(QPen(_FOCUS, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(v.note_rect(v.melody.notes[v.focus_index]).adjusted(-2, -2, 2, 2), 3, 3)

    def _rows(self, painter: QPainter, clip: QRectF) -> None:
        v = self.view
        left, right = max(float(GUTTER_PX), clip.left()), clip.right()
        small = QFont(painter.font())
        small.setPointSizeF(max(6.0, min(8.0, v.row_px * 0.9)))
        painter.setFont(small)
        shade, octave = QColor("#eef0f4"), QColor("#d4d7de")
        for pitch in range(v._low, v._high + 1):
            y = v.pitch_to_y(pitch)
            if pitch % 12 in _BLACK_KEYS:
                painter.fillRect(QRectF(left, y, right - left, v.row_px), shade)
            if pitch % 12 == 0:
                painter.setPen(octave)
                painter.drawLine(int(left), int(y + v.row_px), int(right) + 1, int(y + v.row_px))

    def _gutter(self, painter: QPainter) -> None:
        """Pitch names in a column that stays at the left edge while the roll scrolls."""
        v = self.view
        left = v.horizontalScrollBar().value()
        painter.fillRect(QRectF(left, 0, GUTTER_PX, v._canvas.height()), QColor("#e9ebf0"))
        painter.setPen(QColor("#555"))
        for pitch in range(v._low, v._high + 1):
            if pitch % 12 == 0 or (v.row_px >= 11 and pitch % 12 in (4, 7)):
                rect = QRectF(left + 2, v.pitch_to_y(pitch) - 2, GUTTER_PX - 6, v.row_px + 4)
                painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 pitch_to_name(pitch))

    def _form(self, painter: QPainter, height: int) -> None:
        """Part labels of a whole tune, in the bar-number band, with a line down the roll."""
        v = self.view
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        for tick, label in v.form_labels():
            if not self.shown(tick):
                continue
            x = int(v.tick_to_x(tick))
            painter.setPen(QPen(_FORM_LINE, 1, Qt.PenStyle.DotLine))
            painter.drawLine(x, TOP_PX, x, height)
            painter.setPen(_FORM_LINE)
            painter.drawText(x + 3, TOP_PX + 12, label)

    def _grid(self, painter: QPainter, layout: _Layout) -> None:
        v = self.view
        melody = v.melody
        height, end = v._canvas.height(), melody.duration_ticks
        low, high = self.ticks
        beat = melody.meter.beat_ticks
        start = melody.pickup_ticks % beat
        painter.setPen(QPen(QColor("#e0e2e8"), 1))
        if beat * v.px_per_tick >= _MIN_BEAT_PX:
            first = start + max(0, -int(-(low - start) // beat)) * beat  # first beat >= low
            xs = [int(v.tick_to_x(tick)) for tick in range(first, min(end, int(high)) + 1, beat)]
            painter.drawLines([QLineF(x, TOP_PX, x, height) for x in xs])
        # Bar numbers: the pickup (when there is one) is bar 0, so the first full bar is bar 1.
        # Zoomed far out (a long tune fitted), every n-th bar is numbered, n from 1, 2, 4, 8...
        bar_px = melody.meter.bar_ticks * v.px_per_tick
        every = 1
        while bar_px * every < _MIN_LABEL_PX:
            every *= 2
        lines = layout.bar_lines
        shown = range(bisect.bisect_left(lines, low), bisect.bisect_right(lines, high))
        painter.setPen(QPen(QColor("#9aa0ab"), 1))
        painter.drawLines([QLineF(int(v.tick_to_x(lines[i])), TOP_PX - 4,
                                  int(v.tick_to_x(lines[i])), height) for i in shown])
        painter.setPen(QColor("#444"))
        for i in shown:
            if lines[i] < end and i % every == 0:  # bar number i + 1
                painter.drawText(int(v.tick_to_x(lines[i])) + 3, TOP_PX - 5, str(i + 1))
        self._form(painter, height)
        boundary = melody.seed_end_ticks
        if boundary is not None and 0 < boundary < end:
            x = int(v.tick_to_x(boundary))
            painter.setPen(QPen(CONTINUATION_COLOUR.darker(120), 2, Qt.PenStyle.DashLine))
            painter.drawLine(x, 0, x, height)
