"""SeedControl: everything the user does with seeds: open files (Open, recent files, drops), pick a
tune or track, correct the key, trim, apply typed ABC, load the corpus and use one of its tunes.
The reader's notes (which track was used, what was changed to fit) are shown beside the seed.

It drives the seed panel, the corpus browser and the recent-files menu, and changes the one
`SeedState`; the reading runs in the worker (`gui.seed_tasks`). A file that cannot be read never
replaces the current seed: the user gets one sentence in a dialog instead.

Signals: ``load_failed(str)`` (a file could not be read; the sentence shown),
``corpus_loaded(list)`` (the corpus tunes, now in the browser), ``tempo_found(float)`` (a new seed
brings its tempo, for the transport).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.seed_state import SeedState
from gui.seed_tasks import (
    DEFAULT_SEED_PATH,
    builtin_seed,
    load_corpus_tunes,
    load_seed_file,
    parse_abc_text,
)
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.corpus_browser import CorpusBrowser
from gui.widgets.seed_panel import SeedPanel, bars_text
from gui.workers import Job, Worker
from musicgen.melody import Key, Melody

if TYPE_CHECKING:
    from musicgen.io import SeedFile

__all__ = ["SeedControl"]


class SeedControl(QObject):
    """Seed actions over the seed panel, the corpus browser and the recent-files menu."""

    load_failed = Signal(str)
    corpus_loaded = Signal(list)
    tempo_found = Signal(float)

    def __init__(self, seed: SeedState, panel: SeedPanel, corpus: CorpusBrowser, recent_menu: QMenu,
                 *, worker: Worker, status: StatusArea, settings: AppSettings, dialogs: Dialogs,
                 corpus_name: str = "folk", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seed, self._panel, self._corpus, self._recent_menu = seed, panel, corpus, recent_menu
        self._worker, self._status = worker, status
        self._settings, self._dialogs = settings, dialogs
        self._reading: Job | None = None  # the file read asked for last
        self._corpus_job: Job | None = None  # the corpus load under way
        self.corpus_name = corpus_name
        seed.seed_changed.connect(self._show_seed)
        panel.open_requested.connect(self.open_dialog)
        panel.part_chosen.connect(self.choose_part)
        panel.trim_requested.connect(self.trim)
        panel.abc_submitted.connect(self.apply_abc)
        panel.key_chosen.connect(self.set_key)
        corpus.load_requested.connect(self.load_corpus)
        corpus.stop_requested.connect(self.stop_corpus)
        corpus.tune_chosen.connect(self._use_tune)
        recent_menu.aboutToShow.connect(self.fill_recent_menu)

    # --- files --------------------------------------------------------------------------------
    def open_initial(self, path: str | None = None) -> None:
        """At start-up: `path` when given, else the shipped example tune, else a built-in one."""
        if path:
            self.open_path(path)
        elif DEFAULT_SEED_PATH.is_file():
            self.open_path(str(DEFAULT_SEED_PATH), remember=False)
        else:
            self.use(builtin_seed())

    def open_dialog(self) -> None:
        path = self._dialogs.open_file(self._settings.last_folder)
        if path:
            self.open_path(path)

    def open_path(self, path: str, part: int | None = None, remember: bool = True) -> Job:
        """Read a melody file in the worker; it becomes the seed when it can be read, else nothing
        changes."""
        self._status.show_message(f"Reading {Path(path).name}…")
        if self._reading is not None:  # files opened in a row: the last one asked for wins
            self._reading.stop()
        job = self._worker.submit(load_seed_file, str(path), part, name="read seed")
        self._reading = job
        job.finished.connect(lambda loaded, j=job: self._file_loaded(loaded, remember, j))
        job.failed.connect(lambda exc, j=job: self._file_failed(exc, j))
        return job

    def _file_loaded(self, loaded: SeedFile, remember: bool, job: Job | None = None) -> None:
        if job is not None and job is not self._reading:
            return  # a later file was asked for meanwhile: this read is stale
        self._reading = None
        self.use(loaded.melody, path=loaded.path, notes=loaded.notes)
        self._panel.set_parts(loaded.kind, loaded.parts, loaded.part)
        if remember:
            self._settings.add_recent_file(loaded.path)

    def _file_failed(self, exc: BaseException, job: Job | None = None) -> None:
        if job is not None and job is not self._reading:
            return  # a later file was asked for: its outcome is the one to report
        self._reading = None
        text = describe_exception(exc, "reading the melody")
        self._dialogs.error(text, "Cannot open this melody")
        self._status.show_message("The seed was not changed.")
        self.load_failed.emit(text)

    def choose_part(self, part: int) -> None:
        if self.seed.path:
            self.open_path(self.seed.path, part, remember=False)

    def fill_recent_menu(self) -> None:
        menu, files = self._recent_menu, self._settings.recent_files
        menu.clear()
        for path in files:
            menu.addAction(Path(path).name, lambda p=path: self.open_path(p)).setToolTip(path)
        menu.setEnabled(bool(files))

    # --- the seed itself ----------------------------------------------------------------------
    def use(self, melody: Melody, path: str | None = None, notes: tuple[str, ...] = ()) -> None:
        """Make `melody` the seed (the views clear the previous seed's variations); `notes` are
        the reader's, shown beside it."""
        if path is None:
            self._panel.set_parts("", ())
        self._panel.set_notes(notes)
        self.tempo_found.emit(melody.tempo_bpm)
        using = next((n for n in notes if n.startswith("Using ")), "")
        self._status.show_message(f"Seed: {melody.title or 'untitled'} ({bars_text(melody)})."
                                  + (f" {using}." if using else ""))
        self.seed.set(melody, path)

    def set_key(self, key: Key) -> None:
        """The user corrects the seed's key: Generate continues in it (the models work relative to
        the tonic, so the mode they are given matters), as ``--key`` does on the command line."""
        if self.seed.melody is None or key == self.seed.melody.key:
            return
        self.seed.set_key(key)
        self._status.show_message(f"Key set to {key}: the continuation follows it.")

    def trim(self, bars: int) -> None:
        if self.seed.full is not None and self.seed.trim(bars) is None:
            self._status.show_message(
                f"The first {bars} bars have no notes; the seed was not trimmed.")

    def _show_seed(self, melody: Melody) -> None:
        full = self.seed.full
        self._panel.set_seed(melody, full_bars=full.bar_count if full is not None else None)

    def apply_abc(self, text: str) -> Job:
        job = self._worker.submit(parse_abc_text, text, name="read ABC")
        job.finished.connect(self._abc_applied)
        job.failed.connect(lambda exc: self._panel.set_abc_error(
            describe_exception(exc, "reading the ABC")))
        return job

    def _abc_applied(self, loaded: SeedFile) -> None:
        self._panel.set_abc_error("")
        self.use(loaded.melody, notes=loaded.notes)

    # --- the corpus ---------------------------------------------------------------------------
    def load_corpus(self) -> Job:
        """Load (the first time: prepare) the corpus in the worker; the browser shows how far it
        is and offers Stop, after which loading again resumes."""
        browser, status = self._corpus, self._status
        if self._corpus_job is not None:
            return self._corpus_job
        browser.show_loading()
        job = self._worker.submit(load_corpus_tunes, self.corpus_name, name="load corpus")
        self._corpus_job = job
        job.progress.connect(status.show_progress)
        job.progress.connect(browser.show_progress)
        job.finished.connect(self._corpus_ready)
        job.failed.connect(self._corpus_failed)
        job.cancelled.connect(self._corpus_stopped)
        return job

    def stop_corpus(self) -> None:
        """Stop preparing the corpus (what is parsed is kept for the next load)."""
        if self._corpus_job is not None:
            self._corpus_job.stop()
            self._corpus.stop_button.setEnabled(False)

    def _corpus_ready(self, tunes: list[Any]) -> None:
        self._corpus_job = None
        self._status.hide_progress()
        self._corpus.set_tunes(tunes)
        self._status.show_message(f"The corpus is loaded: {len(tunes):,} tunes.")
        self.corpus_loaded.emit(tunes)

    def _corpus_failed(self, exc: BaseException) -> None:
        self._corpus_job = None
        self._status.hide_progress()
        self._corpus.set_status(describe_exception(exc, "loading the corpus"))

    def _corpus_stopped(self) -> None:
        self._corpus_job = None
        self._status.hide_progress()
        self._corpus.show_stopped()
        self._status.show_message("Corpus preparation stopped; loading it again resumes.")

    def _use_tune(self, tune: Any) -> None:
        self.use(tune.melody)
