"""Evaluation of a checkpoint: bits per note next to the n-gram baseline, and musical statistics.

API map:

- `evaluate_checkpoint(path, corpus, split)`: the whole report as one JSON-ready dict (fields in
  `musicgen evaluate --json`): bits per note overall and per collection, token accuracy, the
  Kneser-Ney baseline's figure on the same tunes and tokens, and the musical statistics (`music`).
- `fit_ngram_baseline(corpus)`: the interpolated Kneser-Ney n-gram fitted on the train split, its
  order chosen on the validation split; cached per corpus fingerprint in the user cache folder (.npz
  counts + JSON, never pickle).
- `encode_split(corpus, split, vocab)`: the ids of a split's tunes (the ones the vocabulary can hold).
- Bits-per-note arithmetic lives in `likelihood`, the n-gram in `ngram`, the statistics in
  `stats` and `music`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from musicgen.errors import VocabularyError
from musicgen.evaluate.music import MusicEvalConfig, continue_seeds, held_out_seeds, music_statistics
from musicgen.evaluate.likelihood import TuneScores, score_with_model, score_with_ngram
from musicgen.evaluate.ngram import NGRAM_FORMAT_VERSION, KneserNeyModel
from musicgen.tokens import VOCAB, Vocabulary

__all__ = [
    "NgramBaseline",
    "encode_split",
    "fit_ngram_baseline",
    "evaluate_checkpoint",
    "DEFAULT_NGRAM_ORDERS",
]

# Validation bits per note keep falling with the order on the folk corpus (4.27 at 10, 4.08 at 16,
# 4.00 at 24; benchmarks/bench_key_handling.py): 16 is the default, a balance with memory (~1 GB
# while fitting 2.5 M tokens; `musicgen evaluate --ngram-max-order` raises it).
DEFAULT_NGRAM_ORDERS = tuple(range(2, 17))
from musicgen.progress import ProgressFn as Progress


@dataclass(frozen=True)
class NgramBaseline:
    """A fitted n-gram, the order chosen on validation and the validation figure of every order."""

    model: KneserNeyModel
    order: int
    val_bits_per_note: dict[int, float]


def encode_split(corpus: Any, split: str, vocab: Vocabulary = VOCAB) -> tuple[list, list[list[int]]]:
    """(tunes, ids) of a split; tunes the vocabulary cannot represent are left out of both."""
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
    name = f"{corpus.fingerprint}-v{vocab.version}{layout}-kn{NGRAM_FORMAT_VERSION}-{min(orders)}to{max(orders)}"
    return cache_dir() / "ngram" / name


def fit_ngram_baseline(
    corpus: Any,
    *,
    vocab: Vocabulary = VOCAB,
    orders: Sequence[int] = DEFAULT_NGRAM_ORDERS,
    use_cache: bool = True,
    on_progress: Progress | None = None,
) -> NgramBaseline:
    """Fit on the train split, choose the order with the lowest validation bits per note."""
    stem = _cache_path(corpus, vocab, orders)
    npz, meta_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    if use_cache and npz.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            model = KneserNeyModel.load(npz)
            return NgramBaseline(model, int(meta["order"]), {int(k): v for k, v in meta["val"].items()})
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is refitted below
    if on_progress is not None:
        on_progress(0, 2, "fitting the n-gram baseline")
    _, train_ids = encode_split(corpus, "train", vocab)
    model = KneserNeyModel.fit(train_ids, vocab.size, max(orders))
    _, val_ids = encode_split(corpus, "val", vocab)
    val = {k: score_with_ngram(model, k, val_ids, vocab).bits_per_note for k in orders}
    finite = {k: v for k, v in val.items() if not math.isnan(v)}
    order = min(finite, key=finite.get) if finite else max(orders)  # type: ignore[arg-type]
    if on_progress is not None:
        on_progress(2, 2, "fitting the n-gram baseline")
    if use_cache:
        _write_cache(model, npz, meta_path, order, val)
    return NgramBaseline(model, order, val)


def _write_cache(model: KneserNeyModel, npz: Path, meta_path: Path, order: int, val: dict) -> None:
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        tmp = npz.with_name(npz.name + f".{os.getpid()}.tmp")
        model.save(tmp)
        os.replace(tmp, npz)
        meta_path.write_text(json.dumps({"order": order, "val": {str(k): v for k, v in val.items()}}))
    except OSError:
        pass  # the cache is an optimisation: an unwritable cache folder only costs a refit


def _summary(scores: TuneScores) -> dict:
    return {
        "bits_per_note": scores.bits_per_note,
        "notes": int(scores.notes.sum()),
        "tunes": int(scores.bits.size),
    }


def evaluate_checkpoint(
    path: str | os.PathLike[str],
    corpus: Any,
    split: str = "test",
    *,
    samples: int = 100,
    music: bool = True,
    ngram_orders: Sequence[int] = DEFAULT_NGRAM_ORDERS,
    music_config: MusicEvalConfig | None = None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Bits per note (model and n-gram), token accuracy, per collection, and the music statistics."""
    from musicgen.checkpoint import load_checkpoint
    from musicgen.library import resolve_checkpoint

    model, metadata = load_checkpoint(resolve_checkpoint(path), expected_tokens=list(VOCAB.tokens))
    tunes, sequences = encode_split(corpus, split)
    scores = score_with_model(model, sequences, on_progress=on_progress, should_stop=should_stop)
    baseline = fit_ngram_baseline(corpus, orders=ngram_orders, on_progress=on_progress)
    ngram = score_with_ngram(baseline.model, baseline.order, sequences)
    report: dict[str, Any] = {
        "checkpoint": str(path),
        "model": metadata.get("model", {}).get("kind"),
        "corpus": getattr(corpus, "name", ""),
        "corpus_fingerprint": corpus.fingerprint,
        "split": split,
        **_summary(scores),
        "token_accuracy": scores.token_accuracy,
        "ngram_bits_per_note": ngram.bits_per_note,
        "ngram_order": baseline.order,
        "ngram_val_bits_per_note": {str(k): v for k, v in baseline.val_bits_per_note.items()},
        "per_collection": {},
    }
    for name in sorted({t.collection for t in tunes}):
        index = [i for i, t in enumerate(tunes) if t.collection == name]
        entry = _summary(scores.select(index))
        entry["ngram_bits_per_note"] = ngram.select(index).bits_per_note
        report["per_collection"][name] = entry
    if music and samples > 0:
        report["music"] = _music(model, corpus, tunes, samples, music_config, on_progress, should_stop)
    return _json_safe(report)


def _music(model, corpus, tunes, samples, config, on_progress, should_stop) -> dict:
    from musicgen.evaluate.stats import CopyIndex

    config = config or MusicEvalConfig(samples=samples)
    if config.samples != samples:
        config = MusicEvalConfig(**{**config.__dict__, "samples": samples})
    seeds = held_out_seeds([t.melody for t in tunes], config)
    generated, ids = continue_seeds(model, seeds, config, on_progress=on_progress, should_stop=should_stop)
    copy_index = CopyIndex(t.melody for t in corpus.split("train"))
    return music_statistics(seeds, generated, ids, copy_index, config)


def _json_safe(value: Any) -> Any:
    """NaN and infinities become None, so the report is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
