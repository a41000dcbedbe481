"""The app's persistent settings: the only module that knows QSettings keys.

Everything the window remembers between runs (last folder, model, sampling values, loop, recent
files, window geometry) is read and written through `AppSettings`, so a key is spelled once.
Sampling values are saved as `GenerationConfig.to_dict` and read back with `from_dict`, so a value
that is missing, of the wrong type or out of range falls back to its default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from musicgen.generation import GenerationConfig

__all__ = ["MAX_RECENT_FILES", "AppSettings"]

MAX_RECENT_FILES = 8

_LAST_FOLDER = "files/last_folder"
_RECENT = "files/recent"
_MODEL = "model/name"
_SAMPLING = "sampling/values"
_NEW_SEED = "sampling/new_seed_each_time"
_LOOP = "playback/loop"
_GEOMETRY = "window/geometry"
_SCORE_VIEW = "window/score_view"  # "roll", "score" or "both"
_EXPORT = "export/choices"  # folder, format suffix, continuation only, all variations


class AppSettings:
    """Typed access to the app's QSettings (an ini file may be given, e.g. for tests)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._path = None if path is None else Path(path)
        if path is None:
            self._qs = QSettings("musicgen", "musicgen-gui")
        else:
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._qs.sync()

    @property
    def session_path(self) -> Path:
        """Where the session (seed and variations) is saved: beside an ini file given for tests,
        else ``session.json`` in the user's data folder."""
        if self._path is not None:
            return self._path.with_name(f"{self._path.stem}-session.json")
        from musicgen.userdirs import data_dir

        return data_dir() / "session.json"

    # --- files --------------------------------------------------------------------------------
    @property
    def last_folder(self) -> str:
        folder = str(self._qs.value(_LAST_FOLDER, "") or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    @last_folder.setter
    def last_folder(self, folder: str | Path) -> None:
        self._qs.setValue(_LAST_FOLDER, str(folder))

    @property
    def recent_files(self) -> list[str]:
        return self._load_json(_RECENT, [])

    def add_recent_file(self, path: str | Path) -> list[str]:
        """Put a file first in the recent list (deduplicated, at most MAX_RECENT_FILES)."""
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files if p != path]
        files = files[:MAX_RECENT_FILES]
        self._qs.setValue(_RECENT, json.dumps(files))
        self.last_folder = str(Path(path).parent)
        return files

    @property
    def export_choices(self) -> dict[str, Any]:
        """What the export dialog was last set to: folder (the user's last export folder, else
        their music folder, else home), suffix, continuation_only, all_variations."""
        saved = self._load_json(_EXPORT, {})
        folder = str(saved.get("folder") or "")
        if not folder or not Path(folder).is_dir():
            folder = _music_or_home()
        return {"folder": folder, "suffix": str(saved.get("suffix", ".mid")),
                "continuation_only": saved.get("continuation_only") is True,
                "all_variations": saved.get("all_variations") is True}

    def save_export_choices(self, folder: str, suffix: str, continuation_only: bool,
                            all_variations: bool) -> None:
        self._qs.setValue(_EXPORT, json.dumps({
            "folder": folder, "suffix": suffix, "continuation_only": continuation_only,
            "all_variations": all_variations}))

    # --- model and sampling -------------------------------------------------------------------
    @property
    def model(self) -> str:
        return str(self._qs.value(_MODEL, "lstm") or "lstm")

    @model.setter
    def model(self, name_or_path: str) -> None:
        self._qs.setValue(_MODEL, name_or_path)

    def sampling(self, defaults: GenerationConfig) -> GenerationConfig:
        """The sampling values saved last; each missing or unusable one is taken from `defaults`."""
        return GenerationConfig.from_dict(self._load_json(_SAMPLING, {}), defaults)

    @property
    def new_seed_each_time(self) -> bool:
        return _is_true(self._qs.value(_NEW_SEED, "true"))

    def save_sampling(self, config: GenerationConfig, new_seed_each_time: bool) -> None:
        self._qs.setValue(_SAMPLING, json.dumps(config.to_dict()))
        self._qs.setValue(_NEW_SEED, "true" if new_seed_each_time else "false")

    # --- playback -----------------------------------------------------------------------------
    @property
    def loop(self) -> bool:
        return _is_true(self._qs.value(_LOOP, "false"))

    @loop.setter
    def loop(self, on: bool) -> None:
        self._qs.setValue(_LOOP, "true" if on else "false")

    # --- window -------------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray | None:
        value = self._qs.value(_GEOMETRY, None)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self._qs.setValue(_GEOMETRY, data)

    @property
    def score_view(self) -> str:
        """Which views of the melody are shown: "roll", "score" or "both" (the default)."""
        value = str(self._qs.value(_SCORE_VIEW, "both") or "both")
        return value if value in ("roll", "score", "both") else "both"

    @score_view.setter
    def score_view(self, mode: str) -> None:
        self._qs.setValue(_SCORE_VIEW, mode)

    def _load_json(self, key: str, default: Any) -> Any:
        raw = self._qs.value(key, None)
        if not raw:
            return default
        from musicgen.safe_json import loads

        try:  # a damaged settings file may hold anything: limits on depth and numbers
            value = loads(str(raw))
        except ValueError:
            return default
        return value if isinstance(value, type(default)) else default


def _music_or_home() -> str:
    from PySide6.QtCore import QStandardPaths

    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
    return music if music and Path(music).is_dir() else str(Path.home())


def _is_true(value: Any) -> bool:
    return str(value).lower() == "true"
