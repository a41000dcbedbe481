"""The work behind the score view and the ABC pane, run in the worker: write the shown melody as
ABC (its continuation's first bar marked) and engrave it into a page image.

verovio holds the interpreter lock while it lays a page out, and so does QtSvg while it draws one
(tens of milliseconds each for 64 bars, more on a busy machine: stalls the window would feel). So
both run in a helper process of their own (`draw_page`), started on first use ("spawn": no torch
in it, Qt offscreen); the worker thread only waits for its pixels. If that process cannot be used,
the page is drawn on the worker thread instead. The process ends with the app (the executor's exit
hook). verovio never loads on the start-up path.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from PySide6.QtCore import QByteArray, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn

__all__ = ["CONTINUATION_COMMENT", "RenderedScore", "abc_for_pane", "draw_page", "render_score"]

CONTINUATION_COMMENT = "% ---- the continuation starts here"
_SEPARATOR = re.compile(r"\|\]|:\|:|:\|2|\|1|\|:|:\||\|")
_FORMAT = QImage.Format.Format_ARGB32_Premultiplied
_POOL: list[ProcessPoolExecutor] = []  # the drawing process, started on first use
_POOL_LOCK = threading.Lock()
_CHILD_APP: list[Any] = []  # the helper process's QGuiApplication (fonts need one)


class RenderedScore:
    """The ABC of a melody and, when asked for, its engraved page (`Engraving` and image)."""

    def __init__(self, melody: Melody, abc: str, engraving=None, image: QImage | None = None,
                 width_px: int = 0) -> None:
        self.melody, self.abc, self.engraving, self.image = melody, abc, engraving, image
        self.width_px = width_px


def _draw(engraving: Any, ratio: float) -> QImage:
    """The engraving's SVG drawn by QtSvg into a white image (``ratio`` device pixels a pixel)."""
    renderer = QSvgRenderer(QByteArray(engraving.svg.encode("utf-8")))
    image = QImage(max(1, int(engraving.width_px * ratio)), max(1, int(engraving.height_px * ratio)),
                   _FORMAT)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        renderer.render(painter, QRectF(0, 0, engraving.width_px, engraving.height_px))
    finally:
        painter.end()
    return image


def _start_child() -> None:
    """The helper process's Qt: offscreen, no window system; below the window in priority (on two
    cores the window, the worker thread and this process compete, and the window comes first)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if hasattr(os, "nice"):
        try:
            os.nice(5)
        except OSError:
            pass
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        _CHILD_APP.append(QGuiApplication([]))


def draw_page(melody: Melody, width_px: int, ratio: float, seed_colour: str,
              continuation_colour: str) -> tuple[Any, bytes, int, int]:
    """Engrave and draw a page (in the helper process): the `Engraving` and the image's pixels,
    width and height (ARGB32 premultiplied, 4 bytes a pixel)."""
    from musicgen.engrave import engrave

    engraving = engrave(melody, width_px, seed_colour=seed_colour,
                        continuation_colour=continuation_colour)
    image = _draw(engraving, ratio)
    return engraving, bytes(image.constBits()), image.width(), image.height()


def _drawn_elsewhere(*arguments: Any) -> tuple[Any, QImage]:
    """`draw_page` in the helper process (on this thread if that process fails)."""
    for _attempt in range(2):
        with _POOL_LOCK:
            if not _POOL:
                _POOL.append(ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child))
            pool = _POOL[0]
        try:
            engraving, pixels, width, height = pool.submit(draw_page, *arguments).result()
        except (BrokenProcessPool, OSError, RuntimeError):
            with _POOL_LOCK:
                if _POOL and _POOL[0] is pool:
                    _POOL.clear()
            continue
        image = QImage(pixels, width, height, 4 * width, _FORMAT).copy()  # owns its pixels
        image.setDevicePixelRatio(arguments[2])
        return engraving, image
    from musicgen.engrave import engrave

    melody, width_px, ratio, seed, continuation = arguments
    engraving = engrave(melody, width_px, seed_colour=seed, continuation_colour=continuation)
    return engraving, _draw(engraving, ratio)


def render_score(melody: Melody, width_px: int, device_pixel_ratio: float, seed_colour: str,
                 continuation_colour: str, engrave_page: bool = True, *,
                 on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> RenderedScore:
    """The melody's ABC, and (``engrave_page``) its page engraved ``width_px`` wide and drawn."""
    abc = abc_for_pane(melody)
    if not engrave_page:
        return RenderedScore(melody, abc)
    ratio = max(1.0, device_pixel_ratio)
    engraving, image = _drawn_elsewhere(melody, width_px, ratio, seed_colour, continuation_colour)
    return RenderedScore(melody, abc, engraving, image, width_px)


def _display_bar(melody: Melody, tick: int) -> int:
    return melody.bar_index(tick) + (0 if melody.pickup_ticks else 1)


def abc_for_pane(melody: Melody) -> str:
    """The melody as ABC; a generated one has a comment line before the bar where its
    continuation starts (a comment: the text still reads back as the same tune)."""
    from musicgen.io.abc_writer import melody_to_abc

    text = melody_to_abc(melody)
    boundary = melody.seed_end_ticks
    if boundary is None or not 0 < boundary < melody.duration_ticks:
        return text
    if melody.form is not None:
        first = melody.form.parts[0]
        if boundary > first.start + first.body_ticks:
            return text  # written bars no longer follow played bars there
    bar = melody.bar_index(boundary)
    lines = text.splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.startswith("K:")) + 1
    head, body = "".join(lines[:header]), "".join(lines[header:])
    offset = _bar_offset(body, bar)
    if offset is None:
        return text
    where = "" if boundary in melody.bar_lines() else ", after the seed's last note"
    mark = f"{CONTINUATION_COMMENT} (bar {_display_bar(melody, boundary)}{where}) ----"
    return head + body[:offset].rstrip(" ") + "\n" + mark + "\n" + body[offset:].lstrip(" \n")


def _bar_offset(body: str, bar: int) -> int | None:
    """Where the ``bar``-th written bar (0 first) starts in the ABC body."""
    count, position = 0, 0
    for match in _SEPARATOR.finditer(body):
        if body[position:match.start()].strip():
            if count == bar:
                return position
            count += 1
        position = match.end()
    if body[position:].strip() and count == bar:
        return position
    return None
