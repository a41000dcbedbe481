"""The real window's fixtures (`tests/gui/conftest.py`) for the app-stress tests here."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.gui.conftest import (  # noqa: E402,F401 - fixtures, found by pytest by name
    isolated_user_dirs,
    models_window,
    seed_files,
    tiny_checkpoint_dir,
    window,
)
