"""Where the panels sit in the main window (built once; `MainWindow` wires them).

Left: the seed (file, tunes/tracks, trim, ABC), the corpus browser and "why this note" as tabs.
Middle: the piano roll above the score (either may be hidden) and the transport. Right: the
model and the sampling values (they scroll on a short screen), Generate, and the variations it
makes with Export below it (they take the height left). Works at 1024×600 and uses the room at
1366×768 (screenshots in docs/).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QSize, Qt
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

# Widths that let the three columns share a 1024 px window (measured with the screenshots in
# docs/app-1024x600.png); a wider window gives the extra width to the roll and the score.
_LEFT_MIN_PX = 240
_RESULTS_MIN_PX = 180  # Generate, two or three rows of variations and Export


def _views(roll: PianoRollView, score: ScoreView, transport: TransportBar) -> QWidget:
    """The middle column: the roll above the score (a splitter between them), the transport."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    views = QSplitter(Qt.Orientation.Vertical)
    views.addWidget(roll)
    views.addWidget(score)
    views.setChildrenCollapsible(False)
    layout.addWidget(views, 1)
    layout.addWidget(transport)
    return box


def _choices_and_results(model_panel: ModelPanel, sampling: SamplingPanel,
                         generate_button: QPushButton, variations: VariationsList,
                         export_button: QPushButton) -> QSplitter:
    """The right column: the model and the sampling values (scrolling on a short screen), then
    Generate, then the variations it makes with Export, which take whatever height is left, so
    a tall window shows more variations instead of an empty area under Generate."""
    choices = QWidget()
    choices_layout = QVBoxLayout(choices)
    choices_layout.setContentsMargins(4, 0, 4, 0)
    choices_layout.addWidget(model_panel)
    choices_layout.addWidget(sampling)
    choices_layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setObjectName("choicesScroll")
    scroll.setWidget(choices)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    results = QWidget()
    results_layout = QVBoxLayout(results)
    results_layout.setContentsMargins(4, 4, 4, 0)
    results_layout.addWidget(generate_button)
    variations_box = QGroupBox("Variations")
    variations_layout = QVBoxLayout(variations_box)
    variations_layout.addWidget(variations, 1)
    export_row = QHBoxLayout()
    export_row.addStretch(1)
    export_row.addWidget(export_button)
    variations_layout.addLayout(export_row)
    results_layout.addWidget(variations_box, 1)
    results.setMinimumHeight(_RESULTS_MIN_PX)
    column = _ChoicesFirst(choices)
    column.setObjectName("rightColumn")
    column.addWidget(scroll)
    column.addWidget(results)
    column.setChildrenCollapsible(False)
    column.setStretchFactor(0, 0)
    column.setStretchFactor(1, 1)
    # as wide as the sampling values need (the choices never scroll sideways), plus a scroll bar
    column.setMinimumWidth(choices.minimumSizeHint().width()
                           + scroll.verticalScrollBar().sizeHint().width())
    return column


class _ChoicesFirst(QSplitter):
    """A vertical splitter that gives its first widget (the choices) its natural height when the
    window has it, and the second (Generate and the variations) the rest, until the user drags
    the handle."""

    def __init__(self, choices: QWidget) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self._choices = choices
        self.dragged = False
        self.splitterMoved.connect(self._moved)
        choices.installEventFilter(self)

    def _moved(self, _pos: int, _index: int) -> None:
        self.dragged = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # type: ignore[override]
        if watched is self._choices and event.type() == QEvent.Type.LayoutRequest:
            self._fit()  # the model card changed: the choices want another height
        return False

    def resizeEvent(self, event) -> None:  # type: ignore[override]
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self.dragged and self.count() == 2:
            room = self.height() - self.handleWidth()
            layout = self._choices.layout()
            width = self.width()
            natural = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() \
                else self._choices.sizeHint().height()  # a wrapped model card is taller
            top = min(natural + 2, room - _RESULTS_MIN_PX)
            self.blockSignals(True)
            self.setSizes([max(top, 0), room - max(top, 0)])
            self.blockSignals(False)



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
    tabs.setMinimumWidth(_LEFT_MIN_PX)

    roll, transport, variations = PianoRollView(), TransportBar(), VariationsList()
    score = ScoreView()
    middle = _views(roll, score, transport)

    model_panel, sampling = ModelPanel(), SamplingPanel()
    generate_button = QPushButton("Generate")
    generate_button.setToolTip("Continue the seed (Ctrl+G)")
    generate_button.setMinimumHeight(36)
    generate_button.setStyleSheet("font-weight:bold")
    export_button = QPushButton("Export…")
    export_button.setToolTip("Save the selected variation as MIDI, ABC, MusicXML or WAV (Ctrl+E)")
    right = _choices_and_results(model_panel, sampling, generate_button, variations,
                                 export_button)

    split = QSplitter(Qt.Orientation.Horizontal)
    split.setObjectName("columns")
    for widget in (tabs, middle, right):
        split.addWidget(widget)
    split.setChildrenCollapsible(False)
    split.setStretchFactor(0, 0)
    split.setStretchFactor(1, 1)
    split.setStretchFactor(2, 0)
    split.setSizes([300, 720, 330])
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
