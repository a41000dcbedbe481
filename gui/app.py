"""`musicgen-gui [SEED]`: start the desktop app (the window appears before torch loads)."""

from __future__ import annotations

import sys
from typing import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window with SEED (or the default tune) and run until it is closed."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print("usage: musicgen-gui [SEED]\n\nOpen the musicgen window with SEED "
              "(a MIDI, ABC or MusicXML file) as the seed melody.")
        return 0
    from PySide6.QtWidgets import QApplication

    from gui.errors import install_excepthook
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *args])
    app.setApplicationName("musicgen")
    app.setOrganizationName("musicgen")
    window = MainWindow()
    install_excepthook(window.dialogs.unexpected_error)
    window.show()
    window.start(args[0] if args else None)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
