"""Evaluation: bits per note beside baselines, and musical statistics beside real held-out tunes.

API map:
  report       evaluate_checkpoint(path, corpus, split): the whole report as one JSON-ready dict
  baselines    fit_ngram_baseline (the n-gram, and its short-term model, chosen on validation);
               encode_split
  likelihood   bits per note of a model or an n-gram over tunes, per tune and per token
  ngram        the interpolated Kneser-Ney n-gram (numpy; .npz + JSON cache, never pickle)
  memory       the short-term model of the tune so far, blended over the n-gram (IDyOM-style)
  fresh        bits per fresh note: restated 4-bar passages set apart, token for token
  written      the tunes read again as written (repeats not expanded), for bits per written note
  bits         the figures of an evaluation: overall, per collection, fresh, clean set, written
  music        held-out seeds, their sampled continuations, and the statistics of both
  stats        the musical statistics themselves: bars of exact length, notes in the scale, overlapped
               feature areas, copies of training tunes
  form         the form of a tune (torch-free): strong beats, endings, length, restatement, AABB
  sampled      whole tunes from a header, continuations with the cadence off and on
  form_report  the form statistics and copy checks of those samples beside the real tunes
  copies       the copy check that catches variants (rhythm runs, contour runs, tune families)
"""

from musicgen.evaluate.baselines import DEFAULT_NGRAM_ORDERS, NgramBaseline, encode_split, fit_ngram_baseline
from musicgen.evaluate.report import evaluate_checkpoint
from musicgen.evaluate.sampled import FormEvalConfig

__all__ = ["DEFAULT_NGRAM_ORDERS", "FormEvalConfig", "NgramBaseline", "encode_split", "evaluate_checkpoint",
           "fit_ngram_baseline"]
