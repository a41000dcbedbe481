"""MainWindow: composes the panels and wires their signals to the worker, playback and export.

Composition and wiring only: what to do with seeds lives in `gui.seed_control`, models and
generation in `gui.generation_control`, export in `gui.export_control`, audio and MIDI output in
`gui.playback_control`, every dialog in `gui.dialogs`, every action in `gui.actions`, every
settings key in `gui.settings`. Nothing here imports torch or music21: they load on the worker
thread when first needed.
"""

from __future__ import annotations

from pathlib import Path
from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QPushButton

from musicgen.melody import Melody

from gui.actions import Actions
from gui.dialogs import Dialogs
from gui.export import ExportRequest
from gui.export_control import ExportControl
from gui.generation_control import GenerationControl
from gui.layout import build_layout
from gui.playback_control import PlaybackController
from gui.seed_control import SeedControl
from gui.seed_loading import DEFAULT_SEED_PATH, SEED_SUFFIXES, builtin_seed
from gui.settings import AppSettings
from gui.widgets.sampling_panel import SamplingValues
from gui.workers import Job, Worker

__all__ = ["MainWindow"]


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

    def __init__(self, settings: AppSettings | None = None, corpus: str = "folk") -> None:
        super().__init__()
        self.setWindowTitle("musicgen — continue a folk melody")
        self.settings = settings or AppSettings()
        self.worker = Worker(self)
        self.dialogs = Dialogs(self)
        self.actions = Actions(self)
        self.actions.build_menus(self)
        self.ui = build_layout(self, self.actions)
        self.playback = PlaybackController(self.worker, self)
        self.seed: Melody | None = None
        self.seed_path: str | None = None
        self.seed_control = SeedControl(self, corpus)
        self.generation_control = GenerationControl(self)
        self.export_control = ExportControl(self)
        self.generators = self.generation_control.generators
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
        seeds, gen, play = self.seed_control, self.generation_control, self.playback
        a.open.triggered.connect(seeds.open_dialog)
        a.open_checkpoint.triggered.connect(gen.open_checkpoint_dialog)
        a.export.triggered.connect(self.export_control.open_dialog)
        a.quit.triggered.connect(self.close)
        a.generate.triggered.connect(self.generate)
        a.stop.triggered.connect(self.stop_generation)
        a.play.triggered.connect(self.toggle_playback)
        a.loop.toggled.connect(ui.transport.loop_check.setChecked)
        a.refresh_midi_ports.triggered.connect(play.refresh_midi_ports)
        a.zoom_in.triggered.connect(ui.roll.zoom_in)
        a.zoom_out.triggered.connect(ui.roll.zoom_out)
        a.zoom_fit.triggered.connect(ui.roll.zoom_to_fit)
        a.show_seed.triggered.connect(lambda: self.show_melody(self.seed))
        a.recent_menu.aboutToShow.connect(seeds.fill_recent_menu)
        self.stop_button.clicked.connect(self.stop_generation)
        ui.generate_button.clicked.connect(self.generate)
        ui.export_button.clicked.connect(self.export_control.open_dialog)
        ui.seed_panel.open_requested.connect(seeds.open_dialog)
        ui.seed_panel.part_chosen.connect(seeds.choose_part)
        ui.seed_panel.trim_requested.connect(seeds.trim)
        ui.seed_panel.abc_submitted.connect(seeds.apply_abc)
        ui.corpus.load_requested.connect(seeds.load_corpus)
        ui.corpus.tune_chosen.connect(lambda tune: seeds.set_seed(tune.melody, path=None))
        ui.model_panel.model_chosen.connect(gen.choose_model)
        ui.model_panel.other_checkpoint_requested.connect(gen.open_checkpoint_dialog)
        ui.variations.variation_selected.connect(
            lambda row: self.show_melody(ui.variations.melodies[row]))
        ui.roll.seek_requested.connect(self.play_from)
        ui.transport.play_clicked.connect(self.toggle_playback)
        ui.transport.loop_toggled.connect(self._on_loop)
        ui.transport.output_changed.connect(play.set_midi_port)
        play.midi_ports_listed.connect(ui.transport.set_midi_ports)
        play.playing_changed.connect(ui.transport.set_playing)
        play.playhead_moved.connect(ui.roll.set_playhead)
        play.position_text.connect(ui.transport.set_position)
        play.message.connect(self.show_status)

    # --- start-up -----------------------------------------------------------------------------
    def start(self, seed_path: str | None = None, preload_model: bool = True) -> None:
        """After the window is shown: list the models and MIDI ports and load the seed (in the
        worker)."""
        self.refresh_models(preload=preload_model)
        self.playback.refresh_midi_ports()
        if seed_path:
            self.open_path(seed_path)
        elif DEFAULT_SEED_PATH.is_file():
            self.open_path(str(DEFAULT_SEED_PATH), remember=False)
        else:
            self.set_seed(builtin_seed())

    # --- the window's public calls (each delegates to its controller) --------------------------
    def refresh_models(self, preload: bool = False) -> Job:
        return self.generation_control.refresh_models(preload)

    def open_path(self, path: str, part: int | None = None, remember: bool = True) -> Job:
        """Read a melody file in the worker; on success it becomes the seed, else nothing changes."""
        return self.seed_control.open_path(path, part, remember)

    def set_seed(self, melody: Melody, path: str | None = None) -> None:
        self.seed_control.set_seed(melody, path)

    def trim_seed(self, bars: int) -> None:
        self.seed_control.trim(bars)

    def apply_abc(self, text: str) -> Job:
        return self.seed_control.apply_abc(text)

    def load_corpus(self) -> Job:
        return self.seed_control.load_corpus()

    def choose_model(self, name_or_path: str) -> Job:
        return self.generation_control.choose_model(name_or_path)

    def add_checkpoint(self, path: str) -> Job:
        return self.generation_control.add_checkpoint(path)

    def generate(self) -> Job | None:
        return self.generation_control.generate()

    def stop_generation(self) -> None:
        self.generation_control.stop()

    def export_dialog(self) -> None:
        self.export_control.open_dialog()

    def export_with(self, request: ExportRequest) -> Job | None:
        return self.export_control.export_with(request)

    # --- playback -----------------------------------------------------------------------------
    @property
    def shown_melody(self) -> Melody | None:
        return self.ui.roll.melody

    def show_melody(self, melody: Melody | None) -> None:
        """Show a melody in the piano roll (stops what was playing)."""
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

    # --- window, drops, settings --------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_changed.emit(text)

    def report_unexpected(self, text: str) -> None:
        """Where `sys.excepthook` sends exceptions raised in slots: a dialog, and the app stays up."""
        self.dialogs.error(text, "Something went wrong")

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
