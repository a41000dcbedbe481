"""SeedState: the seed, owned in one place: the melody to continue, its file, its full length.

Controllers read it (generation, export) or change it (seeds); views follow `seed_changed`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from musicgen.melody import Key, Melody

__all__ = ["SeedState"]


class SeedState(QObject):
    """The current seed; `seed_changed(melody)` fires on every change (a new seed or a trim)."""

    seed_changed = Signal(object)  # Melody

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.melody: Melody | None = None  # what Generate continues (perhaps trimmed)
        self.full: Melody | None = None  # the seed as it was read, before any trim
        self.path: str | None = None  # its file; None for typed ABC or a corpus tune

    def set(self, melody: Melody, path: str | None = None) -> None:
        """A new seed (untrimmed), read from `path` when it came from a file."""
        self.melody = self.full = melody
        self.path = path
        self.seed_changed.emit(melody)

    def trim(self, bars: int) -> Melody | None:
        """Keep the first `bars` bars of the full seed; None (no change) when they hold no notes."""
        if self.full is None:
            return None
        trimmed = self.full.first_bars(bars)
        if not trimmed.pitched_notes:
            return None
        self.melody = trimmed
        self.seed_changed.emit(trimmed)
        return trimmed

    def set_key(self, key: Key) -> None:
        """Correct the seed's key (the full seed's and the trimmed one's alike)."""
        if self.full is None or self.melody is None:
            return
        self.full = self.full.replace(key=key)
        self.melody = self.melody.replace(key=key)
        self.seed_changed.emit(self.melody)
