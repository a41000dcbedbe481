"""Screenshots of the real window at a small laptop's 1024×600 and a common 1366×768, after a
Generate, into docs/app-1024x600.png and docs/app-1366x768.png (and the Help pages at 1024×600):

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshots_sizes.py

Or `make screenshots`. The seed is the shipped example tune; the model the shipped Transformer
(else the LSTM; else a tiny one trained first, with poor notes).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
DOCS = ROOT / "docs"
SIZES = ((1024, 600), (1366, 768))


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from screenshots import _model_path, _pump, _wait_for

    app = QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="musicgen-sizes-"))
    written = []
    for width, height in SIZES:
        window = MainWindow(AppSettings(tmp / f"settings-{width}.ini"))
        window.setGeometry(0, 0, width, height)
        window.show()
        window.start(preload_model=False)
        _wait_for(app, window.seed.seed_changed)
        job = window.models.add_checkpoint(_model_path(tmp))
        _wait_for(app, job.finished)
        window.ui.sampling.replace_values(variations=4, bars=8, temperature=0.9, rng_seed=2024,
                                          new_seed_each_time=False)
        window.generation.generate()
        _wait_for(app, window.generation.generation_finished)
        window.ui.variations.setCurrentRow(1)
        _wait_for(app, window.score.engraved)
        _pump(app, 0.5)
        path = DOCS / f"app-{width}x{height}.png"
        window.grab().save(str(path))
        written.append(path)
        if width == 1024:
            for name, page in (("help-getting-started", window.help.show_getting_started),
                               ("help-shortcuts", window.help.show_shortcuts),
                               ("help-about", window.help.show_about)):
                dialog = page()
                _pump(app, 0.4)
                path = DOCS / f"app-{name}.png"
                dialog.grab().save(str(path))
                written.append(path)
                dialog.close()
        window.close()
        _pump(app, 0.2)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
