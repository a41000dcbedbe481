"""Training speed: tokens per second for each model preset, and time to a validation bits per note.

Prints JSON lines:
  {"bench": "train_throughput", "model", "preset", "device", "tokens_per_s", "steps", ...}
  {"bench": "time_to_target", "model", "preset", "target_bits_per_note", "seconds", "reached", ...}
on a slice of the folk corpus (prepared first if needed: `musicgen prepare`).

    .venv/bin/python benchmarks/bench_train.py [--corpus folk|DIR] [--tunes 400] [--seconds 20]
        [--target 3.5] [--limit 300] [--presets tiny,small,cpu] [--target-preset small] [--smoke]

`--smoke` (seconds; the test suite runs it): the tiny preset for a second per measurement, one
torch thread, on a small folder of generated ABC tunes with the data and cache folders in a
temporary folder; the same lines, with "smoke": true.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

__all__ = ["main"]


def corpus_slice(name: str, tunes: int):
    """The first `tunes` tunes of a prepared corpus ("folk" or a folder), splits kept."""
    from musicgen.corpus import Corpus, load_corpus

    full = load_corpus(name)
    subset = full.tunes[:tunes]
    return Corpus(f"{full.name}[:{tunes}]", subset, f"{full.fingerprint}:{tunes}", {})


def throughput(corpus, kind: str, preset: str, seconds: float, device: str) -> dict:
    from musicgen.train import TrainConfig, train

    config = TrainConfig(model=kind, preset=preset, minutes=seconds / 60.0, max_epochs=1000,
                         patience=0, device=device, save_every_steps=10**6)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(config, corpus, out_path=Path(tmp) / "m")
    return {"bench": "train_throughput", "model": kind, "preset": preset, "device": device,
            "tokens_per_s": round(result.tokens_per_s), "steps": result.steps,
            "padding_fraction": round(result.padding_fraction, 3),
            "val_bits_per_note": round(result.best_val_bits_per_note, 3)}


def time_to_target(corpus, kind: str, preset: str, target: float, limit_s: float,
                   device: str) -> dict:
    from musicgen.errors import Cancelled
    from musicgen.train import TrainConfig, train

    reached: dict[str, float] = {}

    def watch(p) -> None:
        if (p.event == "epoch" and p.val_bits_per_note is not None and not reached
                and p.val_bits_per_note <= target):
            reached.update(seconds=p.elapsed_s, epoch=p.epoch, step=p.step,
                           bits=p.val_bits_per_note)

    config = TrainConfig(model=kind, preset=preset, minutes=limit_s / 60.0, max_epochs=1000,
                         patience=0, device=device, save_every_steps=10**6)
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            best = train(config, corpus, out_path=Path(tmp) / "m", callbacks=[watch],
                         should_stop=lambda: bool(reached)).best_val_bits_per_note
        except Cancelled:
            pass
    return {"bench": "time_to_target", "model": kind, "preset": preset, "device": device,
            "target_bits_per_note": target, "reached": bool(reached),
            "seconds": round(reached.get("seconds", limit_s), 1),
            "epochs": reached.get("epoch"), "steps": reached.get("step"),
            "best_bits_per_note_without_reaching": None if reached else best}


def smoke_corpus(folder: Path) -> Path:
    """--smoke: user folders inside `folder` and a small folder corpus of generated ABC tunes."""
    from tests.support import isolated_smoke_corpus

    return isolated_smoke_corpus(folder, count=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="folk", help="'folk' (default) or a folder of tunes")
    parser.add_argument("--tunes", type=int, default=400, help="tunes in the slice")
    parser.add_argument("--seconds", type=float, default=20.0, help="per throughput measurement")
    parser.add_argument("--target", type=float, default=3.5, help="validation bits per note")
    parser.add_argument("--limit", type=float, default=300.0, help="give up on the target after")
    parser.add_argument("--presets", default="tiny,small,cpu")
    parser.add_argument("--target-preset", default="small")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: tiny models on a tiny generated corpus")
    args = parser.parse_args()
    if not args.smoke:
        run(args, {})
        return
    import torch

    torch.set_num_threads(1)
    # AdamW's first construction imports for over a second, inside the first run's budget: now.
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    with tempfile.TemporaryDirectory() as tmp:
        args.corpus = str(smoke_corpus(Path(tmp)))
        # a target the first validation reaches, so the stop-on-target path runs too
        args.tunes, args.seconds, args.limit, args.target = 30, 1.0, 1.5, 50.0
        args.presets = args.target_preset = "tiny"
        run(args, {"smoke": True})


def run(args: argparse.Namespace, extra: dict) -> None:
    """Every measurement of `args`; each JSON line also carries `extra`."""
    import torch

    def emit(result: dict) -> None:
        print(json.dumps({**result, **extra}), flush=True)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = device == "cuda" and not extra.get("smoke")
    presets = args.presets.split(",") + (["gpu"] if gpu else [])
    started = time.perf_counter()
    corpus = corpus_slice(args.corpus, args.tunes)
    emit({"bench": "corpus", "name": corpus.name, "tunes": len(corpus.tunes),
          "splits": {s: len(corpus.split(s)) for s in ("train", "val", "test")},
          "load_s": round(time.perf_counter() - started, 1),
          "torch_threads": torch.get_num_threads()})
    for kind in ("lstm", "transformer"):
        for preset in presets:
            emit(throughput(corpus, kind, preset, args.seconds, device))
    for kind in ("lstm", "transformer"):
        emit(time_to_target(corpus, kind, args.target_preset, args.target, args.limit, device))


if __name__ == "__main__":
    main()
