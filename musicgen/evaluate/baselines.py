"""The baselines a model is compared with: the Kneser-Ney n-gram, alone and with memory of the tune.

- `fit_ngram_baseline(corpus)`: the interpolated Kneser-Ney n-gram fitted on the train split, its
  order chosen on the validation split; with it, the short-term model's orders and escape weight
  (`memory.choose_memory`), also chosen on the validation split. Both are cached per corpus
  fingerprint in the user cache folder (.npz counts + JSON, never pickle).
- `encode_split(corpus, split)`: the ids of a split's tunes (the ones the vocabulary can hold);
  ``"all"`` takes every tune.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from musicgen.errors import VocabularyError
from musicgen.evaluate.likelihood import score_with_ngram
from musicgen.evaluate.memory import MemoryConfig, choose_memory
from musicgen.evaluate.ngram import NGRAM_FORMAT_VERSION, KneserNeyModel
from musicgen.progress import ProgressFn, report
from musicgen.tokens import VOCAB, Vocabulary

__all__ = ["DEFAULT_NGRAM_ORDERS", "NgramBaseline", "encode_split", "fit_ngram_baseline"]

# Validation bits per note keep falling with the order on the folk corpus (4.27 at 10, 4.08 at 16,
# 4.00 at 24; benchmarks/bench_key_handling.py): 16 is the default, a balance with memory (~1 GB
# while fitting 2.5 M tokens; `musicgen evaluate --ngram-max-order` raises it).
DEFAULT_NGRAM_ORDERS = tuple(range(2, 17))
_MEMORY_CACHE_VERSION = 2


@dataclass(frozen=True)
class NgramBaseline:
    """A fitted n-gram, the order chosen on validation and the validation figure of every order;
    the short-term model chosen on validation (None until `with_memory`) and its validation figure."""

    model: KneserNeyModel
    order: int
    val_bits_per_note: dict[int, float]
    memory: MemoryConfig | None = None
    memory_val_bits_per_note: float = math.nan


def encode_split(corpus: Any, split: str, vocab: Vocabulary = VOCAB) -> tuple[list, list[list[int]]]:
    """(tunes, ids) of a split (``"all"``: every tune); tunes the vocabulary cannot represent are
    left out of both."""
    tunes, sequences = [], []
    for tune in corpus.split(split):
        try:
            sequences.append(vocab.encode(tune.melody))
        except VocabularyError:
            continue
        tunes.append(tune)
    return tunes, sequences


def _cache_path(corpus: Any, vocab: Vocabulary, orders: Sequence[int]) -> Path:
    from musicgen.userdirs import cache_dir

    layout = "c" if vocab.transpose_to_c else "abs"
    name = (f"{corpus.fingerprint}-v{vocab.version}{layout}-kn{NGRAM_FORMAT_VERSION}"
            f"-{min(orders)}to{max(orders)}")
    return cache_dir() / "ngram" / name


def fit_ngram_baseline(
    corpus: Any,
    *,
    vocab: Vocabulary = VOCAB,
    orders: Sequence[int] = DEFAULT_NGRAM_ORDERS,
    use_cache: bool = True,
    memory: bool = True,
    on_progress: ProgressFn | None = None,
) -> NgramBaseline:
    """Fit on the train split, choose the order (and, with `memory`, the short-term model) with
    the lowest validation bits per note."""
    stem = _cache_path(corpus, vocab, orders)
    baseline = _load_cached(stem) if use_cache else None
    if baseline is None:
        report(on_progress, 0, 2, "fitting the n-gram baseline")
        _, train_ids = encode_split(corpus, "train", vocab)
        model = KneserNeyModel.fit(train_ids, vocab.size, max(orders))
        _, val_ids = encode_split(corpus, "val", vocab)
        val = {k: score_with_ngram(model, k, val_ids, vocab).bits_per_note for k in orders}
        finite = {k: v for k, v in val.items() if not math.isnan(v)}
        order = min(finite, key=finite.get) if finite else max(orders)  # type: ignore[arg-type]
        report(on_progress, 2, 2, "fitting the n-gram baseline")
        baseline = NgramBaseline(model, order, val)
        if use_cache:
            _write_cache(model, stem, order, val)
    if memory:
        baseline = _with_memory(baseline, corpus, vocab, stem if use_cache else None, on_progress)
    return baseline


def _load_cached(stem: Path) -> NgramBaseline | None:
    npz, meta_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    if not (npz.exists() and meta_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        model = KneserNeyModel.load(npz)
        return NgramBaseline(model, int(meta["order"]), {int(k): v for k, v in meta["val"].items()})
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache is refitted


def _write_cache(model: KneserNeyModel, stem: Path, order: int, val: dict) -> None:
    npz, meta_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        tmp = npz.with_name(npz.name + f".{os.getpid()}.tmp")
        model.save(tmp)
        os.replace(tmp, npz)
        meta_path.write_text(json.dumps({"order": order, "val": {str(k): v for k, v in val.items()}}))
    except OSError:
        pass  # the cache is an optimisation: an unwritable cache folder only costs a refit


def _with_memory(
    baseline: NgramBaseline, corpus: Any, vocab: Vocabulary, stem: Path | None, on_progress: ProgressFn | None
) -> NgramBaseline:
    """The baseline with its short-term model chosen on validation (cached beside the n-gram)."""
    from dataclasses import replace

    path = None if stem is None else stem.with_name(
        f"{stem.name}-o{baseline.order}-memory{_MEMORY_CACHE_VERSION}.json")
    if path is not None and path.exists():
        try:
            meta = json.loads(path.read_text())
            config = MemoryConfig(int(meta["min_order"]), int(meta["max_order"]), float(meta["escape"]))
            return replace(baseline, memory=config, memory_val_bits_per_note=float(meta["val_bits_per_note"]))
        except (OSError, ValueError, KeyError):
            pass
    report(on_progress, 0, 1, "choosing the short-term model on validation")
    _, val_ids = encode_split(corpus, "val", vocab)
    notes = sum(vocab.note_count(s) for s in val_ids)
    config, val_bpn = choose_memory(baseline.model, baseline.order, val_ids, notes)
    report(on_progress, 1, 1, "choosing the short-term model on validation")
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({**config.to_dict(), "val_bits_per_note": val_bpn}))
        except OSError:
            pass
    return replace(baseline, memory=config, memory_val_bits_per_note=val_bpn)
