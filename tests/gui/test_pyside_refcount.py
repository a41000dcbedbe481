"""Regression: PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call and
aborts the interpreter after a few thousand calls. pyproject pins PySide6 < 6.12; this guards it."""

from __future__ import annotations

import sys


def test_void_qt_calls_do_not_eat_references_to_none(qtbot):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    for i in range(200):  # warm up caches that may legitimately hold None
        label.setText(str(i))
    before = sys.getrefcount(None)
    for i in range(20000):
        label.setText("x")  # void call
        label.setMinimumWidth(i % 50)  # void call
        label.update()  # void call
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references over 60000 void Qt calls"


def test_pyside_version_is_inside_the_pinned_range():
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (6, 8) <= (major, minor) < (6, 12), PySide6.__version__
