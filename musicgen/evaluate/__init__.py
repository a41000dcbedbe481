"""Evaluation: bits per note beside baselines, and musical statistics beside real held-out tunes.

API map:
  report      evaluate_checkpoint(path, corpus, split): the whole report as one JSON-ready dict;
              fit_ngram_baseline, encode_split
  likelihood  bits per note of a model or an n-gram over tunes, per tune and per collection
  ngram       the interpolated Kneser-Ney n-gram (numpy; .npz + JSON cache, never pickle)
  music       held-out seeds, their sampled continuations, and the statistics of both
  stats       the musical statistics themselves: bars of exact length, notes in the scale, overlapped
              feature areas, copies of training tunes
"""

from musicgen.evaluate.report import DEFAULT_NGRAM_ORDERS, NgramBaseline, encode_split, evaluate_checkpoint, \
    fit_ngram_baseline

__all__ = ["DEFAULT_NGRAM_ORDERS", "NgramBaseline", "encode_split", "evaluate_checkpoint", "fit_ngram_baseline"]
