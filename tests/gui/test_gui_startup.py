"""Start-up stays light: the window module imports neither torch nor music21, and the entry point
opens the window with a seed before any model has loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_after(statement: str) -> set[str]:
    code = (f"import sys; {statement}; "
            "print(' '.join(m for m in ('torch', 'music21', 'mido', 'PySide6.QtMultimedia') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_importing_the_window_does_not_import_heavy_modules():
    assert _imported_after("import gui.main_window, gui.app") == set()


def test_showing_the_window_does_not_import_torch():
    statement = ("from PySide6.QtWidgets import QApplication; app = QApplication([]); "
                 "from gui.main_window import MainWindow; w = MainWindow(); w.show(); "
                 "app.processEvents()")
    assert "torch" not in _imported_after(statement)


def test_start_without_a_default_file_uses_the_builtin_seed(qtbot, window, monkeypatch, tmp_path):
    from gui import seed_control

    monkeypatch.setattr(seed_control, "DEFAULT_SEED_PATH", tmp_path / "missing.abc")
    with qtbot.waitSignal(window.seed.seed_changed, timeout=10000):
        window.start(preload_model=False)
    assert window.seed.melody is not None and window.seed.melody.note_count > 10
    assert window.ui.roll.melody is window.seed.melody


def test_start_with_the_shipped_default_seed(qtbot, window):
    from gui.seed_tasks import DEFAULT_SEED_PATH

    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        window.start(preload_model=False)
    if DEFAULT_SEED_PATH.is_file():
        assert window.seed.path == str(DEFAULT_SEED_PATH)
    assert changed.args[0].note_count > 0


def test_help_prints_usage(capsys):
    from gui.app import main

    assert main(["--help"]) == 0
    assert "musicgen-gui [SEED]" in capsys.readouterr().out


def test_the_window_takes_the_interpreter_lock_back_quickly(window):
    """Each call into Qt hands the interpreter lock to a generating worker thread; the window asks
    for it back within half a millisecond, not Python's default five."""
    from gui.main_window import SWITCH_INTERVAL_S

    assert sys.getswitchinterval() <= SWITCH_INTERVAL_S
