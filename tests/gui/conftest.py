"""Fixtures for driving the real main window offscreen: isolated settings and user folders, seed
files of every format written inline, and a window that is torn down with its worker stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import KESH_ABC, MUSICXML, TUNE_BOOK_ABC, write_midi
from tests.support.gui import open_and_wait

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user's data/config/cache folders at tmp_path (crash log, corpus cache)."""
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / var.lower()
        folder.mkdir()
        monkeypatch.setenv(var, str(folder))
    return tmp_path


@pytest.fixture
def seed_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "kesh.abc").write_text(KESH_ABC)
    (folder / "book.abc").write_text(TUNE_BOOK_ABC)
    (folder / "air.musicxml").write_text(MUSICXML)
    write_midi(folder / "scale.mid", [[60, 62, 64, 65, 67, 69, 71, 72]])
    write_midi(folder / "duet.mid", [[72, 74, 76, 77], [48, 50, 52, 53, 55]])
    (folder / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    return {p.stem: p for p in folder.iterdir()}


@pytest.fixture
def window(qtbot, tmp_path: Path, isolated_user_dirs: Path) -> Iterator:
    """The real main window, shown offscreen, with settings in a temporary ini file."""
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    win = MainWindow(AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.playback.stop()
    win.worker.stop_all(wait_ms=10000)


@pytest.fixture(scope="session")
def tiny_checkpoint_dir(tiny_checkpoints: dict) -> Path:
    """The folder holding the project-wide tiny checkpoints (lstm-tiny, transformer-tiny)."""
    return Path(tiny_checkpoints["lstm"]).parent


@pytest.fixture
def models_window(qtbot, window, tiny_checkpoint_dir, monkeypatch, tmp_path):
    """The window listing the tiny checkpoints as its models, with The Kesh as the seed."""
    from musicgen import library

    monkeypatch.setattr(library, "DEFAULT_CHECKPOINT_DIR", tiny_checkpoint_dir)
    with qtbot.waitSignal(window.models.models_listed, timeout=30000):
        window.models.refresh_models()
    seeds = tmp_path / "model-window-seed"
    seeds.mkdir()
    (seeds / "kesh.abc").write_text(KESH_ABC)
    open_and_wait(qtbot, window, seeds / "kesh.abc")
    return window


