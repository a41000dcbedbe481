"""Stray notes far from the rest of a melody, folded by octaves into a span a model can take."""

from __future__ import annotations

from musicgen.melody import Melody, Note

__all__ = ["fold_outliers"]


def fold_outliers(melody: Melody, span: int) -> tuple[Melody, int]:
    """`melody` with every note outside the `span`-semitone window holding the most notes moved
    by whole octaves into it, and how many moved (0: the melody is returned as it was)."""
    pitches = sorted(n.pitch for n in melody.notes if n.pitch is not None)
    if not pitches or pitches[-1] - pitches[0] <= span:
        return melody, 0
    best_low, best_count, j = pitches[0], 0, 0
    for i, low in enumerate(pitches):  # the window [low, low + span] holding the most notes
        while j < len(pitches) and pitches[j] <= low + span:
            j += 1
        if j - i > best_count:
            best_low, best_count = low, j - i
    high = best_low + span
    notes, moved = [], 0
    for n in melody.notes:
        pitch = n.pitch
        if pitch is not None and not best_low <= pitch <= high:
            while pitch < best_low:
                pitch += 12
            while pitch > high:
                pitch -= 12
            moved += 1
        notes.append(Note(pitch, n.onset_ticks, n.duration_ticks))
    return melody.replace(notes=tuple(notes)), moved
