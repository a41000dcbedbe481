"""The user's folders: prepared corpora (data) and parse caches; environment variables override them.

MUSICGEN_DATA_DIR and MUSICGEN_CACHE_DIR win over the platform's user folders (platformdirs), so the
tests and CI never touch the real home folder.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "cache_dir", "log_dir", "models_dir"]


def data_dir() -> Path:
    """Where prepared corpora live (MUSICGEN_DATA_DIR overrides the platform's user data folder)."""
    override = os.environ.get("MUSICGEN_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("musicgen", appauthor=False))


def cache_dir() -> Path:
    """Where per-file parse caches live (MUSICGEN_CACHE_DIR overrides the user cache folder)."""
    override = os.environ.get("MUSICGEN_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("musicgen", appauthor=False))


def log_dir() -> Path:
    """Where the app's error log lives: ``logs`` in the data folder."""
    return data_dir() / "logs"


def models_dir() -> Path:
    """Where a user's own models are looked up by name: ``models`` in the data folder."""
    return data_dir() / "models"
