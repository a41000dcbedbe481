"""HelpDialog: one Help page (shortcuts, getting started, About) in a scrolling text view."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

__all__ = ["HelpDialog"]


class HelpDialog(QDialog):
    """A non-modal page of help; `show_page` replaces its content and brings it forward."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(620, 460)  # fits a 1024×600 screen with the window behind it

    def show_page(self, title: str, html: str) -> None:
        self.setWindowTitle(title)
        self.browser.setHtml(html)
        self.show()
        self.raise_()
        self.activateWindow()

    @property
    def text(self) -> str:
        """The page as plain text (what a reader sees)."""
        return self.browser.toPlainText()
