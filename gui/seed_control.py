"""SeedControl: what the window does with seeds: open files, pick tunes or tracks, trim, apply ABC,
use a corpus tune, fill the recent-files menu.

The reading itself runs in the worker (`gui.seed_loading`); this object only wires results into
the window's panels and signals. A file that cannot be read never replaces the current seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicgen.melody import Melody

from gui.errors import describe_exception
from gui.seed_loading import LoadedSeed, load_corpus_tunes, load_seed_file, parse_abc_text
from gui.workers import Job

if TYPE_CHECKING:
    from gui.main_window import MainWindow

__all__ = ["SeedControl"]


class SeedControl:
    """Seed actions for one window (the window keeps `seed` and `seed_path`)."""

    def __init__(self, window: MainWindow, corpus_name: str = "folk") -> None:
        self._win = window
        self.full_seed: Melody | None = None
        self.corpus_name = corpus_name

    def open_dialog(self) -> None:
        win = self._win
        path = win.dialogs.open_file(win.settings.last_folder)
        if path:
            self.open_path(path)

    def open_path(self, path: str, part: int | None = None, remember: bool = True) -> Job:
        """Read a melody file in the worker; on success it becomes the seed, else nothing changes."""
        win = self._win
        win.show_status(f"Reading {Path(path).name}…")
        job = win.worker.submit(load_seed_file, str(path), part, name="read seed")
        job.finished.connect(lambda loaded: self._file_loaded(loaded, remember))
        job.failed.connect(self._file_failed)
        return job

    def _file_loaded(self, loaded: LoadedSeed, remember: bool) -> None:
        self.set_seed(loaded.melody, path=loaded.path)
        self._win.ui.seed_panel.set_parts(loaded.kind, loaded.parts, loaded.part)
        if remember:
            self._win.settings.add_recent_file(loaded.path)

    def _file_failed(self, exc: BaseException) -> None:
        win = self._win
        text = describe_exception(exc, "reading the melody")
        win.dialogs.error(text, "Cannot open this melody")
        win.show_status("The seed was not changed.")
        win.seed_load_failed.emit(text)

    def choose_part(self, part: int) -> None:
        if self._win.seed_path:
            self.open_path(self._win.seed_path, part, remember=False)

    def set_seed(self, melody: Melody, path: str | None = None) -> None:
        """Make `melody` the seed (clears the variations of the previous seed)."""
        win, ui = self._win, self._win.ui
        win.seed = self.full_seed = melody
        win.seed_path = path
        if path is None:
            ui.seed_panel.set_parts("", ())
        ui.seed_panel.set_seed(melody)
        ui.variations.set_variations([])
        ui.transport.tempo_spin.setValue(int(round(melody.tempo_bpm)))
        win.show_melody(melody)
        win.show_status(f"Seed: {melody.title or 'untitled'} ({melody.bar_count} bars).")
        win.seed_changed.emit(melody)

    def trim(self, bars: int) -> None:
        win = self._win
        if self.full_seed is None:
            return
        trimmed = self.full_seed.first_bars(bars)
        if not trimmed.pitched_notes:
            win.show_status(f"The first {bars} bars have no notes; the seed was not trimmed.")
            return
        win.seed = trimmed
        win.ui.seed_panel.set_seed(trimmed, full_bars=self.full_seed.bar_count)
        win.ui.variations.set_variations([])
        win.show_melody(trimmed)
        win.seed_changed.emit(trimmed)

    def apply_abc(self, text: str) -> Job:
        panel = self._win.ui.seed_panel
        job = self._win.worker.submit(parse_abc_text, text, name="read ABC")
        job.finished.connect(self._abc_applied)
        job.failed.connect(lambda exc: panel.set_abc_error(describe_exception(exc, "reading the ABC")))
        return job

    def _abc_applied(self, melody: Melody) -> None:
        self._win.ui.seed_panel.set_abc_error("")
        self.set_seed(melody)

    def load_corpus(self) -> Job:
        win, browser = self._win, self._win.ui.corpus
        browser.set_status("Loading the folk corpus (the first time takes a while)…")
        job = win.worker.submit(load_corpus_tunes, self.corpus_name, name="load corpus")
        job.progress.connect(win.generation_control.show_progress)
        job.finished.connect(self._corpus_loaded)
        job.failed.connect(lambda exc: browser.set_status(
            describe_exception(exc, "loading the corpus")))
        return job

    def _corpus_loaded(self, tunes: list[Any]) -> None:
        self._win.progress_bar.hide()
        self._win.ui.corpus.set_tunes(tunes)
        self._win.corpus_loaded.emit(tunes)

    def fill_recent_menu(self) -> None:
        win = self._win
        menu = win.actions.recent_menu
        menu.clear()
        for path in win.settings.recent_files:
            menu.addAction(Path(path).name, lambda p=path: self.open_path(p)).setToolTip(path)
        menu.setEnabled(bool(win.settings.recent_files))
