"""TunesReportView: what was read from the user's tunes, shown before anything trains.

A view: `show_report(report)` takes a `gui.train_tasks.TunesReport`-like object (folder, found,
kept, held_out, skipped [{source, title, reason}], advice, problem) and lists every skipped tune
with its reason; `show_reading(text)` while the tunes are read.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

__all__ = ["TunesReportView"]


class TunesReportView(QWidget):
    """A summary line, the skipped tunes with their reasons, and advice or a problem."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary_label = QLabel("Choose a folder of tunes or some tune files (ABC tune books, "
                                    "MIDI, MusicXML), or drop them here.")
        self.summary_label.setWordWrap(True)
        self.skipped_tree = QTreeWidget()
        self.skipped_tree.setHeaderLabels(["Skipped tune", "Why"])
        self.skipped_tree.setRootIsDecorated(False)
        self.skipped_tree.setColumnWidth(0, 220)
        self.skipped_tree.setMaximumHeight(110)
        self.skipped_tree.hide()
        self.advice_label = QLabel("")
        self.advice_label.setWordWrap(True)
        self.advice_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.skipped_tree)
        layout.addWidget(self.advice_label)

    def show_reading(self, text: str) -> None:
        self.summary_label.setText(text)
        self.skipped_tree.hide()
        self.advice_label.hide()

    def show_error(self, text: str) -> None:
        self.summary_label.setText("The tunes could not be read.")
        self._advise(text, problem=True)

    def show_report(self, report: Any) -> None:
        skipped = list(report.skipped)
        self.summary_label.setText(
            f"<b>{report.found} tune{'s' if report.found != 1 else ''} found</b> in "
            f"{report.folder}: {report.kept} kept, {len(skipped)} skipped."
            + (f" {report.held_out} will be held out to measure the model on, the rest trained "
               "on." if report.held_out and not report.problem else ""))
        self.skipped_tree.clear()
        for tune in skipped:
            title = f"{tune.get('title') or ''} ({tune['source']})".strip()
            item = QTreeWidgetItem([title, tune["reason"]])
            item.setToolTip(1, tune["reason"])
            self.skipped_tree.addTopLevelItem(item)
        self.skipped_tree.setVisible(bool(skipped))
        if report.problem:
            self._advise(report.problem, problem=True)
        elif report.advice:
            self._advise(report.advice, problem=False)
        else:
            self.advice_label.hide()

    @property
    def skipped_count(self) -> int:
        return self.skipped_tree.topLevelItemCount()

    def _advise(self, text: str, *, problem: bool) -> None:
        self.advice_label.setText(text)
        self.advice_label.setStyleSheet("color:#b00020; font-weight:bold" if problem
                                        else "color:#8a5a00")
        self.advice_label.show()
