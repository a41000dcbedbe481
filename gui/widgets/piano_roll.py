"""PianoRollView: a melody drawn as a piano roll, seed and continuation in two colours.

Bar lines (numbered) and a beat grid, note names on hover, zoom (Ctrl+wheel or `zoom_in`),
horizontal scroll and a playhead. A click on a note selects it (`note_clicked`, with its index in
``melody.notes``) and, like a click elsewhere, asks to play from that point (`seek_requested`); a
drag across the roll selects whole bars (`bars_selected`, `Melody.bar_index` numbers). The note in
focus is ringed, and the attention paid to earlier notes (`set_attention`) is drawn as a green
glow behind them, stronger for more weight. A view only: it is given a `Melody` and emits signals.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from musicgen.melody import TICKS_PER_QUARTER, Melody, Note, pitch_to_name
from gui.widgets.roll_paint import (CONTINUATION_COLOUR, GUTTER_PX, SEED_COLOUR, TOP_PX,
                                     RollPainter, note_rect)

__all__ = ["CONTINUATION_COLOUR", "LEAD_BARS", "SEED_COLOUR", "PianoRollView", "is_edit_of"]

_RIGHT_PX = 24  # room after the last note
_MIN_ROW_PX = 7
_ZOOM_LIMITS = (0.5, 24.0)  # px per tick the user zooms within; "Fit" may go below (any length)
LEAD_BARS = 2  # bars of seed shown before a new continuation
_DRAG_PX = 6  # a press that moves further than this selects bars instead of clicking


def is_edit_of(new: Melody | None, old: Melody | None) -> bool:
    """Whether ``new`` is an edit of ``old`` (same variation, same length and seed), shown in
    place, rather than another melody, shown from where its new music starts."""
    if new is None or old is None:
        return False
    same = ("variation", "rng_seed", "set_rng_seed")
    return (new.duration_ticks, new.seed_end_ticks) == (old.duration_ticks, old.seed_end_ticks) \
        and all(dict(new.metadata).get(k) == dict(old.metadata).get(k) for k in same) \
        and new.seed_end_ticks is not None


class _RollCanvas(QWidget):
    """The drawing surface inside the scroll area."""

    def __init__(self, view: PianoRollView) -> None:
        super().__init__()
        self._view = view
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(self._view.content_width(), 200)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._view.paint(painter, event.rect())
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._view.melody is not None:
            self._view.press(event.position().toPoint())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._view.drag(event.position().toPoint())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._view.release(event.position().toPoint())

    def event(self, event) -> bool:  # type: ignore[override]
        if event.type() == event.Type.ToolTip:
            note = self._view.note_at(event.pos())
            if note is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self._view.describe_note(note), self)
            return True
        return super().event(event)


class PianoRollView(QScrollArea):
    """A zoomable, scrollable piano roll with a playhead."""

    seek_requested = Signal(int)  # tick the user clicked: play from there
    note_clicked = Signal(int)  # index in melody.notes of the note clicked
    bars_selected = Signal(int, int)  # first and last bar dragged over (Melody.bar_index)
    melody_changed = Signal(object)  # the melody now shown (Melody or None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.melody: Melody | None = None
        self.px_per_tick = 2.5
        self.playhead_ticks: int | None = None
        self._low, self._high = 60, 84
        self.focus_index: int | None = None  # the note ringed (index in melody.notes)
        self.attention: dict[int, float] = {}  # note index -> attention weight
        self.selected_bars: tuple[int, int] | None = None
        self._press: QPoint | None = None
        self._dragging = False
        self._canvas = _RollCanvas(self)
        self._painter = RollPainter(self)
        self.setWidget(self._canvas)
        self.setWidgetResizable(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(160)
        self.setToolTip("")
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self._canvas.update())
        self._relayout()

    # --- model --------------------------------------------------------------------------------
    def set_melody(self, melody: Melody | None, pitch_range: tuple[int, int] | None = None) -> None:
        """Show ``melody``. ``pitch_range`` (lowest, highest) fixes the rows, so the variations of
        a set share them; else the melody's own range is used.

        An edit of the one shown (`is_edit_of`) keeps the scroll position and the bars selected,
        so the user sees what changed and can redo it; another melody with a continuation is
        shown from `LEAD_BARS` bars before its new music (`reveal_continuation`), a seed alone
        from its start."""
        edit = is_edit_of(melody, self.melody)
        self.melody, self.playhead_ticks = melody, None
        self.focus_index, self.attention = None, {}
        self.selected_bars = self.selected_bars if edit else None
        span = pitch_range or (melody.pitch_range if melody is not None else None)
        if span is not None:
            low, high = span
            pad = max(2, (24 - (high - low)) // 2)
            self._low, self._high = max(0, low - pad), min(127, high + pad)
        scroll = self.horizontalScrollBar().value() if edit else 0
        self._relayout()
        self.horizontalScrollBar().setValue(scroll)
        if not edit:
            self.reveal_continuation()
        self.melody_changed.emit(melody)

    def continuation_view(self) -> tuple[int, int] | None:
        """The ticks to show for a generated melody: from `LEAD_BARS` bar lines before the seed's
        end (the bar it ends in counts) to the melody's end; None without a continuation."""
        melody = self.melody
        if melody is None or melody.seed_end_ticks is None \
                or melody.seed_end_ticks >= melody.duration_ticks:
            return None
        lines = [0, *(t for t in melody.bar_lines() if t < melody.seed_end_ticks)]
        return lines[max(0, len(lines) - LEAD_BARS)], melody.duration_ticks

    def reveal_continuation(self) -> None:
        """Scroll (and zoom out, when it does not fit, to no less than the user's zoom floor) so
        that the continuation and a few bars of seed before it are in view."""
        span = self.continuation_view()
        if span is None:
            return
        start, end = span
        usable = self.viewport().width() - GUTTER_PX - _RIGHT_PX
        if usable > 100 and (end - start) * self.px_per_tick > usable:
            self.set_zoom(max(_ZOOM_LIMITS[0], usable / (end - start)))
        self.horizontalScrollBar().setValue(max(0, int(self.tick_to_x(start)) - GUTTER_PX))

    def visible_ticks(self) -> tuple[int, int]:
        """The ticks now in view (left of the gutter excluded)."""
        left = self.horizontalScrollBar().value()
        return (self.x_to_tick(left + GUTTER_PX),
                self.x_to_tick(left + self.viewport().width()))

    # --- focus, attention and selection ---------------------------------------------------------
    def set_focus_note(self, index: int | None) -> None:
        """Ring note ``index`` of the melody (None: no note in focus). Only the old and the new
        ring are repainted (a whole 64-bar roll costs the window 5-20 ms a paint), unless the roll
        scrolls to show the note."""
        rings = [self._ring(i) for i in (self.focus_index, index)]
        self.focus_index = index
        if index is not None and self.melody is not None and 0 <= index < len(self.melody.notes):
            x = int(self.tick_to_x(self.melody.notes[index].onset_ticks))
            bar = self.horizontalScrollBar()
            if not bar.value() + GUTTER_PX <= x <= bar.value() + self.viewport().width() - 20:
                bar.setValue(max(0, x - self.viewport().width() // 2))  # repaints it all
        for ring in rings:
            if ring is not None:
                self._canvas.update(ring)

    def _ring(self, index: int | None) -> QRect | None:
        """The canvas area a focus ring around note ``index`` covers (with its pen)."""
        if index is None or self.melody is None or not 0 <= index < len(self.melody.notes):
            return None
        return self.note_rect(self.melody.notes[index]).adjusted(-5, -5, 5, 5).toAlignedRect()

    def set_attention(self, weights: dict[int, float] | None) -> None:
        """Draw how much attention each earlier note got (note index -> weight); None clears."""
        weights = dict(weights or {})
        if weights or self.attention:  # clearing nothing repaints nothing
            self.attention = weights
            self._canvas.update()

    def set_selected_bars(self, bars: tuple[int, int] | None) -> None:
        self.selected_bars = bars
        self._canvas.update()

    def note_index_at(self, pos: QPoint) -> int | None:
        """The index in ``melody.notes`` of the pitched note under ``pos``."""
        if self.melody is None:
            return None
        tick = self.x_to_tick(pos.x())
        notes = self.melody.notes
        index = bisect.bisect_right([n.onset_ticks for n in notes], tick) - 1
        return next((i for i in (index, index - 1, index + 1) if 0 <= i < len(notes)
                     and not notes[i].is_rest
                     and self.note_rect(notes[i]).adjusted(-1, -1, 1, 1).contains(pos.x(), pos.y())),
                    None)

    def bar_at(self, x: float) -> int:
        assert self.melody is not None
        tick = min(max(self.x_to_tick(x), 0), max(0, self.melody.duration_ticks - 1))
        return self.melody.bar_index(tick)

    def press(self, pos: QPoint) -> None:
        self._press, self._dragging = pos, False

    def drag(self, pos: QPoint) -> None:
        if self._press is None or self.melody is None:
            return
        if abs(pos.x() - self._press.x()) > _DRAG_PX:
            self._dragging = True
        if self._dragging:
            first, last = sorted((self.bar_at(self._press.x()), self.bar_at(pos.x())))
            self.set_selected_bars((first, last))

    def release(self, pos: QPoint) -> None:
        if self._press is None or self.melody is None:
            return
        dragged, self._press, self._dragging = self._dragging, None, False
        if dragged and self.selected_bars is not None:
            self.bars_selected.emit(*self.selected_bars)
            return
        index = self.note_index_at(pos)
        # On a note: select it and play from its start; elsewhere play from the clicked tick.
        tick = self.melody.notes[index].onset_ticks if index is not None else self.x_to_tick(pos.x())
        if index is not None:
            self.note_clicked.emit(index)
        if 0 <= tick <= self.melody.duration_ticks:
            self.seek_requested.emit(tick)

    def note_spans(self) -> list[tuple[Note, str]]:
        """Every pitched note with its role, 'seed' or 'continuation'."""
        if self.melody is None:
            return []
        return [(n, self._role(n)) for n in self.melody.pitched_notes]

    def describe_note(self, note: Note) -> str:
        assert self.melody is not None
        bar = self.melody.bar_index(note.onset_ticks) + (0 if self.melody.pickup_ticks else 1)
        beats = note.duration_ticks / TICKS_PER_QUARTER
        return f"{pitch_to_name(note.pitch or 0)} · bar {bar} · {beats:g} beats · {self._role(note)}"

    def _role(self, note: Note) -> str:
        boundary = self.melody.seed_end_ticks if self.melody else None
        return "continuation" if boundary is not None and note.onset_ticks >= boundary else "seed"

    # --- playhead and zoom --------------------------------------------------------------------
    def set_playhead(self, ticks: int | None) -> None:
        self.playhead_ticks = ticks
        if ticks is not None:
            x = int(self.tick_to_x(ticks))
            bar = self.horizontalScrollBar()
            if not bar.value() <= x <= bar.value() + self.viewport().width() - 40:
                bar.setValue(max(0, x - 60))
        self._canvas.update()

    def zoom_in(self) -> None:
        self.set_zoom(self.px_per_tick * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.px_per_tick / 1.25)

    def zoom_to_fit(self) -> None:
        """Show the whole melody, however long (the user's zoom floor does not apply)."""
        fit = self.fit_zoom()
        if fit is not None:
            self.set_zoom(fit)
            self.horizontalScrollBar().setValue(0)

    def fit_zoom(self) -> float | None:
        """The zoom at which the whole melody fits the view (None without a melody)."""
        if self.melody is None or not self.melody.duration_ticks:
            return None
        usable = max(100, self.viewport().width() - GUTTER_PX - _RIGHT_PX - 1)
        return min(usable / self.melody.duration_ticks, _ZOOM_LIMITS[1])

    def set_zoom(self, px_per_tick: float) -> None:
        """Zoom to ``px_per_tick``, within the limits; zooming out stops at the zoom that fits
        the whole melody when that is below the usual floor."""
        fit = self.fit_zoom()
        floor = min(_ZOOM_LIMITS[0], fit) if fit is not None else _ZOOM_LIMITS[0]
        self.px_per_tick = min(max(px_per_tick, floor), _ZOOM_LIMITS[1])
        self._relayout()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            (self.zoom_in if event.angleDelta().y() > 0 else self.zoom_out)()
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event) -> None:  # type: ignore[override]
        super().resizeEvent(event)
        self._relayout()

    # --- geometry -----------------------------------------------------------------------------
    def content_width(self) -> int:
        ticks = self.melody.duration_ticks if self.melody else 0
        return int(GUTTER_PX + ticks * self.px_per_tick + _RIGHT_PX)

    def _relayout(self) -> None:
        height = max(self.viewport().height(), TOP_PX + (self._high - self._low + 1) * _MIN_ROW_PX)
        width = max(self.content_width(), self.viewport().width())
        self._canvas.resize(width, height)
        self._canvas.update()

    @property
    def row_px(self) -> float:
        return (self._canvas.height() - TOP_PX) / (self._high - self._low + 1)

    def tick_to_x(self, tick: float) -> float:
        return GUTTER_PX + tick * self.px_per_tick

    def x_to_tick(self, x: float) -> int:
        return int(round((x - GUTTER_PX) / self.px_per_tick))

    def pitch_to_y(self, pitch: int) -> float:
        return TOP_PX + (self._high - pitch) * self.row_px

    def note_rect(self, note: Note) -> QRectF:
        return note_rect(note, self.px_per_tick, self.row_px, self._high)

    def note_at(self, pos: QPoint) -> Note | None:
        index = self.note_index_at(pos)
        return None if index is None or self.melody is None else self.melody.notes[index]

    # --- painting (gui/widgets/roll_paint.py) ------------------------------------------------
    def paint(self, painter: QPainter, clip: QRectF) -> None:
        """Paint what lies in ``clip`` (a 64-bar roll is 7,000 px wide)."""
        self._painter.paint(painter, clip)

    def form_labels(self) -> list[tuple[int, str]]:
        """(tick, label) where each part of a whole tune starts, is repeated, and its endings."""
        form = self.melody.form if self.melody is not None else None
        labels: list[tuple[int, str]] = []
        for part in form.parts if form is not None else ():
            again = part.start + part.body_ticks + part.first_ending_ticks
            labels += [(part.start, part.name), (again, f"{part.name} again")]
            if part.has_endings:
                spans = {kind: start for kind, start, _ in part.written_spans()}
                labels += [(spans["ending1"], "1st ending"), (spans["ending2"], "2nd ending")]
        return sorted(labels)
