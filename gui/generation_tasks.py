"""The model work `gui.model_control` and `gui.generation_control` run in the worker: list the
models, load one, continue a seed.

This is the only gui module that touches `musicgen.pipeline`, and only inside functions that run
on the worker thread, so torch loads in the background and never on the start-up path.
Loaded generators are kept (one per name or path) so the second Generate starts at once.
The pipeline records each variation's provenance (model, sampling settings, RNG seed).
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from musicgen.generation import GenerationConfig
from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn

__all__ = ["GeneratorCache", "list_models"]


def list_models(*, on_progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> list[Any]:
    """The model cards: the shipped models, then the user's own (JSON only, no torch)."""
    from musicgen import library

    return list(library.available_models())


class GeneratorCache:
    """Loads generators on demand (thread-safe) and keeps them for the next generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}

    def load(self, name_or_path: str, *, on_progress: ProgressFn | None = None,
             should_stop: StopFn | None = None) -> Any:
        """The generator for a model name or checkpoint path (loads it the first time)."""
        with self._lock:
            if name_or_path not in self._loaded:
                from musicgen import pipeline

                # The NumPy engine generates without torch and keeps BLAS on one thread, so the
                # window keeps a core (measured in benchmarks/bench_app.py).
                self._loaded[name_or_path] = pipeline.load_generator(
                    name_or_path, on_progress=on_progress, should_stop=should_stop)
                # Long-lived objects made by loading (and by torch, if the note-insight panel
                # loads it later) would be walked by every full garbage collection while the
                # window waits; freezing them moves them out of the collector's way.
                gc.freeze()
            return self._loaded[name_or_path]

    def card(self, name_or_path: str, *, on_progress: ProgressFn | None = None,
             should_stop: StopFn | None = None) -> Any:
        """Load a model and return its card (used for a checkpoint the user picked)."""
        return self.load(name_or_path, on_progress=on_progress, should_stop=should_stop).card

    def generate(self, name_or_path: str, seed: Melody, config: GenerationConfig, *,
                 on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> list[Melody]:
        """Continue `seed` with the model: one Melody (seed + continuation) per variation."""
        generator = self.load(name_or_path, should_stop=should_stop)
        from musicgen import pipeline

        return pipeline.continue_melody(seed, generator, config, on_progress=on_progress,
                                        should_stop=should_stop)
