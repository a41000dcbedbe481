"""Whole tunes, measured: the cadence option and AABB tunes against issue 11's targets.

For each model, continues held-out 4-bar seeds of the folk corpus (8 bars asked, temperature 1.0)
with the cadence option off and on (for each --candidates value), and prints one JSON line each:

  {"bench": "cadence", "model", "split", "candidates", "samples", "cadence_share" (ends at the asked
   phrase boundary, last bar complete, final note on the tonic on a strong beat, every bar exact),
   "overlap" (pitch class, note length, interval, range against the real continuations),
   "bits_per_generated_note" (the model's own, unconstrained, on what it generated),
   "bits_ratio_vs_off", "self_restated_share" (notes of the continuation restating an earlier
   4-bar run of the continuation itself: a phrase looping), "seconds"}

then whole tunes in AABB form from a header alone (the meter and mode of each held-out tune):

  {"bench": "aabb", "model", "tunes", "structure_share", "parts_tonic_or_dominant_share",
   "copy_4bars_share", "reference_copy_4bars_share" (real held-out tunes against the training tunes)}

Choose settings on the validation split (--split val, the default); report the test split once.
    .venv/bin/python benchmarks/bench_cadence.py [--split val|test] [--samples 200]
        [--candidates 1,2,4,8] [--kinds lstm,transformer] [--tunes 100] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicgen.generation import GenerationConfig  # noqa: E402
from musicgen.melody import Melody  # noqa: E402


def cadence_ok(melody: Melody, seed: Melody, asked: int, phrase: int) -> bool:
    """At the first phrase boundary at or after the bars asked, complete, on the tonic, strong."""
    from musicgen.cadence import bars_since_first_full_bar

    bar = melody.meter.bar_ticks
    full, partial = bars_since_first_full_bar(seed)
    end_bar = -(-(full + (1 if partial else 0) + asked) // phrase) * phrase
    last = melody.notes[-1]
    lines = melody.bar_lines()
    return (melody.duration_ticks == melody.pickup_ticks + end_bar * bar
            and last.pitch is not None and (last.pitch - melody.key.tonic_pc) % 12 == 0
            and (last.onset_ticks - melody.pickup_ticks) % bar in melody.meter.strong_positions
            and all(b - a == bar for a, b in zip(lines, lines[1:])))


def generated_bits(model, seeds: list[Melody], outputs: list[Melody]) -> float:
    """The model's own bits per note on the generated continuations (unconstrained, T = 1)."""
    from musicgen.evaluate.likelihood import score_with_model
    from musicgen.pipeline import prepare_seed
    from musicgen.tokens import VOCAB

    sequences, spans = [], []
    for seed, out in zip(seeds, outputs):
        adapted, shift = prepare_seed(seed)
        seed_ids = VOCAB.encode(adapted, end=False, transpose=shift)
        whole = VOCAB.encode(out.replace(meter=adapted.meter), end=False, transpose=shift)
        sequences.append(whole)
        spans.append(len(whole) - len(seed_ids))
    scores = score_with_model(model, sequences)
    bits = sum(float(tb[-n:].sum()) for tb, n in zip(scores.token_bits, spans))
    notes = sum(VOCAB.note_count(seq[-n:]) for seq, n in zip(sequences, spans))
    return bits / max(notes, 1)


def run_cadence(generator, seeds, split: str, candidates: int | None, smoke: bool) -> dict:
    from musicgen.evaluate.form import restated_share
    from musicgen.evaluate.stats import feature_overlaps
    from musicgen.pipeline import continue_melody

    asked, phrase = (2, 4) if smoke else (8, 8)
    started = time.perf_counter()
    outputs = []
    for i, item in enumerate(seeds):
        config = GenerationConfig(bars=asked, cadence=candidates is not None, phrase_bars=phrase,
                                  cadence_candidates=candidates or 1, rng_seed=1234 + i)
        outputs.append(continue_melody(item.seed, generator, config)[0])
    seconds = time.perf_counter() - started
    ok = [cadence_ok(o, s.seed, asked, phrase) for o, s in zip(outputs, seeds)]
    continuations = [o.continuation for o in outputs]
    return {
        "bench": "cadence", "model": generator.name, "split": split,
        "candidates": candidates or 0, "cadence": candidates is not None, "samples": len(seeds),
        "cadence_share": round(sum(ok) / max(1, len(ok)), 4),
        "overlap": {k: round(v, 3) for k, v in feature_overlaps(continuations, [s.real for s in seeds]).items()},
        "bits_per_generated_note": round(generated_bits(generator.model, [s.seed for s in seeds], outputs), 3),
        # notes of the continuation in a 4+ bar run restating an earlier run of the continuation:
        # a phrase looping on itself (a cadence search must not favour it)
        "self_restated_share": round(restated_share(continuations), 3),
        "seconds": round(seconds, 2), "smoke": smoke,
    }


def run_aabb(generator, tunes: list[Melody], copy_index, smoke: bool) -> dict:
    from musicgen.evaluate.stats import copy_share
    from musicgen.pipeline import continue_melody
    from musicgen.whole_tune import header_seed

    part_bars = 4 if smoke else 8
    started = time.perf_counter()
    made = []
    for i, tune in enumerate(tunes):
        config = GenerationConfig(form="aabb", part_bars=part_bars, rng_seed=99 + i)
        made.append(continue_melody(header_seed(tune.meter, tune.key), generator, config)[0])
    seconds = time.perf_counter() - started
    structure, closings = 0, []
    for tune in made:
        bar = tune.meter.bar_ticks
        parts = tune.form.parts if tune.form else ()
        structure += [p.name for p in parts] == ["A", "B"] and all(
            p.body_ticks + p.second_ending_ticks == part_bars * bar for p in parts)
        for p in parts:
            for _, start, end in p.written_spans()[-1:] + p.written_spans()[1:2]:
                last = tune.slice_ticks(start, end).pitched_notes[-1].pitch
                closings.append((last - tune.key.tonic_pc) % 12 in (0, 7))
    return {
        "bench": "aabb", "model": generator.name, "tunes": len(made), "part_bars": part_bars,
        "structure_share": round(structure / max(1, len(made)), 4),
        "parts_tonic_or_dominant_share": round(sum(closings) / max(1, len(closings)), 4),
        "copy_4bars_share": round(copy_share(made, copy_index, bars=4), 4),
        "reference_copy_4bars_share": round(copy_share(tunes, copy_index, bars=4), 4),
        "seconds": round(seconds, 2), "smoke": smoke,
    }


def load(args: argparse.Namespace):
    """(held-out seeds, held-out tunes, copy index of the training tunes, generators)."""
    from musicgen.corpus import Corpus, load_corpus
    from musicgen.evaluate.music import MusicEvalConfig, held_out_seeds
    from musicgen.evaluate.stats import CopyIndex
    from musicgen.pipeline import load_generator

    if args.smoke:
        from tests.support import isolated_smoke_corpus, synthetic_melodies, tiny_config
        from musicgen.train import train

        folder = Path(tempfile.mkdtemp(prefix="bench-cadence-"))
        isolated_smoke_corpus(folder, count=3)
        corpus = Corpus.from_melodies(synthetic_melodies(40), name="smoke")
        generators = []
        for kind in args.kinds.split(","):
            result = train(tiny_config(kind, max_epochs=1), corpus, out_path=folder / kind)
            generators.append(load_generator(result.checkpoint))
        eval_config = MusicEvalConfig(samples=args.samples, seed_bars=1, continuation_bars=2)
    else:
        corpus = load_corpus("folk")
        generators = [load_generator(kind) for kind in args.kinds.split(",")]
        eval_config = MusicEvalConfig(samples=args.samples)
    held_out = [t.melody for t in corpus.split(args.split)]
    seeds = held_out_seeds(held_out, eval_config)
    step = max(1, len(held_out) // args.tunes)
    tunes = [t for t in held_out[::step] if t.note_count][: args.tunes]
    return seeds, tunes, CopyIndex(t.melody for t in corpus.split("train")), generators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--candidates", default="1,2,4,8")
    parser.add_argument("--kinds", default="lstm,transformer")
    parser.add_argument("--tunes", type=int, default=100, help="AABB tunes per model")
    parser.add_argument("--smoke", action="store_true", help="tiny models, a few seeds (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.tunes, args.candidates = 4, 2, "2"
    import torch

    torch.set_num_threads(1)
    seeds, tunes, copy_index, generators = load(args)
    for generator in generators:
        off = run_cadence(generator, seeds, args.split, None, args.smoke)
        print(json.dumps(off), flush=True)
        for candidates in (int(c) for c in args.candidates.split(",")):
            on = run_cadence(generator, seeds, args.split, candidates, args.smoke)
            on["bits_ratio_vs_off"] = round(on["bits_per_generated_note"] / off["bits_per_generated_note"], 3)
            print(json.dumps(on), flush=True)
        print(json.dumps(run_aabb(generator, tunes, copy_index, args.smoke)), flush=True)


if __name__ == "__main__":
    main()
