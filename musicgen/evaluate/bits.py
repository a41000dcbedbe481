"""The bits-per-note figures of one evaluation, each for the model, the n-gram and the n-gram with memory.

- overall and per collection, as before, now with the n-gram with memory beside the plain n-gram;
- on fresh notes (restated 4-bar passages set apart, `fresh`), with the share of restated notes;
- on the clean set: the scored tunes with no family member among the training tunes
  (`corpus.families`), the fair figure while the split is by content hash (split version 1);
- per written note: the tunes read again with repeats not expanded (`written`), each written note
  scored once; the same tunes as played are scored beside them.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from musicgen.evaluate.baselines import NgramBaseline
from musicgen.evaluate.fresh import fresh_split, restated_tokens
from musicgen.evaluate.likelihood import TuneScores, score_with_model, score_with_ngram
from musicgen.evaluate.memory import memory_token_bits
from musicgen.progress import ProgressFn
from musicgen.tokens import VOCAB

__all__ = ["SCORERS", "score_all", "summary", "fresh_summary", "restated_masks", "collection_rows",
           "clean_summary", "written_summary"]

SCORERS = ("model", "ngram", "ngram_memory")
_PREFIX = {"model": "", "ngram": "ngram_", "ngram_memory": "ngram_memory_"}


def score_all(
    model: Any, baseline: NgramBaseline, sequences: Sequence[Sequence[int]], *,
    on_progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
) -> dict[str, TuneScores]:
    """Per-token scores of the sequences under the model, the n-gram and the n-gram with memory."""
    scores = {
        "model": score_with_model(model, sequences, on_progress=on_progress, should_stop=should_stop),
        "ngram": score_with_ngram(baseline.model, baseline.order, sequences),
    }
    if baseline.memory is not None:
        bits = memory_token_bits(baseline.model, baseline.order, sequences, baseline.memory)
        scores["ngram_memory"] = TuneScores.from_token_bits(bits, scores["ngram"].notes)
    return scores


def _pick(scores: dict[str, TuneScores], index: Sequence[int] | None) -> dict[str, TuneScores]:
    return scores if index is None else {k: v.select(index) for k, v in scores.items()}


def summary(scores: dict[str, TuneScores], index: Sequence[int] | None = None) -> dict:
    """Tunes, notes and bits per note of each scorer (over `index`, or every tune)."""
    chosen = _pick(scores, index)
    model = chosen["model"]
    out = {"tunes": int(model.bits.size), "notes": int(model.notes.sum())}
    for name, s in chosen.items():
        out[f"{_PREFIX[name]}bits_per_note"] = s.bits_per_note
    return out


def fresh_summary(
    scores: dict[str, TuneScores], sequences: Sequence[Sequence[int]], masks: Sequence[np.ndarray],
    index: Sequence[int] | None = None,
) -> dict:
    """Bits per fresh note of each scorer, the model's bits per restated note, and the shares."""
    idx = list(range(len(sequences))) if index is None else list(index)
    seqs, kept = [sequences[i] for i in idx], [masks[i] for i in idx]
    out: dict[str, Any] = {}
    for name, s in _pick(scores, index).items():
        split = fresh_split(s, seqs, VOCAB, masks=kept)
        out[f"{_PREFIX[name]}fresh_bits_per_note"] = split.fresh_bits_per_note
        out[f"{_PREFIX[name]}restated_bits_per_note"] = split.restated_bits_per_note
        out["fresh_notes"], out["restated_notes"] = split.fresh_notes, split.restated_notes
        out["restated_share"] = split.restated_share
    return out


def restated_masks(sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """`fresh.restated_tokens` of each sequence (computed once, shared by every scorer)."""
    return [restated_tokens(s, VOCAB) for s in sequences]


def collection_rows(
    tunes: Sequence[Any], scores: dict[str, TuneScores], sequences: Sequence[Sequence[int]],
    masks: Sequence[np.ndarray],
) -> dict[str, dict]:
    """Per collection: tunes, notes, each scorer's bits per note and per fresh note."""
    rows = {}
    for name in sorted({t.collection for t in tunes}):
        index = [i for i, t in enumerate(tunes) if t.collection == name]
        rows[name] = {**summary(scores, index), **fresh_summary(scores, sequences, masks, index)}
    return rows


def clean_summary(
    tunes: Sequence[Any], scores: dict[str, TuneScores], sequences: Sequence[Sequence[int]],
    masks: Sequence[np.ndarray], train_melodies: Sequence[Any],
) -> dict:
    """The figures on the tunes with no family member among `train_melodies`."""
    from musicgen.corpus.families import FamilyConfig, ShingleIndex

    config = FamilyConfig()
    index = ShingleIndex(train_melodies, config)
    related = [index.best_match(t.melody)[1] >= config.threshold for t in tunes]
    clean = [i for i, r in enumerate(related) if not r]
    out = {"family_threshold": config.threshold, "tunes_with_family_in_training": int(sum(related))}
    if not clean:
        return {**out, "tunes": 0, "notes": 0}
    return {**out, **summary(scores, clean), **fresh_summary(scores, sequences, masks, clean)}


def written_summary(
    model: Any, baseline: NgramBaseline, tunes: Sequence[Any], played: dict[str, TuneScores],
    written: Sequence[Any], **progress: Any,
) -> dict:
    """Bits per written note of each scorer over the tunes whose written form reads and encodes,
    with the same tunes as played beside them."""
    from musicgen.errors import VocabularyError

    index, sequences = [], []
    for i, melody in enumerate(written):
        if melody is None:
            continue
        try:
            sequences.append(VOCAB.encode(melody))
        except VocabularyError:
            continue
        index.append(i)
    out: dict[str, Any] = {"unreadable": len(tunes) - len(index)}
    if not index:
        return {**out, "tunes": 0, "notes": 0}
    written_scores = score_all(model, baseline, sequences, **progress)
    as_played = summary(played, index)
    out.update(summary(written_scores))
    out.update({f"played_{k}": v for k, v in as_played.items() if k != "tunes"})
    return out
