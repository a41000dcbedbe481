"""Where the panels sit in the main window (built once; `MainWindow` wires them).

Left: the seed (file, tunes/tracks, trim, ABC), the corpus browser and "why this note" as tabs.
Middle: the piano roll above the score (either may be hidden), the transport and the variations. Right: the model, the sampling values and Generate.
Sized to read well at 1366×768.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QGroupBox, QHBoxLayout, QMainWindow, QPushButton, QScrollArea, QSplitter, QTabWidget,
    QToolBar, QVBoxLayout, QWidget,
)

from gui.actions import Actions
from gui.widgets.corpus_browser import CorpusBrowser
from gui.widgets.focus_panel import FocusPanel
from gui.widgets.model_panel import ModelPanel
from gui.widgets.piano_roll import PianoRollView
from gui.widgets.sampling_panel import SamplingPanel
from gui.widgets.score_view import ScoreView
from gui.widgets.seed_panel import SeedPanel
from gui.widgets.transport import TransportBar
from gui.widgets.variations_list import VariationsList

__all__ = ["MainWindowUi", "build_layout"]


@dataclass
class MainWindowUi:
    """The window's panels, for wiring and for tests."""

    seed_panel: SeedPanel
    corpus: CorpusBrowser
    tabs: QTabWidget
    roll: PianoRollView
    transport: TransportBar
    variations: VariationsList
    export_button: QPushButton
    model_panel: ModelPanel
    sampling: SamplingPanel
    generate_button: QPushButton
    score: ScoreView
    focus: FocusPanel


def build_layout(window: QMainWindow, actions: Actions) -> MainWindowUi:
    seed_panel, corpus = SeedPanel(), CorpusBrowser()
    tabs = QTabWidget()
    tabs.addTab(seed_panel, "Seed")
    tabs.addTab(corpus, "Corpus")
    focus = FocusPanel()
    tabs.addTab(focus, "Why this note")
    tabs.setMinimumWidth(260)

    roll, transport, variations = PianoRollView(), TransportBar(), VariationsList()
    export_button = QPushButton("Export…")
    export_button.setToolTip("Save the selected variation as MIDI, ABC, MusicXML or WAV (Ctrl+E)")
    variations_box = QGroupBox("Variations")
    variations_layout = QVBoxLayout(variations_box)
    variations_layout.addWidget(variations, 1)
    export_row = QHBoxLayout()
    export_row.addStretch(1)
    export_row.addWidget(export_button)
    variations_layout.addLayout(export_row)
    middle_split = QSplitter(Qt.Orientation.Vertical)
    roll_box = QWidget()
    roll_layout = QVBoxLayout(roll_box)
    roll_layout.setContentsMargins(0, 0, 0, 0)
    score = ScoreView()
    views = QSplitter(Qt.Orientation.Vertical)
    views.addWidget(roll)
    views.addWidget(score)
    views.setChildrenCollapsible(False)
    roll_layout.addWidget(views, 1)
    roll_layout.addWidget(transport)
    middle_split.addWidget(roll_box)
    middle_split.addWidget(variations_box)
    middle_split.setStretchFactor(0, 3)
    middle_split.setStretchFactor(1, 2)

    model_panel, sampling = ModelPanel(), SamplingPanel()
    generate_button = QPushButton("Generate")
    generate_button.setToolTip("Continue the seed (Ctrl+G)")
    generate_button.setMinimumHeight(36)
    generate_button.setStyleSheet("font-weight:bold")
    right = QWidget()
    right_layout = QVBoxLayout(right)
    right_layout.addWidget(model_panel)
    right_layout.addWidget(sampling)
    right_layout.addWidget(generate_button)
    right_layout.addStretch(1)
    right_scroll = QScrollArea()
    right_scroll.setWidget(right)
    right_scroll.setWidgetResizable(True)
    right_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    right_scroll.setMinimumWidth(290)

    split = QSplitter(Qt.Orientation.Horizontal)
    for widget in (tabs, middle_split, right_scroll):
        split.addWidget(widget)
    split.setStretchFactor(1, 1)
    split.setSizes([300, 720, 310])
    window.setCentralWidget(split)

    toolbar = QToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setIconSize(QSize(16, 16))
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for action in (actions.open, actions.generate, actions.stop, actions.play, actions.export,
                   actions.regenerate):
        toolbar.addAction(action)
    window.addToolBar(toolbar)
    return MainWindowUi(seed_panel, corpus, tabs, roll, transport, variations, export_button,
                        model_panel, sampling, generate_button, score, focus)
