"""TrainDialog: "Train on my tunes": pick tunes, read the report, choose, train, watch, stop, resume.

A view (`gui.train_control` drives it): it shows what it is given (the tunes report, the training
clock, the live `LossPlot`, the copy figures and warning, the result) and emits what the user asks:

- ``folder_requested()`` / ``files_requested()``: the Choose buttons; ``paths_dropped(list)``;
- ``train_requested(dict)``: the form's values (`TrainForm.values`);
- ``stop_requested()``; ``resume_requested(str)``: the name of a stopped run.

Non-modal: the main window stays usable (generating with another model works meanwhile).
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox, QDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from gui.widgets.loss_plot import LossPlot
from gui.widgets.train_form import TrainForm
from gui.widgets.tunes_report import TunesReportView
from musicgen.progress import format_duration

__all__ = ["TrainDialog"]


class TrainDialog(QDialog):
    """The fine-tuning dialog (see the module docstring)."""

    folder_requested = Signal()
    files_requested = Signal()
    paths_dropped = Signal(list)
    train_requested = Signal(dict)
    stop_requested = Signal()
    resume_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train on my tunes")
        self.setObjectName("trainDialog")
        self.setAcceptDrops(True)
        self.report_view, self.form, self.plot = TunesReportView(), TrainForm(), LossPlot()
        layout = QVBoxLayout(self)
        layout.addWidget(self._tunes_box())
        layout.addWidget(self._model_box())
        layout.addWidget(self._progress_box(), 1)
        layout.addLayout(self._buttons())
        self.resize(720, 760)
        self.set_running(False)
        self.set_report_ok(False)

    # --- building -------------------------------------------------------------------------------
    def _tunes_box(self) -> QGroupBox:
        box = QGroupBox("1. Your tunes")
        self.folder_button = QPushButton("Choose a folder…")
        self.files_button = QPushButton("Choose files…")
        self.folder_button.clicked.connect(self.folder_requested)
        self.files_button.clicked.connect(self.files_requested)
        row = QHBoxLayout()
        row.addWidget(self.folder_button)
        row.addWidget(self.files_button)
        row.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addLayout(row)
        layout.addWidget(self.report_view)
        return box

    def _model_box(self) -> QGroupBox:
        box = QGroupBox("2. The model")
        layout = QVBoxLayout(box)
        layout.addWidget(self.form)
        return box

    def _progress_box(self) -> QGroupBox:
        box = QGroupBox("3. Training")
        self.clock_label = QLabel("Not started.")
        self.copy_label = QLabel("")
        self.copy_label.setWordWrap(True)
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color:#b00020; font-weight:bold")
        self.warning_label.hide()
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addWidget(self.clock_label)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.copy_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.result_label)
        return box

    def _buttons(self) -> QHBoxLayout:
        self.resume_combo = QComboBox()
        self.resume_combo.setToolTip("Runs that were stopped, also in an earlier session")
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self._resume_clicked)
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.train_button.setStyleSheet("font-weight:bold")
        self.train_button.clicked.connect(lambda: self.train_requested.emit(self.form.values()))
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop now: the best model so far is kept, and you can resume")
        self.stop_button.clicked.connect(self.stop_requested)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.hide)
        row = QHBoxLayout()
        row.addWidget(self.resume_combo, 1)
        row.addWidget(self.resume_button)
        row.addStretch(1)
        for button in (self.train_button, self.stop_button, self.close_button):
            row.addWidget(button)
        return row

    # --- what the controller shows --------------------------------------------------------------
    def set_models(self, cards: Sequence[Any], selected: str = "") -> None:
        self.form.set_models(cards, selected)

    def set_resumable(self, runs: Sequence[dict]) -> None:
        """Stopped runs: {name, elapsed_s, plan} each."""
        self.resume_combo.clear()
        for run in runs:
            plan = run["plan"]
            budget = (f" of {format_duration(plan.minutes * 60)}" if plan.minutes and
                      not plan.epochs else "")
            self.resume_combo.addItem(f"{run['name']} (stopped at "
                                      f"{format_duration(run['elapsed_s'])}{budget})", run["name"])
        self.resume_combo.setVisible(bool(runs))
        self.resume_button.setVisible(bool(runs))

    def set_report_ok(self, ok: bool) -> None:
        self._report_ok = ok
        self.train_button.setEnabled(ok and not self._running)

    def set_running(self, running: bool) -> None:
        self._running = running
        for widget in (self.folder_button, self.files_button, self.form, self.resume_combo,
                       self.resume_button):
            widget.setEnabled(not running)
        self.train_button.setEnabled(not running and getattr(self, "_report_ok", False))
        self.stop_button.setEnabled(running)
        self.setAcceptDrops(not running)

    def start_run(self, title: str) -> None:
        """A run starts (or resumes): clear the plot and the figures."""
        self.plot.clear()
        self.copy_label.setText("")
        self.warning_label.hide()
        self.result_label.setText("")
        self.clock_label.setText(title)
        self.set_running(True)

    def show_clock(self, elapsed_s: float, remaining_s: float | None, detail: str = "") -> None:
        left = "" if remaining_s is None else f" · {format_duration(remaining_s)} left"
        self.clock_label.setText(f"{format_duration(elapsed_s)} elapsed{left}"
                                 + (f" · {detail}" if detail else ""))

    def show_copies(self, text: str, warning: str = "") -> None:
        self.copy_label.setText(text)
        if warning:
            self.warning_label.setText(warning)
            self.warning_label.show()

    def show_result(self, text: str) -> None:
        self.result_label.setText(text)

    # --- drops ----------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.paths_dropped.emit(paths)
            event.acceptProposedAction()

    def _resume_clicked(self) -> None:
        name = self.resume_combo.currentData()
        if name:
            self.resume_requested.emit(str(name))
