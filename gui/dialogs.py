"""Every dialog the window opens goes through `Dialogs`, one object tests can observe or replace.

Error boxes are non-blocking (``QMessageBox.open``) and announced with `Dialogs.error_shown`, so a
failure never stalls the event loop and a test can wait on the signal and read the text.
Questions and file pickers block, as users expect; tests replace those methods.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

__all__ = ["Dialogs", "SEED_FILE_FILTER"]

# Melody files are read by their content, not their name: ABC tune books often end in .txt.
SEED_FILE_FILTER = (
    "Melodies (*.mid *.midi *.kar *.abc *.txt *.musicxml *.mxl *.xml);;MIDI (*.mid *.midi *.kar);;"
    "ABC (*.abc *.txt);;MusicXML (*.musicxml *.mxl *.xml);;All files (*)"
)


class Dialogs(QObject):
    """Error boxes, confirmations and file pickers, parented to one window."""

    error_shown = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self.last_error: str = ""
        self.last_box: QMessageBox | None = None

    def error(self, text: str, title: str = "musicgen") -> None:
        """Show an error box without blocking and announce it."""
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self._window)
        box.setTextFormat(Qt.TextFormat.PlainText)  # "<html>" in a message is text, not markup
        box.setObjectName("errorBox")
        box.open()
        self.last_box = box
        box.finished.connect(box.deleteLater)
        self.error_shown.emit(text)

    def unexpected_error(self, text: str) -> None:
        """Where `sys.excepthook` sends exceptions raised in slots: a box, and the app stays up."""
        self.error(text, "Something went wrong")

    def confirm(self, question: str, title: str = "musicgen") -> bool:
        """Ask a yes/no question (blocking); True for yes."""
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self._window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def open_file(self, folder: str, file_filter: str = SEED_FILE_FILTER,
                  caption: str = "Open a melody") -> str | None:
        path, _ = QFileDialog.getOpenFileName(self._window, caption, folder, file_filter)
        return path or None

    def open_files(self, folder: str, file_filter: str, caption: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self._window, caption, folder, file_filter)
        return list(paths)

    def open_folder(self, folder: str, caption: str) -> str | None:
        path = QFileDialog.getExistingDirectory(self._window, caption, folder)
        return path or None

    def ask_text(self, question: str, title: str, text: str = "") -> str | None:
        """Ask for a line of text (blocking); None when cancelled."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        answer, ok = QInputDialog.getText(self._window, title, question,
                                          QLineEdit.EchoMode.Normal, text)
        return answer if ok else None

    def reveal(self, path: str) -> bool:
        """Show a file's folder in the system's file manager; False when none could be opened."""
        from pathlib import Path

        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
