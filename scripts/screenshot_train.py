"""Render docs/app-train-dialog.png: the "Train on my tunes" dialog of the real window, mid-run,
fine-tuning the shipped LSTM on 60 Bach chorale melodies (a tune book far from the folk tunes it
knows; see benchmarks/bench_finetune.py) with its live plot. Run under a virtual X server:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_train.py

Takes a few minutes (reading the chorales, then a minute of training before the picture).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOCS = ROOT / "docs"
TRAIN_SECONDS_BEFORE_SHOT = 75.0


def _wait(app, done, timeout_s: float = 600.0) -> None:
    end = time.perf_counter() + timeout_s
    while not done() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    if not done():
        raise SystemExit("timed out")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="musicgen-train-shot-"))
    os.environ["MUSICGEN_DATA_DIR"] = str(tmp / "data")  # the new model stays out of the library
    from PySide6.QtWidgets import QApplication

    from benchmarks.bench_finetune import chorale_book

    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    app = QApplication([])
    window = MainWindow(AppSettings(tmp / "settings.ini"))
    window.setGeometry(0, 0, 1366, 740)
    window.show()
    listed: list = []
    window.models.models_listed.connect(listed.append)
    window.start(preload_model=False)
    _wait(app, lambda: bool(listed))
    window.actions.train.trigger()
    dialog = window.training.dialog
    dialog.move(320, 0)
    book = chorale_book(tmp / "chorales", 60)
    reports: list = []
    window.training.report_ready.connect(reports.append)
    window.training.read_paths([str(book)])
    _wait(app, lambda: bool(reports))
    dialog.form.name_edit.setText("chorales-lstm")
    dialog.form.minutes_spin.setValue(3.0)
    dialog.train_button.click()
    started = time.perf_counter()
    _wait(app, lambda: time.perf_counter() - started > TRAIN_SECONDS_BEFORE_SHOT
          and len(dialog.plot.held_out) >= 3)
    app.processEvents()
    dialog.grab().save(str(DOCS / "app-train-dialog.png"))
    window.training.stop()
    _wait(app, lambda: not window.training.running)
    window.close()
    print(DOCS / "app-train-dialog.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
