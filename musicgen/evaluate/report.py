"""Evaluation of a checkpoint: every figure of `musicgen evaluate` as one JSON-ready dict.

API map:

- `evaluate_checkpoint(path, corpus, split)`: bits per note overall and per collection, token
  accuracy, the n-gram's and the n-gram-with-memory's figures on the same tunes and tokens, bits per
  fresh note and the restated share (`fresh`), the clean set (no family member in training), bits
  per written note (`written`, when the sources are given), the musical statistics of sampled
  continuations (`music`, with the variant copy check), and the form statistics of whole tunes and
  of continuations with the cadence off and on (`form`).
- ``reference``: the corpus whose train split fits the n-gram and counts as "training" for the clean
  set and the copy checks; by default `corpus` itself. Zero-shot evaluation of a folder passes the
  folk corpus here, so the folder is scored against what the shipped models learnt from.
- The baselines live in `baselines`, the figures in `bits`, the form in `form_report`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from musicgen.evaluate.baselines import DEFAULT_NGRAM_ORDERS, NgramBaseline, encode_split, fit_ngram_baseline
from musicgen.evaluate.bits import (
    clean_summary,
    collection_rows,
    fresh_summary,
    restated_masks,
    score_all,
    summary,
    written_summary,
)
from musicgen.evaluate.music import MusicEvalConfig, continue_seeds, held_out_seeds, music_statistics
from musicgen.evaluate.sampled import FormEvalConfig
from musicgen.progress import ProgressFn as Progress

__all__ = [
    "NgramBaseline",
    "encode_split",
    "fit_ngram_baseline",
    "evaluate_checkpoint",
    "DEFAULT_NGRAM_ORDERS",
]


def evaluate_checkpoint(
    path: str | os.PathLike[str],
    corpus: Any,
    split: str = "test",
    *,
    samples: int = 100,
    music: bool = True,
    ngram_orders: Sequence[int] = DEFAULT_NGRAM_ORDERS,
    music_config: MusicEvalConfig | None = None,
    form: FormEvalConfig | None = None,
    reference: Any = None,
    sources: dict[str, Path] | None = None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Every figure of the report (see the module docstring); `form` None skips the form
    statistics, `sources` None skips bits per written note."""
    from musicgen.pipeline import load_generator

    generator = load_generator(path)
    reference = reference if reference is not None else corpus
    progress = {"on_progress": on_progress, "should_stop": should_stop}
    tunes, sequences = encode_split(corpus, split)
    baseline = fit_ngram_baseline(reference, orders=ngram_orders, on_progress=on_progress)
    scores = score_all(generator.model, baseline, sequences, **progress)
    report = _header(path, generator, corpus, reference, split, baseline)
    report.update(_likelihood(tunes, sequences, scores, reference))
    if sources is not None:
        from musicgen.evaluate.written import written_melodies

        written = written_melodies(tunes, sources, fingerprint=corpus.fingerprint, **progress)
        report["written"] = written_summary(generator.model, baseline, tunes, scores, written, **progress)
    index = None
    if (music and samples > 0) or form is not None:
        from musicgen.evaluate.copies import VariantIndex

        index = VariantIndex([t.melody for t in reference.split("train")])
    if music and samples > 0:
        report["music"] = _music(generator.model, tunes, samples, music_config, reference, index, progress)
    if form is not None:
        from musicgen.evaluate.form_report import form_report

        report["form"] = form_report(generator, [t.melody for t in tunes], index, form, **progress)
    return _json_safe(report)


def _header(path, generator, corpus, reference, split: str, baseline: NgramBaseline) -> dict:
    return {
        "checkpoint": str(path),
        "model": generator.kind,
        "corpus": getattr(corpus, "name", ""),
        "corpus_fingerprint": corpus.fingerprint,
        "split": split,
        "reference_corpus": getattr(reference, "name", ""),
        "reference_fingerprint": reference.fingerprint,
        "ngram_order": baseline.order,
        "ngram_val_bits_per_note": {str(k): v for k, v in baseline.val_bits_per_note.items()},
        "ngram_memory": {**(baseline.memory.to_dict() if baseline.memory else {}),
                         "val_bits_per_note": baseline.memory_val_bits_per_note},
    }


# collections reported together as well (the fiddle-tune books the issue 6 target names)
GROUPS = {"oneills1850+ryansMammoth": ("oneills1850", "ryansMammoth")}


def _likelihood(tunes: list, sequences: list, scores: dict, reference: Any) -> dict:
    """Overall, fresh, per-collection, per-group and clean-set figures."""
    masks = restated_masks(sequences)
    out = {**summary(scores), "token_accuracy": scores["model"].token_accuracy}
    out["fresh"] = fresh_summary(scores, sequences, masks)
    out["restated_share"] = out["fresh"]["restated_share"]
    out["per_collection"] = collection_rows(tunes, scores, sequences, masks)
    out["groups"] = {}
    for name, members in GROUPS.items():
        index = [i for i, t in enumerate(tunes) if t.collection in members]
        if index:
            out["groups"][name] = {**summary(scores, index), **fresh_summary(scores, sequences, masks, index)}
    train = [t.melody for t in reference.split("train")]
    out["clean"] = clean_summary(tunes, scores, sequences, masks, train)
    return out


def _music(model, tunes, samples, config, reference, index, progress) -> dict:
    from musicgen.evaluate.copies import copy_figures
    from musicgen.evaluate.stats import CopyIndex

    config = config or MusicEvalConfig(samples=samples)
    if config.samples != samples:
        config = MusicEvalConfig(**{**config.__dict__, "samples": samples})
    seeds = held_out_seeds([t.melody for t in tunes], config)
    generated, ids = continue_seeds(model, seeds, config, **progress)
    copy_index = CopyIndex(t.melody for t in reference.split("train"))
    stats = music_statistics(seeds, generated, ids, copy_index, config)
    stats["copies"] = {"samples": copy_figures(generated, index, bars=config.copy_bars).to_dict(),
                       "real": copy_figures([s.real for s in seeds], index, bars=config.copy_bars).to_dict()}
    return stats


def _json_safe(value: Any) -> Any:
    """NaN and infinities become None, so the report is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value

