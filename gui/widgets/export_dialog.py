"""ExportDialog: format, what to include, one variation or all of them, and where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from gui.export_tasks import EXPORT_FORMATS, ExportRequest

__all__ = ["ExportDialog"]


class ExportDialog(QDialog):
    """Asks how to export; `request()` gives the answer as an `ExportRequest`."""

    def __init__(self, folder: str, stem: str, variations: int, parent: QWidget | None = None, *,
                 what: str = "", batch_stem: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {what}" if what else "Export")
        self._folder, self._stem = folder, stem
        self.what_label = QLabel(f"Exporting {what}." if what else "")
        self.format_combo = QComboBox()
        for name, suffix in EXPORT_FORMATS.items():
            self.format_combo.addItem(f"{name} ({suffix})", suffix)
        self.whole_radio = QRadioButton("Seed and continuation")
        self.continuation_radio = QRadioButton("Continuation only")
        self.whole_radio.setChecked(True)
        self.all_check = QCheckBox(f"All {variations} variations, into a folder"
                                   + (f" ({batch_stem}-variation-N…)" if batch_stem else ""))
        self.all_check.setEnabled(variations > 1)
        self.path_edit = QLineEdit()
        self.path_edit.setMinimumWidth(360)
        self.browse_button = QPushButton("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        include = QVBoxLayout()
        include.addWidget(self.whole_radio)
        include.addWidget(self.continuation_radio)
        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Include", include)
        form.addRow("", self.all_check)
        form.addRow("Save to", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.what_label)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.format_combo.currentIndexChanged.connect(self._refresh_path)
        self.all_check.toggled.connect(self._refresh_path)
        self.continuation_radio.toggled.connect(self._refresh_path)
        self.browse_button.clicked.connect(self._browse)
        self._refresh_path()

    @property
    def suffix(self) -> str:
        return str(self.format_combo.currentData())

    def _refresh_path(self) -> None:
        current = Path(self.path_edit.text()) if self.path_edit.text() else None
        folder = (current if current and current.is_dir() else current.parent) if current else None
        folder = folder or Path(self._folder)
        if self.all_check.isChecked():
            self.path_edit.setText(str(folder))
            return
        tail = "-continuation" if self.continuation_radio.isChecked() else ""
        self.path_edit.setText(str(folder / f"{self._stem}{tail}{self.suffix}"))

    def _browse(self) -> None:
        if self.all_check.isChecked():
            chosen = QFileDialog.getExistingDirectory(self, "Export into folder", self.path_edit.text())
        else:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export as", self.path_edit.text(), f"*{self.suffix}",
                options=QFileDialog.Option.DontConfirmOverwrite)
        if chosen:
            self.path_edit.setText(chosen)

    def choose(self, suffix: str, continuation_only: bool, all_variations: bool) -> None:
        """Start from the choices of the last export."""
        index = self.format_combo.findData(suffix)
        if index >= 0:
            self.format_combo.setCurrentIndex(index)
        if continuation_only and self.continuation_radio.isEnabled():
            self.continuation_radio.setChecked(True)
        self.all_check.setChecked(all_variations and self.all_check.isEnabled())
        self._refresh_path()

    def request(self) -> ExportRequest:
        return ExportRequest(path=self.path_edit.text().strip(), suffix=self.suffix,
                             continuation_only=self.continuation_radio.isChecked(),
                             all_variations=self.all_check.isChecked())
