"""Screenshots of issue 12's views, taken by scripts/screenshots.py on its generated window: the
score alone (View > Score only), "why this note" with the Transformer's attention, and a regenerated
selection after picking another candidate (docs/app-score.png, app-why-this-note.png,
app-regenerated.png)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["take_shape_shots"]


def _until(app, flag: Callable[[], bool], timeout_s: float = 300.0) -> None:
    end = time.perf_counter() + timeout_s
    while not flag() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    if not flag():
        raise SystemExit("timed out waiting for the window")


def _collect(signal) -> list:
    got: list = []
    signal.connect(lambda *args: got.append(args))
    return got


def take_shape_shots(app, window, docs: Path, pump: Callable[[object, float], None]) -> list[Path]:
    """Drive the window through focus, pick and regenerate; save three PNGs in ``docs``."""
    ui = window.ui
    ui.variations.setCurrentRow(1)
    window.actions.view_modes["score"].trigger()  # the score alone, laid out for its new width
    pump(app, 0.6)
    _until(app, lambda: ui.score.melody is ui.roll.melody and window.score.job is None)
    pump(app, 0.3)
    shots = [docs / "app-score.png", docs / "app-why-this-note.png", docs / "app-regenerated.png"]
    window.grab().save(str(shots[0]))
    window.actions.view_modes["both"].trigger()
    pump(app, 0.6)
    _until(app, lambda: window.score.job is None)
    melody = ui.roll.melody
    boundary = melody.seed_end_ticks or 0
    ui.roll.horizontalScrollBar().setValue(int(ui.roll.tick_to_x(boundary)) - 300)

    generated = [i for i, n in enumerate(melody.notes) if n.onset_ticks >= boundary and n.pitch]
    index = generated[min(9, len(generated) - 1)]
    insights, provenance = _collect(window.focus.insight_ready), _collect(window.focus.provenance_ready)
    ui.roll.note_clicked.emit(index)  # what a click on the note sends
    _until(app, lambda: provenance and any(r[0].attention is not None for r in insights))
    ui.focus.head_combo.setCurrentIndex(0)
    pump(app, 0.5)
    window.grab().save(str(shots[1]))

    insight = window.focus.insight
    candidate = next(c for c in insight.candidates if not c.chosen)
    shaped = _collect(window.shape.shaped)
    window.shape.pick(candidate)
    _until(app, lambda: len(shaped) == 1)
    edited = ui.roll.melody
    bar = edited.bar_index(edited.notes[index].onset_ticks) + 1
    ui.roll.set_selected_bars((bar, bar + 1))
    ui.roll.bars_selected.emit(bar, bar + 1)
    window.shape.regenerate_selection()
    _until(app, lambda: len(shaped) == 2)
    ui.roll.set_selected_bars((bar, bar + 1))  # show where the new bars are
    _until(app, lambda: window.score.job is None)
    pump(app, 0.8)
    window.grab().save(str(shots[2]))
    return shots
