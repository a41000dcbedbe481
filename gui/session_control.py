"""SessionControl: the seed and the variations survive closing the window.

Chosen over asking "save before quitting?": a question at every quit interrupts, and a wrong click
on it still loses the work; a restored session loses nothing, whether the window was closed on
purpose, by Ctrl+Q in the wrong window, or by a crash (the session is saved a moment after every
Generate, edit and seed change, not only at closing). Exporting stays the way to keep music for good.

At start-up (`restore`), the session saved last comes back: the seed (trimmed as it was, with its
file name), every set of variations with their edits, the row selected and the tempo. A seed
given on the command line wins over the session. A damaged session file is set aside with a
sentence in the status line (`gui.session_store`), and the app starts as on a first run.

Signals: ``restored(int)`` (the variations brought back), ``save_failed(str)`` (the sentence).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from gui.seed_state import SeedState
from gui.session_store import Session, load_session, save_session
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.widgets.variations_list import VariationsList
from musicgen.errors import MusicGenError
from musicgen.melody import Melody

__all__ = ["SAVE_DELAY_MS", "SessionControl"]

SAVE_DELAY_MS = 300


class SessionControl(QObject):
    """Saves the session when it changes and brings it back at the next start."""

    restored = Signal(int)
    save_failed = Signal(str)

    def __init__(self, seed: SeedState, variations: VariationsList, *,
                 use_seed: Callable[[Melody, str | None], None],
                 tempo: Callable[[], float], set_tempo: Callable[[float], None],
                 status: StatusArea, settings: AppSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seed, self._variations = seed, variations
        self._use_seed, self._tempo, self._set_tempo = use_seed, tempo, set_tempo
        self._status, self._settings = status, settings
        self._restoring = False
        self.last_error = ""
        # Changes are saved a moment later, once: a trim dragged over ten values writes once, and
        # the write (with its fsync) never runs inside the handler of the change itself.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        variations.variation_edited.connect(lambda _row: self.save_soon())
        seed.seed_changed.connect(lambda _melody: self.save_soon())

    @property
    def pending(self) -> bool:
        """Whether a change waits to be saved."""
        return self._timer.isActive()

    def save_on(self, *signals: SignalInstance) -> None:
        """Save (soon) whenever one of these fires (e.g. a generation finished)."""
        for signal in signals:
            signal.connect(lambda *_args: self.save_soon())

    def save_soon(self) -> None:
        if not self._restoring:
            self._timer.start()

    def current(self) -> Session:
        return Session(seed=self._seed.melody, seed_full=self._seed.full,
                       seed_path=self._seed.path, sets=self._variations.sets(),
                       selected=self._variations.currentRow(), tempo_bpm=self._tempo())

    def save(self) -> bool:
        """Write the session (atomically); a failure is said in the status line, never raised:
        the previous session file stays as it was."""
        self._timer.stop()
        if self._restoring or self._seed.melody is None:
            return False
        try:
            save_session(self._settings.session_path, self.current())
        except (MusicGenError, OSError) as exc:
            self.last_error = f"The session could not be saved: {exc}"
            self._status.show_message(self.last_error)
            self.save_failed.emit(self.last_error)
            return False
        return True

    def restore(self) -> bool:
        """Bring back the session saved last; False (and a sentence when it was damaged) if none."""
        session, problem = load_session(self._settings.session_path)
        if problem:
            self._status.show_message(problem)
        if session is None or session.seed is None:
            return False
        self._restoring = True
        try:
            full = session.seed_full or session.seed
            self._use_seed(full, session.seed_path)
            if session.seed != full:
                self._seed.trim(_bars_of(session.seed, full))
            for melodies in session.sets:
                self._variations.add_set(melodies)
            if 0 <= session.selected < self._variations.count():
                self._variations.setCurrentRow(session.selected)
            if session.tempo_bpm:
                self._set_tempo(session.tempo_bpm)
        finally:
            self._restoring = False
        count = session.variation_count
        self._status.show_message(
            f"Restored the last session: {full.title or 'the seed'}"
            + (f" and {count} variation{'s' if count != 1 else ''}." if count else "."))
        self.restored.emit(count)
        return True


def _bars_of(trimmed: Melody, full: Melody) -> int:
    """The trim (``Melody.first_bars`` count) that gives ``trimmed`` from ``full``."""
    for bars in range(1, full.bar_count + 1):
        if full.first_bars(bars).duration_ticks >= trimmed.duration_ticks:
            return bars
    return full.bar_count
