"""Render screenshots of the real window into docs/: the empty state, a generated tune, the export
dialog. Run under a virtual X server at the size a small laptop has:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshots.py

Or `make screenshots`. Uses the shipped models (checkpoints/transformer-folk.*, else
checkpoints/lstm-folk.*); when neither is there, trains a tiny one first (the notes will be poor)
and says so.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
DOCS = ROOT / "docs"


def _pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def _wait_for(app, signal, timeout_s: float = 300.0) -> list:
    got: list = []
    signal.connect(lambda *args: got.append(args))
    end = time.perf_counter() + timeout_s
    while not got and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    if not got:
        raise SystemExit(f"timed out waiting for {signal}")
    return got[0]


def shipped_checkpoint() -> Path | None:
    """The shipped model to show: the Transformer, else the LSTM; None when neither is complete."""
    from musicgen.errors import CheckpointError
    from musicgen.library import resolve_checkpoint

    for name in ("transformer", "lstm"):
        try:
            weights = resolve_checkpoint(name)
        except CheckpointError:
            continue
        if weights.is_file() and weights.with_suffix(".json").is_file():
            return weights
    return None


def _model_path(tmp: Path) -> str:
    shipped = shipped_checkpoint()
    if shipped is not None:
        print(f"model: {shipped}", file=sys.stderr)
        return str(shipped)
    from bench_app import _tiny_checkpoint

    print("model: no shipped checkpoint, training a tiny LSTM (poor notes)", file=sys.stderr)
    return str(_tiny_checkpoint(tmp, "lstm"))


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from gui.widgets.export_dialog import ExportDialog

    app = QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="musicgen-shots-"))
    DOCS.mkdir(exist_ok=True)
    window = MainWindow(AppSettings(tmp / "settings.ini"))
    window.setGeometry(0, 0, 1366, 740)
    window.show()
    listed: list = []
    window.models.models_listed.connect(listed.append)  # the shipped models are listed in the worker
    window.start(preload_model=False)
    _wait_for(app, window.seed.seed_changed)
    end = time.perf_counter() + 30.0
    while not listed and time.perf_counter() < end:
        _pump(app, 0.05)
    _pump(app, 0.5)
    window.grab().save(str(DOCS / "app-empty.png"))

    job = window.models.add_checkpoint(_model_path(tmp))
    _wait_for(app, job.finished)
    window.ui.sampling.replace_values(variations=4, bars=8, temperature=0.9, rng_seed=2024,
                                      new_seed_each_time=False)
    window.generation.generate()
    _wait_for(app, window.generation.generation_finished)
    window.ui.variations.setCurrentRow(1)
    boundary = window.ui.roll.melody.seed_end_ticks or 0
    window.ui.roll.set_playhead(boundary + 30)  # scrolls to show the end of the seed
    window.ui.roll.horizontalScrollBar().setValue(int(window.ui.roll.tick_to_x(boundary)) - 420)
    _pump(app, 0.5)
    window.grab().save(str(DOCS / "app-generated.png"))

    dialog = ExportDialog(str(Path.home()), "the-kesh", 4, window)
    dialog.show()
    _pump(app, 0.5)
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(DOCS / "app-export-dialog.png"))
    dialog.close()
    from screenshots_shape import take_shape_shots  # the score, why this note, reshaping

    shape_shots = take_shape_shots(app, window, DOCS, _pump)
    window.close()
    for name in ("app-empty.png", "app-generated.png", "app-export-dialog.png"):
        print(DOCS / name)
    for path in shape_shots:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
