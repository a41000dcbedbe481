"""The model work `gui.model_control` and `gui.generation_control` run in the worker: list the
models, load one, continue a seed.

This is the only gui module that touches `musicgen.pipeline`, and only inside functions that run
on the worker thread, so torch loads in the background and never on the start-up path.
Loaded generators are kept (one per name or path) so the second Generate starts at once.
The pipeline records each variation's provenance (model, sampling settings, RNG seed).
"""

from __future__ import annotations

import gc
import os
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


def _leave_a_core_for_the_window() -> None:
    """Torch's intra-op threads would take every core; keep one free so the GUI thread never
    waits for the CPU while a generation runs (measured in benchmarks/bench_app.py)."""
    import torch

    cores = os.cpu_count() or 1
    if cores > 1 and torch.get_num_threads() >= cores:
        torch.set_num_threads(cores - 1)


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

                _leave_a_core_for_the_window()

                self._loaded[name_or_path] = pipeline.load_generator(
                    name_or_path, on_progress=on_progress, should_stop=should_stop)
                # Importing torch leaves ~10^6 long-lived objects that every full garbage
                # collection would walk, holding the interpreter lock for ~80 ms (measured in
                # benchmarks/bench_app.py: the window froze during the first generation).
                # Freezing them moves them out of the collector's way; it frees nothing.
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
