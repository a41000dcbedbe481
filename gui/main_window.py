"""MainWindow: composes the panels and wires their signals to the worker, playback and export.

Composition and wiring only: reading seeds lives in `gui.seed_loading`, models and generation in
`gui.generation`, files to write in `gui.export`, audio in `gui.playback_control`, every dialog in
`gui.dialogs`, every action in `gui.actions`, every settings key in `gui.settings`. Nothing here
imports torch or music21: they load on the worker thread when first needed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QLabel, QMainWindow, QProgressBar, QPushButton, QWidget,
)

from musicgen.melody import Melody

from gui.actions import Actions
from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.export import ExportRequest, existing_targets, plan_export, safe_stem, write_plan
from gui.generation import GeneratorCache, list_models
from gui.layout import build_layout
from gui.playback_control import PlaybackController
from gui.seed_loading import (
    DEFAULT_SEED_PATH, SEED_SUFFIXES, LoadedSeed, builtin_seed, load_corpus_tunes, load_seed_file,
    parse_abc_text,
)
from gui.settings import AppSettings
from gui.widgets.export_dialog import ExportDialog
from gui.widgets.sampling_panel import SamplingValues
from gui.workers import Job, Worker

__all__ = ["MainWindow"]

CHECKPOINT_FILTER = "Checkpoints (*.safetensors *.json);;All files (*)"


class MainWindow(QMainWindow):
    """The musicgen window: seed on the left, piano roll and variations in the middle, model and
    sampling on the right."""

    seed_changed = Signal(object)  # Melody
    seed_load_failed = Signal(str)
    models_listed = Signal(list)
    model_ready = Signal(str)
    generation_finished = Signal(list)  # list[Melody]
    generation_cancelled = Signal()
    generation_failed = Signal(str)
    export_finished = Signal(list)  # list[Path]
    corpus_loaded = Signal(list)
    status_changed = Signal(str)

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("musicgen — continue a folk melody")
        self.settings = settings or AppSettings()
        self.worker = Worker(self)
        self.dialogs = Dialogs(self)
        self.generators = GeneratorCache()
        self.actions = Actions(self)
        self.actions.build_menus(self)
        self.ui = build_layout(self, self.actions)
        self.playback = PlaybackController(self.worker, self)
        self.seed: Melody | None = None
        self.seed_path: str | None = None
        self._full_seed: Melody | None = None
        self._generation: Job | None = None
        self._generation_started = 0.0
        self.status_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        self.stop_button = QPushButton("Stop")
        self.stop_button.hide()
        for widget, stretch in ((self.status_label, 1), (self.progress_bar, 0), (self.stop_button, 0)):
            self.statusBar().addPermanentWidget(widget, stretch)
        self.setAcceptDrops(True)
        self._wire()
        self._restore_settings()

    # --- wiring -------------------------------------------------------------------------------
    def _wire(self) -> None:
        a, ui = self.actions, self.ui
        a.open.triggered.connect(self.open_dialog)
        a.open_checkpoint.triggered.connect(self.open_checkpoint_dialog)
        a.export.triggered.connect(self.export_dialog)
        a.quit.triggered.connect(self.close)
        a.generate.triggered.connect(self.generate)
        a.stop.triggered.connect(self.stop_generation)
        a.play.triggered.connect(self.toggle_playback)
        a.loop.toggled.connect(ui.transport.loop_check.setChecked)
        a.zoom_in.triggered.connect(ui.roll.zoom_in)
        a.zoom_out.triggered.connect(ui.roll.zoom_out)
        a.zoom_fit.triggered.connect(ui.roll.zoom_to_fit)
        a.show_seed.triggered.connect(lambda: self._show(self.seed))
        a.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.stop_button.clicked.connect(self.stop_generation)
        ui.generate_button.clicked.connect(self.generate)
        ui.export_button.clicked.connect(self.export_dialog)
        ui.seed_panel.open_requested.connect(self.open_dialog)
        ui.seed_panel.part_chosen.connect(self._on_part_chosen)
        ui.seed_panel.trim_requested.connect(self.trim_seed)
        ui.seed_panel.abc_submitted.connect(self.apply_abc)
        ui.corpus.load_requested.connect(self.load_corpus)
        ui.corpus.tune_chosen.connect(lambda tune: self.set_seed(tune.melody, path=None))
        ui.model_panel.model_chosen.connect(self.choose_model)
        ui.model_panel.other_checkpoint_requested.connect(self.open_checkpoint_dialog)
        ui.variations.variation_selected.connect(
            lambda row: self._show(ui.variations.melodies[row]))
        ui.roll.seek_requested.connect(self.play_from)
        ui.transport.play_clicked.connect(self.toggle_playback)
        ui.transport.loop_toggled.connect(self._on_loop)
        self.playback.playing_changed.connect(ui.transport.set_playing)
        self.playback.playhead_moved.connect(ui.roll.set_playhead)
        self.playback.position_text.connect(ui.transport.set_position)
        self.playback.message.connect(self.show_status)

    # --- start-up -----------------------------------------------------------------------------
    def start(self, seed_path: str | None = None, preload_model: bool = True) -> None:
        """After the window is shown: list the models and load the seed (both in the worker)."""
        self.refresh_models(preload=preload_model)
        if seed_path:
            self.open_path(seed_path)
        elif DEFAULT_SEED_PATH.is_file():
            self.open_path(str(DEFAULT_SEED_PATH), remember=False)
        else:
            self.set_seed(builtin_seed())

    def refresh_models(self, preload: bool = False) -> Job:
        job = self.worker.submit(list_models, name="list models")
        job.finished.connect(lambda cards: self._models_listed(cards, preload))
        job.failed.connect(lambda exc: self._report(exc, "looking for models", dialog=False))
        return job

    def _models_listed(self, cards: list[Any], preload: bool) -> None:
        self.ui.model_panel.set_models(cards, self.settings.model)
        self.models_listed.emit(cards)
        model = self.ui.model_panel.current_model()
        if preload and model:
            self.choose_model(model)

    # --- seed ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = self.dialogs.open_file(self.settings.last_folder)
        if path:
            self.open_path(path)

    def open_path(self, path: str, part: int | None = None, remember: bool = True) -> Job:
        """Read a melody file in the worker; on success it becomes the seed, else nothing changes."""
        self.show_status(f"Reading {Path(path).name}…")
        job = self.worker.submit(load_seed_file, str(path), part, name="read seed")
        job.finished.connect(lambda loaded: self._seed_file_loaded(loaded, remember))
        job.failed.connect(self._seed_file_failed)
        return job

    def _seed_file_loaded(self, loaded: LoadedSeed, remember: bool) -> None:
        self.set_seed(loaded.melody, path=loaded.path)
        self.ui.seed_panel.set_parts(loaded.kind, loaded.parts, loaded.part)
        if remember:
            self.settings.add_recent_file(loaded.path)

    def _seed_file_failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "reading the melody")
        self.dialogs.error(text, "Cannot open this melody")
        self.show_status("The seed was not changed.")
        self.seed_load_failed.emit(text)

    def _on_part_chosen(self, part: int) -> None:
        if self.seed_path:
            self.open_path(self.seed_path, part, remember=False)

    def set_seed(self, melody: Melody, path: str | None = None) -> None:
        """Make `melody` the seed (clears the variations of the previous seed)."""
        self.seed = self._full_seed = melody
        self.seed_path = path
        if path is None:
            self.ui.seed_panel.set_parts("", ())
        self.ui.seed_panel.set_seed(melody)
        self.ui.variations.set_variations([])
        self.ui.transport.tempo_spin.setValue(int(round(melody.tempo_bpm)))
        self._show(melody)
        self.show_status(f"Seed: {melody.title or 'untitled'} ({melody.bar_count} bars).")
        self.seed_changed.emit(melody)

    def trim_seed(self, bars: int) -> None:
        if self._full_seed is None:
            return
        trimmed = self._full_seed.first_bars(bars)
        if not trimmed.pitched_notes:
            self.show_status(f"The first {bars} bars have no notes; the seed was not trimmed.")
            return
        self.seed = trimmed
        self.ui.seed_panel.set_seed(trimmed, full_bars=self._full_seed.bar_count)
        self.ui.variations.set_variations([])
        self._show(trimmed)
        self.seed_changed.emit(trimmed)

    def apply_abc(self, text: str) -> Job:
        job = self.worker.submit(parse_abc_text, text, name="read ABC")
        job.finished.connect(self._abc_applied)
        job.failed.connect(lambda exc: self.ui.seed_panel.set_abc_error(
            describe_exception(exc, "reading the ABC")))
        return job

    def _abc_applied(self, melody: Melody) -> None:
        self.ui.seed_panel.set_abc_error("")
        self.set_seed(melody)

    def load_corpus(self) -> Job:
        self.ui.corpus.set_status("Loading the folk corpus (the first time takes a while)…")
        job = self.worker.submit(load_corpus_tunes, "folk", name="load corpus")
        job.progress.connect(self._on_progress)
        job.finished.connect(self._corpus_loaded)
        job.failed.connect(lambda exc: self.ui.corpus.set_status(
            describe_exception(exc, "loading the corpus")))
        return job

    def _corpus_loaded(self, tunes: list[Any]) -> None:
        self.progress_bar.hide()
        self.ui.corpus.set_tunes(tunes)
        self.corpus_loaded.emit(tunes)

    # --- model and generation -----------------------------------------------------------------
    def choose_model(self, name_or_path: str) -> Job:
        """Remember the model and load it in the background."""
        self.settings.model = name_or_path
        self.ui.model_panel.set_status("Loading the model…")
        job = self.worker.submit(self.generators.load, name_or_path, name="load model")
        job.finished.connect(lambda _gen: self._model_loaded(name_or_path))
        job.failed.connect(lambda exc: self._model_failed(exc))
        return job

    def _model_loaded(self, name_or_path: str) -> None:
        self.ui.model_panel.set_status("Ready.")
        self.model_ready.emit(name_or_path)

    def _model_failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "loading the model")
        self.ui.model_panel.set_status("Could not load this model.")
        self.show_status(text)

    def open_checkpoint_dialog(self) -> None:
        path = self.dialogs.open_file(self.settings.last_folder, CHECKPOINT_FILTER,
                                      "Open a model checkpoint")
        if path:
            self.add_checkpoint(path)

    def add_checkpoint(self, path: str) -> Job:
        """Load a checkpoint the user trained and add it to the model chooser."""
        job = self.worker.submit(self.generators.card, path, name="load checkpoint")
        job.finished.connect(lambda card: self.ui.model_panel.add_checkpoint(card, path))
        job.failed.connect(lambda exc: self.dialogs.error(
            describe_exception(exc, "loading the checkpoint"), "Cannot use this checkpoint"))
        return job

    def generate(self) -> Job | None:
        """Continue the seed with the chosen model and the sampling values (in the worker)."""
        if self._generation is not None:
            return None
        model = self.ui.model_panel.current_model()
        if self.seed is None or model is None:
            self.dialogs.error("Load a seed melody and choose a model first." if model else
                               "No model is available: choose “Other checkpoint…”.")
            return None
        values = self.ui.sampling.values_for_next_generation()
        self.settings.sampling = values.__dict__.copy()
        job = self.worker.submit(self.generators.generate, model, self.seed, values, name="generate")
        self._generation, self._generation_started = job, time.monotonic()
        job.progress.connect(self._on_progress)
        job.finished.connect(self._generated)
        job.failed.connect(self._generation_failed)
        job.cancelled.connect(self._generation_stopped)
        self._set_busy(True, f"Generating {values.variations} variation(s) with {model}…")
        return job

    def stop_generation(self) -> None:
        if self._generation is not None:
            self._generation.stop()
            self.show_status("Stopping…")

    def _generated(self, melodies: list[Melody]) -> None:
        seconds = time.monotonic() - self._generation_started
        self._set_busy(False, f"Generated {len(melodies)} variation(s) in {seconds:.1f} s.")
        self.ui.variations.set_variations(melodies)
        self.generation_finished.emit(melodies)

    def _generation_failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "generating")
        self._set_busy(False, "Generation failed.")
        self.dialogs.error(text, "Generation failed")
        self.generation_failed.emit(text)

    def _generation_stopped(self) -> None:
        self._set_busy(False, "Generation stopped.")
        self.generation_cancelled.emit()

    def _set_busy(self, busy: bool, message: str) -> None:
        if not busy:
            self._generation = None
        self.actions.generate.setEnabled(not busy)
        self.ui.generate_button.setEnabled(not busy)
        self.actions.stop.setEnabled(busy)
        self.stop_button.setVisible(busy)
        self.progress_bar.setVisible(busy)
        self.progress_bar.setRange(0, 0)
        self.show_status(message)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.show()
        if fraction < 0:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(fraction * 1000))
        if message:
            self.progress_bar.setFormat(message[:40])

    # --- playback -----------------------------------------------------------------------------
    @property
    def shown_melody(self) -> Melody | None:
        return self.ui.roll.melody

    def _show(self, melody: Melody | None) -> None:
        self.playback.stop()
        self.ui.roll.set_melody(melody)

    def toggle_playback(self) -> None:
        self.playback.toggle(self.shown_melody, self.ui.transport.tempo_bpm)

    def play_from(self, tick: int) -> None:
        if self.shown_melody is not None:
            self.playback.play(self.shown_melody, self.ui.transport.tempo_bpm, tick)

    def _on_loop(self, on: bool) -> None:
        self.actions.loop.setChecked(on)
        self.playback.set_loop(on)

    # --- export -------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        melodies = self.ui.variations.melodies or ([self.seed] if self.seed else [])
        if not melodies:
            self.dialogs.error("There is nothing to export yet: load a seed and generate.")
            return
        title = melodies[0].title or "melody"
        dialog = ExportDialog(self.settings.last_folder, safe_stem(title), len(melodies), self)
        if not self.ui.variations.melodies:
            dialog.continuation_radio.setEnabled(False)
        if dialog.exec():
            self.export_with(dialog.request())

    def export_with(self, request: ExportRequest) -> Job | None:
        """Write the selected variation (or all of them) as the request says, after confirming."""
        melodies = self.ui.variations.melodies or ([self.seed] if self.seed else [])
        if not melodies or not request.path:
            return None
        current = max(self.ui.variations.currentRow(), 0)
        plan = plan_export(request, melodies, min(current, len(melodies) - 1))
        existing = existing_targets(plan)
        if existing:
            names = ", ".join(p.name for p in existing[:3]) + ("…" if len(existing) > 3 else "")
            if not self.dialogs.confirm(f"Replace {len(existing)} existing file(s): {names}?",
                                        "Replace files?"):
                return None
        job = self.worker.submit(write_plan, plan, self.ui.transport.tempo_bpm, name="export")
        job.finished.connect(self._exported)
        job.failed.connect(lambda exc: self.dialogs.error(
            describe_exception(exc, "exporting"), "Export failed"))
        folder = Path(request.path) if request.all_variations else Path(request.path).parent
        self.settings.last_folder = str(folder)
        return job

    def _exported(self, paths: list[Path]) -> None:
        where = paths[0] if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
        self.show_status(f"Exported {where}.")
        self.export_finished.emit(paths)

    # --- window, drops, settings --------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_changed.emit(text)

    def report_unexpected(self, text: str) -> None:
        """Where `sys.excepthook` sends exceptions raised in slots: a dialog, and the app stays up."""
        self.dialogs.error(text, "Something went wrong")

    def _report(self, exc: BaseException, doing: str, dialog: bool = True) -> None:
        text = describe_exception(exc, doing)
        (self.dialogs.error if dialog else self.show_status)(text)

    def _fill_recent_menu(self) -> None:
        menu = self.actions.recent_menu
        menu.clear()
        for path in self.settings.recent_files:
            menu.addAction(Path(path).name, lambda p=path: self.open_path(p)).setToolTip(path)
        menu.setEnabled(bool(self.settings.recent_files))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).suffix.lower() in SEED_SUFFIXES:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            self.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    def _restore_settings(self) -> None:
        self.ui.sampling.set_values(SamplingValues.from_dict(self.settings.sampling))
        self.ui.transport.loop_check.setChecked(self.settings.loop)
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        else:
            self.resize(1280, 720)

    def save_settings(self) -> None:
        self.settings.sampling = self.ui.sampling.values().__dict__.copy()
        self.settings.tempo_bpm = self.ui.transport.tempo_bpm
        self.settings.loop = self.ui.transport.loop
        self.settings.geometry = self.saveGeometry()
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.playback.stop()
        self.worker.stop_all(wait_ms=3000)
        super().closeEvent(event)
