"""MainWindow: builds the panels and the controllers that own them, and wires them together.

Composition and wiring only, no pass-throughs: seeds are `gui.seed_control` (over the one
`gui.seed_state.SeedState`), the model chooser `gui.model_control`, Generate and the variations
`gui.generation_control`, export `gui.export_control`, the piano roll and playback
`gui.transport_control`, the score view and the ABC pane `gui.score_control`, the note in focus
`gui.focus_control`, edits of a variation `gui.shape_control`, the session restored at the next
start `gui.session_control`; the status line, progress bar and
Stop button are `gui.status`. Every
dialog is in `gui.dialogs`, every action in `gui.actions`, every settings key in `gui.settings`.
Nothing here imports torch or music21: they load on the worker thread when first needed.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow

from gui.actions import Actions
from gui.dialogs import Dialogs
from gui.export_control import ExportControl
from gui.focus_control import FocusControl
from gui.focus_tasks import ModelRecall
from gui.generation_control import GenerationControl
from gui.generation_tasks import GeneratorCache
from gui.help_control import HelpControl
from gui.layout import build_layout
from gui.library_control import LibraryControl
from gui.model_control import ModelControl
from gui.playback_control import PlaybackController
from gui.score_control import ScoreControl
from gui.seed_control import SeedControl
from gui.seed_state import SeedState
from gui.session_control import SessionControl
from gui.settings import AppSettings
from gui.shape_control import ShapeControl
from gui.status import StatusArea
from gui.train_control import TrainControl
from gui.transport_control import TransportControl
from gui.widgets.sampling_panel import SAMPLING_DEFAULTS
from gui.workers import Worker

__all__ = ["MainWindow", "SWITCH_INTERVAL_S"]

SWITCH_INTERVAL_S = 0.0005


class MainWindow(QMainWindow):
    """The musicgen window: seed on the left, piano roll and variations in the middle, model and
    sampling on the right."""

    def __init__(self, settings: AppSettings | None = None, corpus: str = "folk") -> None:
        super().__init__()
        self.setWindowTitle("musicgen — continue a folk melody")
        self.settings = settings or AppSettings()
        # The window calls into Qt many times a slot, each call handing the interpreter lock to
        # the worker thread generating meanwhile; getting it back waited up to a switch interval
        # (5 ms) each time, which made a 30 ms slot stall the window 60-70 ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.worker = Worker(self)
        self.dialogs = Dialogs(self)
        self.actions = Actions(self)
        self.actions.build_menus(self)
        self.ui = build_layout(self, self.actions)
        self.status = StatusArea()
        self.statusBar().addPermanentWidget(self.status, 1)
        self.seed = SeedState(self)
        self._build_controls(corpus)
        self.setAcceptDrops(True)
        self._wire()
        self._restore_settings()

    def _build_controls(self, corpus: str) -> None:
        ui, a = self.ui, self.actions
        common = {"worker": self.worker, "status": self.status, "settings": self.settings,
                  "dialogs": self.dialogs, "parent": self}
        self.playback = PlaybackController(self.worker, self)
        self.transport = TransportControl(ui.roll, ui.transport, a.loop, self.playback, self.status,
                                          self)
        self.seeds = SeedControl(self.seed, ui.seed_panel, ui.corpus, a.recent_menu,
                                 corpus_name=corpus, **common)
        generators = GeneratorCache()
        self.models = ModelControl(ui.model_panel, generators, **common)
        self.generation = GenerationControl(
            self.seed, ui.sampling, ui.variations, ui.generate_button, a.generate, a.stop,
            generators=generators, current_model=self.models.current_model, **common)
        self.export = ExportControl(self.seed, ui.variations,
                                    tempo_bpm=lambda: ui.transport.tempo_bpm, dialog_parent=self,
                                    **common)
        self.recall = ModelRecall(self)  # which model made each variation (focus and shaping)
        self.score = ScoreControl(ui.score, ui.roll, ui.seed_panel, a.view_modes,
                                  worker=self.worker, status=self.status, settings=self.settings,
                                  parent=self)
        self.focus = FocusControl(ui.focus, ui.roll, ui.score, ui.tabs, self.recall, generators,
                                  worker=self.worker, status=self.status, corpus_name=corpus,
                                  parent=self)
        self.shape = ShapeControl(ui.variations, ui.roll, ui.focus, a.undo, a.redo, a.regenerate,
                                  self.recall, generators, worker=self.worker, status=self.status,
                                  dialogs=self.dialogs, parent=self)
        self.training = TrainControl(dialog_parent=self, **common)
        self.session = SessionControl(self.seed, ui.variations, use_seed=self.seeds.use,
                                      tempo=lambda: ui.transport.tempo_bpm,
                                      set_tempo=self.transport.set_tempo, status=self.status,
                                      settings=self.settings, parent=self)
        self.session.save_on(self.generation.generation_finished)
        self.help = HelpControl(a.help_shortcuts, a.help_getting_started, a.help_about, a.all(),
                                models=lambda: ui.model_panel.cards, dialog_parent=self)
        self.library = LibraryControl(ui.model_panel, busy_name=lambda: self.training.training_name,
                                      status=self.status, settings=self.settings,
                                      dialogs=self.dialogs, parent=self)

    def _wire(self) -> None:
        a, ui = self.actions, self.ui
        seeds, transport = self.seeds, self.transport
        a.open.triggered.connect(seeds.open_dialog)
        a.open_checkpoint.triggered.connect(self.models.open_checkpoint_dialog)
        a.export.triggered.connect(self.export.open_dialog)
        ui.export_button.clicked.connect(self.export.open_dialog)
        a.quit.triggered.connect(self.close)
        a.play.triggered.connect(transport.toggle)
        a.refresh_midi_ports.triggered.connect(transport.find_midi_ports)
        a.zoom_in.triggered.connect(ui.roll.zoom_in)
        a.zoom_out.triggered.connect(ui.roll.zoom_out)
        a.zoom_fit.triggered.connect(ui.roll.zoom_to_fit)
        a.show_seed.triggered.connect(lambda: transport.show(self.seed.melody))
        self.status.stop_clicked.connect(self.generation.stop)
        self.seed.seed_changed.connect(transport.show)
        seeds.tempo_found.connect(transport.set_tempo)
        ui.variations.variation_selected.connect(  # a set's variations share the roll's rows
            lambda row: transport.show(ui.variations.melodies[row],
                                       ui.variations.pitch_range_of(row)))
        # the model that made them: the chooser may have moved on while they were generated
        self.generation.generation_finished.connect(
            lambda melodies: self.recall.remember(melodies, self.generation.model_in_use))
        self.playback.playhead_moved.connect(ui.score.set_playhead)
        ui.score.seek_requested.connect(transport.play_from)
        a.train.triggered.connect(self.training.open_dialog)
        self.models.models_listed.connect(self.training.set_models)
        self.training.model_saved.connect(lambda _path: self.models.refresh_models())
        self.library.library_changed.connect(lambda _path: self.models.refresh_models())

    def start(self, seed_path: str | None = None, preload_model: bool = True) -> None:
        """After the window is shown: list the models and MIDI ports and load the seed (in the
        worker)."""
        self.models.refresh_models(preload=preload_model)
        self.playback.refresh_midi_ports()
        if seed_path or not self.session.restore():  # a seed named on the command line wins
            self.seeds.open_initial(seed_path)

    # --- drops, settings, closing ---------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Any local file is welcome: it is read by its content, and one that holds no melody is
        said in a sentence (the seed stays)."""
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.seeds.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    def _restore_settings(self) -> None:
        self.ui.sampling.set_values(self.settings.sampling(SAMPLING_DEFAULTS))
        self.ui.sampling.new_seed_each_time = self.settings.new_seed_each_time
        self.ui.transport.loop_check.setChecked(self.settings.loop)
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        else:
            self.resize(1280, 720)

    def save_settings(self) -> None:
        sampling = self.ui.sampling
        self.settings.save_sampling(sampling.values(), sampling.new_seed_each_time)
        self.settings.loop = self.ui.transport.loop
        self.settings.geometry = self.saveGeometry()
        self.settings.sync()
        self.session.save()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.training.confirm_close():
            event.ignore()
            return
        self.training.stop_and_wait()  # the run saves its model and state before the app goes
        self.save_settings()
        self.playback.stop()
        self.worker.stop_all(wait_ms=3000)
        super().closeEvent(event)
