"""The work behind "why this note" (`gui.focus_control`), run in the worker: the candidates at a
note, the Transformer's attention there, and the corpus's bar index for provenance.

`ModelRecall` remembers which model (the name or path the app loaded it by) made each variation,
so the note is explained by the very model that chose it. `ProvenanceStore` loads the bar index
of the app's corpus once (built and cached the first time, `musicgen.provenance.corpus_index`).
The candidates need no torch (the generator's NumPy engine); the attention loads the checkpoint's
torch model the first time.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn

__all__ = ["Explained", "Explainer", "ModelRecall", "ProvenanceStore"]


class ModelRecall(QObject):
    """Which model key (a name or a checkpoint path) made each generated melody, by the model
    name the melody records in its metadata. ``remembered`` fires after `remember`."""

    remembered = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keys: dict[str, str] = {}

    def remember(self, melodies: Sequence[Melody], model_key: str | None) -> None:
        for melody in melodies:
            name = dict(melody.metadata).get("model")
            if name and model_key:
                self._keys[name] = model_key
        self.remembered.emit()

    def known(self, melody: Melody) -> str | None:
        """The key the melody's model was loaded by here (None when it was not remembered)."""
        return self._keys.get(dict(melody.metadata).get("model", ""))

    def key_for(self, melody: Melody) -> str | None:
        """The key to load the melody's model by (its recorded name when it was not remembered:
        a shipped or a user model resolves by name)."""
        name = dict(melody.metadata).get("model")
        return self._keys.get(name, name) if name else None


@dataclass(frozen=True)
class Explained:
    """What the worker found at a note: the insight and the model's training corpus."""

    insight: Any  # musicgen.insight.NoteInsight
    model_kind: str
    model_corpus: str | None


class Explainer:
    """Explains notes of the melody last looked at, keeping what costs: its replay, the engine's
    states along it (`musicgen.replay.StepStates`: a click then costs a few dozen ids of engine
    work, not the whole melody) and the attention of its windows. Thread-safe; one melody at a
    time. `warm` fills the states before the first click."""

    def __init__(self, generators: Any) -> None:
        self._generators = generators
        self._lock = threading.Lock()
        self._attention_lock = threading.Lock()  # a torch pass must not hold up the candidates
        self._melody: Melody | None = None
        self._key: str | None = None
        self._cached: tuple[Any, Any] = (None, None)  # (Replay, StepStates)
        self._attention: dict = {}

    def _prepare(self, key: str, melody: Melody, should_stop: StopFn | None) -> tuple[Any, Any, Any]:
        """(generator, replay, states) of ``melody``; call holding the lock."""
        from musicgen.replay import StepStates, engine_of, replay

        generator = self._generators.load(key, should_stop=should_stop)
        if melody is not self._melody or key != self._key:
            rp = replay(melody)
            self._melody, self._key, self._attention = melody, key, {}
            self._cached = (rp, StepStates(engine_of(generator), rp.ids))
        return generator, *self._cached

    def warm(self, key: str, melody: Melody, *, on_progress: ProgressFn | None = None,
             should_stop: StopFn | None = None) -> None:
        """Keep the engine's states along the generated part, ahead of the first click."""
        from musicgen.sampling import SAMPLING_THREADS

        with self._lock:
            generator, rp, states = self._prepare(key, melody, should_stop)
            with states.engine.running(SAMPLING_THREADS):
                states.warm()

    def explain(self, key: str, melody: Melody, note_index: int, *,
                on_progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> Explained:
        """The candidates at a generated note (the generator loads the first time)."""
        from musicgen.insight import explain_note

        with self._lock:
            generator, rp, states = self._prepare(key, melody, should_stop)
            insight = explain_note(generator, melody, note_index, rp, states)
        return Explained(insight, generator.kind, generator.card.corpus)

    def attend(self, key: str, melody: Melody, insight: Any, *,
               on_progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> Any:
        """The insight with the Transformer's attention (torch loads the first time)."""
        from musicgen.insight import with_attention

        with self._lock:
            generator, rp, _states = self._prepare(key, melody, should_stop)
            cache = self._attention
        with self._attention_lock:
            torch_loaded = "torch" in sys.modules
            found = with_attention(insight, generator, melody, rp, cache)
        if not torch_loaded and "torch" in sys.modules:
            # Importing torch leaves ~10^6 long-lived objects that every full collection would
            # walk while holding the interpreter lock (a window stall); freezing moves them out
            # of its way, as gui.generation_tasks does after loading a model.
            gc.freeze()
        return found


class ProvenanceStore:
    """The bar index of one corpus, loaded once (thread-safe) and searched in the worker."""

    def __init__(self, corpus_name: str = "folk") -> None:
        self.corpus_name = corpus_name
        self._index: Any = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._index is not None

    def use(self, index: Any) -> None:
        """Search this index (a `musicgen.provenance.BarIndex`) from now on."""
        self._index = index

    def load(self, *, on_progress: ProgressFn | None = None,
             should_stop: StopFn | None = None) -> Any:
        """The index: from the cache, else built from the prepared corpus (seconds, once); a
        corpus never prepared is not prepared here (`CorpusError`: the Corpus tab does that)."""
        with self._lock:
            if self._index is None:
                from musicgen.provenance import corpus_index

                self._index = corpus_index(self.corpus_name, prepare=False,
                                           on_progress=on_progress, should_stop=should_stop)
            return self._index

    def search(self, melody: Melody, note_index: int, *, on_progress: ProgressFn | None = None,
               should_stop: StopFn | None = None) -> list[Any]:
        return self.load(should_stop=should_stop).search(melody, note_index)
