"""FocusControl: the note in focus, and the "why this note" panel that explains it.

A click on a note, on the piano roll or the score, puts it in focus: both views ring it and the
panel (`gui.widgets.focus_panel`) opens. For a generated note the worker replays the sampler at
that step (`gui.focus_tasks.Explainer`, which readies the model's states along a melody as soon as
it is shown, so a click costs milliseconds): the candidates fill the table, then, for a Transformer, the
attention of that step is drawn over the roll and the score (per layer and head, as the panel's
choosers say). For any note, the bars around it are looked up in the corpus's bar index
(`ProvenanceStore`; built once, with its progress in the status area). Results for a note that is
no longer in focus are dropped.

Signals: ``note_focused(int)``, ``insight_ready(object)`` (a `musicgen.insight.NoteInsight`, with
attention once it is known), ``provenance_ready(list)`` (`musicgen.provenance.ProvenanceMatch`es),
``focus_failed(str)``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget

from gui.errors import describe_exception
from gui.focus_tasks import Explained, Explainer, ModelRecall, ProvenanceStore
from gui.status import StatusArea
from gui.widgets.focus_panel import FocusPanel
from gui.widgets.piano_roll import PianoRollView
from gui.widgets.score_view import ScoreView
from gui.workers import Job, Worker
from musicgen.melody import Melody, pitch_to_name

__all__ = ["FocusControl"]

_NO_ATTENTION = ("The LSTM has no attention: it carries everything it has heard in its hidden "
                 "state, so no single earlier note is looked at. Choose the Transformer to see it.")


class FocusControl(QObject):
    """The note in focus on the roll and the score, explained in the panel."""

    note_focused = Signal(int)
    insight_ready = Signal(object)
    provenance_ready = Signal(list)
    focus_failed = Signal(str)

    def __init__(self, panel: FocusPanel, roll: PianoRollView, score: ScoreView, tabs: QTabWidget,
                 recall: ModelRecall, generators: Any, *, worker: Worker, status: StatusArea,
                 corpus_name: str = "folk", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._panel, self._roll, self._score, self._tabs = panel, roll, score, tabs
        self._recall, self._generators = recall, generators
        self._worker, self._status = worker, status
        self.store = ProvenanceStore(corpus_name)
        self.explainer = Explainer(generators)
        self.melody: Melody | None = None
        self.note_index: int | None = None
        self.insight: Any = None
        self._model_corpus: str | None = None
        self._index_job: Job | None = None
        roll.note_clicked.connect(self.focus)
        score.note_clicked.connect(self._score_clicked)
        roll.melody_changed.connect(self._melody_changed)
        panel.attention_view_changed.connect(self.show_attention)
        recall.remembered.connect(self._ready_shown)

    def focus(self, note_index: int) -> None:
        """Put note ``note_index`` of the roll's melody in focus and explain it."""
        melody = self._roll.melody
        if melody is None or not 0 <= note_index < len(melody.notes):
            return
        self.melody, self.note_index, self.insight = melody, note_index, None
        for view in (self._roll, self._score):
            view.set_focus_note(note_index)
            view.set_attention(None)
        self._tabs.setCurrentWidget(self._panel)
        note = melody.notes[note_index]
        generated = melody.seed_end_ticks is not None and note.onset_ticks >= melody.seed_end_ticks
        key = self._recall.key_for(melody) if generated else None
        self._panel.show_note(_title(melody, note_index, generated),
                              "Weighing the candidates…" if key else _not_sampled(generated))
        if key:
            job = self._worker.submit(self.explainer.explain, key, melody, note_index,
                                      name="explain note")
            job.finished.connect(lambda found: self._explained(melody, note_index, key, found))
            job.failed.connect(lambda exc: self._failed(melody, note_index, exc))
        self._find_provenance()
        self.note_focused.emit(note_index)

    def _current(self, melody: Melody, note_index: int) -> bool:
        return melody is self.melody and note_index == self.note_index

    def _score_clicked(self, note_index: int) -> None:
        if self._score.melody is self._roll.melody:
            self.focus(note_index)

    def _melody_changed(self, _melody: Melody | None) -> None:
        self.melody, self.note_index, self.insight = None, None, None
        self._panel.show_note("No note in focus", "Click a note on the roll or the score.")
        self._ready_shown()

    def _ready_shown(self) -> None:
        """Ready the model's states along the roll's generated melody, before a click."""
        melody = self._roll.melody
        key = self._recall.known(melody) if melody is not None else None
        if key and melody.seed_end_ticks is not None:
            job = self._worker.submit(self.explainer.warm, key, melody, name="ready insight")
            job.failed.connect(lambda _exc: None)  # a click will say what went wrong

    # --- candidates and attention ---------------------------------------------------------------
    def _explained(self, melody: Melody, note_index: int, key: str, found: Explained) -> None:
        if not self._current(melody, note_index):
            return
        self.insight, self._model_corpus = found.insight, found.model_corpus
        self._panel.set_insight(found.insight)
        self._panel.set_status("")
        self.insight_ready.emit(found.insight)
        if found.model_kind != "transformer":
            self._panel.set_attention_message(_NO_ATTENTION)
            return
        self._panel.set_attention_message("Reading the attention…")
        job = self._worker.submit(self.explainer.attend, key, melody, found.insight,
                                  name="attention")
        job.finished.connect(lambda insight: self._attended(melody, note_index, insight))
        job.failed.connect(lambda exc: self._failed(melody, note_index, exc))

    def _attended(self, melody: Melody, note_index: int, insight: Any) -> None:
        if not self._current(melody, note_index):
            return
        self.insight = insight
        self._panel.set_attention_choices(insight.layers, insight.heads)
        self.show_attention(*self._panel.attention_view)
        self.insight_ready.emit(insight)

    def show_attention(self, layer: int, head: int | None) -> None:
        """Draw the attention of one layer (one head, or their average) over the roll and score."""
        insight, melody = self.insight, self.melody
        if insight is None or insight.attention is None or melody is None:
            return
        weights = insight.attention_by_note(layer, head)
        for view in (self._roll, self._score):
            view.set_attention(weights)
        top = sorted(weights.items(), key=lambda item: -item[1])[:3]
        named = ", ".join(f"{_note_name(melody, i)} (bar {_bar(melody, i)}) {w * 100:.0f} %"
                          for i, w in top)
        which = "the average of its heads" if head is None else f"head {head + 1}"
        self._panel.set_attention_summary(
            f"Layer {layer + 1}, {which}: the brighter the green, the more it looked at a note. "
            f"Most: {named}." + (" The rest went to bar lines and the tune's header."
                                 if sum(weights.values()) < 0.95 else ""))

    def _failed(self, melody: Melody, note_index: int, exc: BaseException) -> None:
        if self._current(melody, note_index):
            text = describe_exception(exc, "explaining the note")
            self._panel.set_status(text)
            self.focus_failed.emit(text)

    # --- provenance -----------------------------------------------------------------------------
    def _find_provenance(self) -> None:
        melody, note_index = self.melody, self.note_index
        if melody is None or note_index is None:
            return
        if not self.store.ready:
            self._panel.set_provenance_message(
                f"Indexing the bars of the {self.store.corpus_name} corpus (once; it is cached)…")
            if self._index_job is None:
                self._index_job = job = self._worker.submit(self.store.load, name="index corpus")
                job.progress.connect(self._status.show_progress)
                job.finished.connect(self._indexed)
                job.failed.connect(self._index_failed)
            return
        job = self._worker.submit(self.store.search, melody, note_index, name="provenance")
        job.finished.connect(lambda matches: self._found(melody, note_index, matches))
        job.failed.connect(lambda exc: self._panel.set_provenance_message(
            describe_exception(exc, "looking up known tunes")))

    def _indexed(self, index: Any) -> None:
        self._index_job = None
        self._status.hide_progress()
        self._status.show_message(f"Indexed {index.bar_count:,} bars of {len(index.tunes):,} tunes.")
        self._find_provenance()

    def _index_failed(self, exc: BaseException) -> None:
        self._index_job = None
        self._status.hide_progress()
        self._panel.set_provenance_message(describe_exception(exc, "indexing the corpus"))

    def _found(self, melody: Melody, note_index: int, matches: list) -> None:
        if not self._current(melody, note_index):
            return
        note = ""
        corpus = self._model_corpus
        if corpus and corpus != self.store.corpus_name:
            note = (f"This model was trained on “{corpus}”, which is not indexed: these are "
                    f"matches in the {self.store.corpus_name} corpus.")
        self._panel.set_provenance(matches, note)
        self.provenance_ready.emit(matches)


def _bar(melody: Melody, note_index: int) -> int:
    return melody.bar_index(melody.notes[note_index].onset_ticks) + (0 if melody.pickup_ticks else 1)


def _note_name(melody: Melody, note_index: int) -> str:
    pitch = melody.notes[note_index].pitch
    return "rest" if pitch is None else pitch_to_name(pitch)


def _title(melody: Melody, note_index: int, generated: bool) -> str:
    role = "generated" if generated else "from the seed"
    return f"<b>{_note_name(melody, note_index)}</b> · bar {_bar(melody, note_index)} · {role}"


def _not_sampled(generated: bool) -> str:
    if generated:
        return "The model that made this variation is not known here, so its choice cannot be shown."
    return "This note is the seed's: the model did not choose it. Known tunes nearby are below."
