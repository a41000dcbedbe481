"""Key handling, measured: n-gram bits per note with tunes moved to tonic C (+ mode token) vs absolute keys.

DESIGN.md asks to decide the key handling by measuring bits per note. This script fits the project's
interpolated Kneser-Ney n-gram on the train split of a corpus under three token layouts and scores the
validation split (the same tunes for every layout: those all layouts can encode):

- ``tonic_c``: `Vocabulary()`, every tune transposed to tonic C, the mode as a header token;
- ``absolute``: `Vocabulary(transpose_to_c=False)`, pitches as written;
- ``absolute_aug`` (with ``--augment N``): absolute pitches, training tunes also transposed by
  -N..+N semitones (the alternative DESIGN.md names: all keys plus transposition augmentation).

Prints one JSON line per layout and order: {"layout", "order", "val_bits_per_note", ...}, then one
line per layout with its best order. Usage::

    python benchmarks/bench_key_handling.py [--corpus folk] [--orders 2-10] [--augment 0] [--smoke]

`--smoke` (seconds; the test suite runs it): orders 2-3 and one semitone of augmentation on a small
folder of generated ABC tunes, with the data and cache folders in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicgen.corpus import load_corpus
from musicgen.errors import VocabularyError
from musicgen.evaluate.likelihood import score_with_ngram
from musicgen.evaluate.ngram import KneserNeyModel
from musicgen.tokens import Vocabulary


def encodable(tunes, vocabs):
    """The tunes every vocabulary can encode, with their ids under each."""
    kept, ids = [], {name: [] for name in vocabs}
    for tune in tunes:
        try:
            encoded = {name: v.encode(tune.melody) for name, v in vocabs.items()}
        except VocabularyError:
            continue
        kept.append(tune)
        for name, seq in encoded.items():
            ids[name].append(seq)
    return kept, ids


def augmented(tunes, vocab: Vocabulary, semitones: int) -> list[list[int]]:
    out = []
    for tune in tunes:
        for shift in range(-semitones, semitones + 1):
            try:
                out.append(vocab.encode(tune.melody, transpose=shift))
            except VocabularyError:
                continue
    return out


def smoke_corpus(folder: Path) -> Path:
    """--smoke: user folders inside `folder` and a small folder corpus of generated ABC tunes."""
    from tests.support import isolated_smoke_corpus

    return isolated_smoke_corpus(folder, count=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="folk")
    parser.add_argument("--orders", default="2-10", help="range of orders, e.g. 2-10")
    parser.add_argument("--augment", type=int, default=0, help="also fit absolute keys + this many semitones of augmentation")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds on a tiny generated corpus")
    args = parser.parse_args()
    if not args.smoke:
        return measure(args.corpus, args.orders, args.augment, {})
    with tempfile.TemporaryDirectory() as tmp:
        return measure(str(smoke_corpus(Path(tmp))), "2-3", 1, {"smoke": True})


def measure(corpus_name: str, orders: str, augment: int, extra: dict) -> int:
    """Fit and score every layout; print the JSON lines (each with `extra`)."""
    low, high = (int(x) for x in orders.split("-"))
    corpus = load_corpus(corpus_name)
    vocabs = {"tonic_c": Vocabulary(), "absolute": Vocabulary(transpose_to_c=False)}
    train_tunes, train_ids = encodable(corpus.split("train"), vocabs)
    val_tunes, val_ids = encodable(corpus.split("val"), vocabs)
    if augment > 0:
        train_ids["absolute_aug"] = augmented(train_tunes, vocabs["absolute"], augment)
        val_ids["absolute_aug"] = val_ids["absolute"]
        vocabs["absolute_aug"] = vocabs["absolute"]
    for layout, vocab in vocabs.items():
        start = time.perf_counter()
        model = KneserNeyModel.fit(train_ids[layout], vocab.size, high)
        fit_s = time.perf_counter() - start
        figures = {}
        for order in range(low, high + 1):
            figures[order] = score_with_ngram(model, order, val_ids[layout], vocab).bits_per_note
            print(json.dumps({"layout": layout, "order": order,
                              "val_bits_per_note": round(figures[order], 4), **extra}))
        best = min(figures, key=figures.get)
        print(json.dumps({
            "layout": layout, "best_order": best, "val_bits_per_note": round(figures[best], 4),
            "train_sequences": len(train_ids[layout]), "val_tunes": len(val_tunes),
            "train_tokens": sum(map(len, train_ids[layout])), "fit_s": round(fit_s, 1),
            "corpus_fingerprint": corpus.fingerprint, **extra,
        }))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
