"""LossPlot: a live plot of training and held-out bits per note, drawn with QPainter.

A view: it is given points (`add_training(step, bits)`, `add_held_out(step, bits)`) and paints
both series on one bits-per-note axis against training steps: training as a thin smoothed line
(thinned to at most `MAX_POINTS` so a long run paints as fast as a short one), held-out figures as dots joined
by a line, the best held-out figure ringed, and a pass the copy guard refused (`mark_refused`)
as a hollow red dot. Nothing heavy: no charts module, no matplotlib.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["LossPlot"]

MAX_POINTS = 600
SMOOTHING = 0.3  # weight of each new training point in the drawn moving average
TRAIN_COLOR = QColor("#4a78b5")
HELD_OUT_COLOR = QColor("#c0392b")
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 44, 10, 22, 26


class LossPlot(QWidget):
    """Training and held-out bits per note against steps."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 170)
        self.clear()

    def sizeHint(self) -> QSize:
        return QSize(520, 220)

    def clear(self) -> None:
        self.training: list[tuple[float, float]] = []
        self.held_out: list[tuple[float, float]] = []
        self.refused: set[int] = set()  # indices into held_out
        self.update()

    def add_training(self, step: float, bits: float) -> None:
        if math.isfinite(bits):
            self.training.append((step, bits))
            if len(self.training) > MAX_POINTS:  # keep every other point: the shape stays
                self.training = self.training[::2]
            self.update()

    def add_held_out(self, step: float, bits: float) -> None:
        if math.isfinite(bits):
            self.held_out.append((step, bits))
            self.update()

    def mark_refused(self) -> None:
        """The latest held-out point belongs to a pass the copy guard refused."""
        if self.held_out:
            self.refused.add(len(self.held_out) - 1)
            self.update()

    # --- painting ------------------------------------------------------------------------------
    def _ranges(self) -> tuple[float, float, float, float]:
        points = self.training + self.held_out
        xs = [p[0] for p in points] or [0.0, 1.0]
        ys = [p[1] for p in points] or [0.0, 1.0]
        low, high = min(ys), max(ys)
        if self.training:  # early steps are far above the rest: let them leave the top
            recent = sorted(b for _, b in self.training[len(self.training) // 5:])
            high = max([recent[int(0.9 * (len(recent) - 1))] if recent else high]
                       + [b for _, b in self.held_out])
            low = min([recent[int(0.1 * (len(recent) - 1))] if recent else low]
                      + [b for _, b in self.held_out])
        pad = max(0.05, (high - low) * 0.08)
        return min(xs), max(max(xs), min(xs) + 1.0), low - pad, high + pad

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        area = QRectF(_MARGIN_LEFT, _MARGIN_TOP, self.width() - _MARGIN_LEFT - _MARGIN_RIGHT,
                      self.height() - _MARGIN_TOP - _MARGIN_BOTTOM)
        x0, x1, y0, y1 = self._ranges()

        def at(step: float, bits: float) -> QPointF:
            x = area.left() + (step - x0) / (x1 - x0) * area.width()
            y = area.bottom() - (min(max(bits, y0), y1) - y0) / (y1 - y0) * area.height()
            return QPointF(x, y)

        self._paint_axes(painter, area, (x0, x1, y0, y1))
        self._paint_training(painter, at)
        self._paint_held_out(painter, at)
        self._paint_legend(painter, area)
        painter.end()

    def _paint_axes(self, painter: QPainter, area: QRectF,
                    ranges: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = ranges
        text = self.palette().text().color()
        painter.setPen(QPen(QColor(200, 200, 200), 1))
        painter.drawRect(area)
        painter.setPen(text)
        for i in range(5):
            bits = y0 + (y1 - y0) * i / 4
            y = area.bottom() - area.height() * i / 4
            painter.drawText(QRectF(0, y - 8, _MARGIN_LEFT - 4, 16),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             f"{bits:.2f}")
        painter.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), 18),
                         int(Qt.AlignmentFlag.AlignCenter),
                         f"training steps (0 – {int(x1)})   ·   bits per note, lower is better")
        if not self.training and not self.held_out:
            painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter),
                             "The curves appear here while the model trains.")

    def _paint_training(self, painter: QPainter, at) -> None:
        """Training figures vary with each batch's tunes: drawn smoothed (a moving average, as
        training dashboards do), so the trend shows."""
        if len(self.training) < 2:
            return
        smooth = self.training[0][1]
        path = QPainterPath(at(*self.training[0]))
        for step, bits in self.training[1:]:
            smooth += SMOOTHING * (bits - smooth)
            path.lineTo(at(step, smooth))
        painter.setPen(QPen(TRAIN_COLOR, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)

    def _paint_held_out(self, painter: QPainter, at) -> None:
        if not self.held_out:
            return
        painter.setPen(QPen(HELD_OUT_COLOR, 1.8))
        points = [at(*p) for p in self.held_out]
        for a, b in zip(points, points[1:]):
            painter.drawLine(a, b)
        best = min(range(len(self.held_out)), key=lambda i: (i in self.refused,
                                                             self.held_out[i][1]))
        for i, point in enumerate(points):
            painter.setBrush(Qt.BrushStyle.NoBrush if i in self.refused else HELD_OUT_COLOR)
            painter.drawEllipse(point, 3.5, 3.5)
            if i == best and i not in self.refused:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(point, 7, 7)

    def _paint_legend(self, painter: QPainter, area: QRectF) -> None:
        x, y = area.left() + 4, 4
        for color, label in ((TRAIN_COLOR, "training"),
                             (HELD_OUT_COLOR, "your held-out tunes (ringed: the model kept)")):
            painter.setPen(QPen(color, 2))
            painter.drawLine(QPointF(x, y + 8), QPointF(x + 16, y + 8))
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(x + 20, y, 300, 16), int(Qt.AlignmentFlag.AlignVCenter), label)
            x += 20 + painter.fontMetrics().horizontalAdvance(label) + 16
