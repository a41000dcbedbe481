"""The work behind shaping a continuation (`gui.shape_control`), run in the worker: take another
candidate at a note, or regenerate selected bars (`musicgen.shaping`, on the model that made the
variation; no torch)."""

from __future__ import annotations

from typing import Any

from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn

__all__ = ["pick", "regenerate"]


def pick(generators: Any, model_key: str, melody: Melody, note_index: int, pitch: int | None,
         duration_ticks: int, *, on_progress: ProgressFn | None = None,
         should_stop: StopFn | None = None) -> Melody:
    """The melody with the note replaced by the candidate and continued from there."""
    from musicgen.shaping import pick_candidate

    generator = generators.load(model_key, should_stop=should_stop)
    return pick_candidate(generator, melody, note_index, pitch, duration_ticks,
                          on_progress=on_progress, should_stop=should_stop)


def regenerate(generators: Any, model_key: str, melody: Melody, first_bar: int, last_bar: int, *,
               on_progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> Melody:
    """The melody with bars ``first_bar``..``last_bar`` (`Melody.bar_index`) regenerated."""
    from musicgen.shaping import regenerate_bars

    generator = generators.load(model_key, should_stop=should_stop)
    return regenerate_bars(generator, melody, first_bar, last_bar, on_progress=on_progress,
                           should_stop=should_stop)
