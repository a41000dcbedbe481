"""The calls the window hands to the worker for models: list them, load one, continue a seed.

This is the only gui module that touches `musicgen.pipeline`, and only inside functions that run
on the worker thread, so torch loads in the background and never on the start-up path.
Loaded generators are kept (one per name or path) so the second Generate starts at once.
"""

from __future__ import annotations

import gc
import os
import threading
from typing import Any, Callable

from musicgen.melody import Melody

from gui.widgets.sampling_panel import SamplingValues

__all__ = ["GeneratorCache", "list_models", "with_provenance"]

Progress = Callable[..., None] | None
Stop = Callable[[], bool] | None


def list_models(*, on_progress: Progress = None, should_stop: Stop = None) -> list[Any]:
    """The shipped model cards (JSON only, no torch)."""
    from musicgen import pipeline

    return list(pipeline.available_models())


def with_provenance(melody: Melody, model: str, values: SamplingValues) -> Melody:
    """Make sure a variation carries the settings that made it (keeps what the pipeline wrote)."""
    meta = dict(melody.metadata)
    wanted = {"model": model, "temperature": f"{values.temperature:g}", "top_p": f"{values.top_p:g}",
              "rng_seed": values.rng_seed, "bars": values.bars, "key_lock": values.key_lock,
              "meter_constraint": values.meter_constraint}
    missing = {k: v for k, v in wanted.items() if k not in meta}
    return melody.with_metadata(**missing) if missing else melody


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

    def is_loaded(self, name_or_path: str) -> bool:
        return name_or_path in self._loaded

    def load(self, name_or_path: str, *, on_progress: Progress = None,
             should_stop: Stop = None) -> Any:
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

    def card(self, name_or_path: str, *, on_progress: Progress = None,
             should_stop: Stop = None) -> Any:
        """Load a model and return its card (used for a checkpoint the user picked)."""
        return self.load(name_or_path, on_progress=on_progress, should_stop=should_stop).card

    def generate(self, name_or_path: str, seed: Melody, values: SamplingValues, *,
                 on_progress: Progress = None, should_stop: Stop = None) -> list[Melody]:
        """Continue `seed` with the model: one Melody (seed + continuation) per variation."""
        generator = self.load(name_or_path, should_stop=should_stop)
        from musicgen import pipeline

        config = pipeline.GenerationConfig(**values.generation_kwargs())
        melodies = pipeline.continue_melody(seed, generator, config, on_progress=on_progress,
                                            should_stop=should_stop)
        model = str(getattr(generator, "name", "") or name_or_path)
        return [with_provenance(m, model, values) for m in melodies]
