"""Benchmark fine-tuning on a tune book the shipped models never saw (issue 13's targets).

    .venv/bin/python benchmarks/bench_finetune.py --kind lstm [--minutes 5] [--tunes 300]
    .venv/bin/python benchmarks/bench_finetune.py --kind lstm --lr-sweep 3e-4,1e-3,3e-3 --minutes 1.5
    .venv/bin/python benchmarks/bench_finetune.py --kind lstm --sizes 3,5,10,20,40 --minutes 1
    .venv/bin/python benchmarks/bench_finetune.py --smoke

The tune book: music21 ships no ABC tune book outside the folk collections the models trained on
(`musicgen.corpus.FOLK_COLLECTIONS` holds all of its folk ABC; the only other ABC files are eight
polyphonic Josquin pieces). So the book is made of the tunes of O'Neill's 1850 and Ryan's Mammoth
Collection (Irish tune books) that lie in the validation and test splits of the prepared folk corpus
the shipped models record (fingerprint d8160ce9e90e93b3): 307 tunes no shipped model trained on.
Their ABC text is copied as written into one file, so the app's whole path runs: reading the book,
the corpus report, the hold-out, the copy guard, training, the card.

The default run is `gui.train_tasks.run_fine_tune` (what the app's dialog calls: it trains in a
child process and relays its events) on a worker thread of the app's `gui.workers.Worker`, with a
5 ms heartbeat timer on the GUI thread measuring its longest stall; peak memory is the app process's
peak resident set plus the training process's (an upper bound on the two together). Targets: held-out bits per note at least
10% lower after a 5-minute fine-tune of the LSTM (before and after on the same held-out tunes),
peak memory <= 1.5 GB, GUI stall <= 50 ms; the Transformer reported the same way.

`--sizes` fine-tunes on the first N tunes of the book for each N and scores base and tuned model on
the same 60 other tunes of the book (and the copy share): where a fine-tune starts to pay is the
tune count the dialog recommends. `--lr-sweep` measures the fine-tuning learning rate.
`--folder DIR` fine-tunes on a folder of tunes instead: with a real tune book the models never saw
(300 tunes), `--folder BOOK --minutes 5` is the measurement issue 13 asks for.
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BOOK_COLLECTIONS = ("oneills1850", "ryansMammoth")
SHIPPED_FINGERPRINT = "d8160ce9e90e93b3"


def unseen_book_tunes(limit: int) -> list[str]:
    """The ABC text of up to `limit` Irish tunes no shipped model trained on (module docstring)."""
    from musicgen.corpus.codec import read_gzip_json
    from musicgen.corpus.prepare import load_corpus, prepared_path
    from musicgen.corpus.sources import folk_sources
    from musicgen.io.abc_reader import split_tune_book

    path = prepared_path("folk")
    if not path.exists():
        load_corpus("folk")  # prepares it (minutes to tens of minutes, once)
    payload = read_gzip_json(path)
    if payload["fingerprint"] != SHIPPED_FINGERPRINT:
        print(f"warning: the prepared folk corpus ({payload['fingerprint']}) is not the one the "
              "shipped models trained on; its held-out tunes may not be unseen", file=sys.stderr)
    wanted = sorted(t["source"] for t in payload["tunes"]
                    if t["collection"] in BOOK_COLLECTIONS and t["split"] in ("val", "test"))
    files = {s.relative: s.path for s in folk_sources()}
    books: dict[str, list] = {}
    texts = []
    for source in wanted[:limit]:
        relative, index = source.rsplit("#", 1)
        if relative not in books:
            books[relative] = split_tune_book(files[relative].read_text(encoding="latin-1"))
        texts.append(books[relative][int(index) - 1].text)
    return texts


def write_book(folder: Path, texts: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n\n".join(f"X:{i + 1}\n" + "\n".join(line for line in text.strip().splitlines()
                                                  if line.strip() and not line.startswith("X:"))
                       for i, text in enumerate(texts))
    (folder / "irish-tune-book.abc").write_text(body + "\n", encoding="utf-8")
    return folder


def chorale_book(folder: Path, limit: int) -> Path:
    """A folder of the first `limit` Bach chorales music21 ships (MusicXML; the app reads their
    top line): hymn melodies in a style far from the folk corpus."""
    import shutil

    from musicgen.corpus.sources import _music21_corpus_root

    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted((_music21_corpus_root() / "bach").glob("bwv*.mxl"))[:limit]:
        shutil.copy(path, folder / path.name)
    return folder


def book_in_child(tmp: Path, limit: int) -> list[str]:
    """The book's tunes, extracted by a child process (reading the prepared folk corpus takes
    ~1 GB that would otherwise count in this process's peak memory)."""
    import subprocess

    folder = tmp / "book-source"
    subprocess.run([sys.executable, __file__, "--write-book", str(folder), "--tunes", str(limit)],
                   check=True)
    text = (folder / "irish-tune-book.abc").read_text(encoding="utf-8")
    return [t for t in text.split("\n\n") if t.strip()]


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process, or (RUSAGE_CHILDREN) of the largest child that
    ended: the app's training process."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def machine() -> dict:
    return {"machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def run_in_worker(fn, *args, **kwargs) -> tuple[object, float, int]:
    """fn(*args, **kwargs) on the app's Worker; (result, longest GUI-thread stall in s, beats)."""
    from PySide6.QtWidgets import QApplication

    from benchmarks.bench_app import Heartbeat
    from gui.workers import Worker

    app = QApplication.instance() or QApplication([])
    worker, heart, outcome = Worker(), Heartbeat(), []
    heart.timer.start()
    job = worker.submit(fn, *args, **kwargs)
    job.finished.connect(outcome.append)
    job.failed.connect(lambda exc: outcome.append(exc))
    while not outcome:
        app.processEvents()
        time.sleep(0.001)
    heart.timer.stop()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0], heart.max_gap, heart.ticks


def bench_fine_tune(args: argparse.Namespace, folder: Path, models: Path) -> dict:
    """The app's own task (`gui.train_tasks.run_fine_tune`) on the app's worker, as the dialog
    runs it, after the base model was loaded (the app loads its model at start, so torch's
    import is not part of training)."""
    import gc

    import musicgen.pipeline  # noqa: F401 - the app loaded a model at start (the engine)
    from gui.train_tasks import TrainRelay, read_tunes, run_fine_tune
    from musicgen.library import resolve_checkpoint
    from musicgen.train.finetune import FineTunePlan
    from musicgen.userdirs import models_dir

    gc.freeze()
    base = args.base or args.kind
    plan = FineTunePlan(name=f"bench-{args.kind}", corpus=str(folder),
                        base=str(resolve_checkpoint(base)), minutes=args.minutes,
                        epochs=args.epochs, lr=args.lr, patience=args.patience,
                        **({"batch_size": args.batch_size} if args.batch_size else {}))
    os.environ["MUSICGEN_DATA_DIR"] = str(models / "data")  # the models folder: in tmp
    models_dir().mkdir(parents=True, exist_ok=True)
    report, read_stall, _ = run_in_worker(read_tunes, [str(folder)])  # the dialog's report
    start = time.perf_counter()
    result, stall, beats = run_in_worker(run_fine_tune, plan.to_dict(), TrainRelay(), False,
                                         report.corpus)
    s = result.summary
    before, after = s["held_out"]["bits_per_note_before"], s["held_out"]["bits_per_note_after"]
    change = (after - before) / before
    return {"bench": "fine_tune", "book": args.book, "kind": args.kind, "base": plan.base,
            "minutes": args.minutes,
            "epochs_asked": args.epochs, "lr": plan.train_config(args.kind).peak_lr,
            "batch_size": plan.batch_size,
            "tunes_found": s["corpus"]["found"], "tunes_kept": s["corpus"]["kept"],
            "held_out_tunes": s["held_out"]["tunes"], "held_out_notes": s["held_out"]["notes"],
            "bits_per_note_before": round(before, 4), "bits_per_note_after": round(after, 4),
            "change": round(change, 4), "target_change": -0.10, "met": change <= -0.10,
            "passes": s["training"]["epochs"], "steps": s["training"]["steps"],
            "stop_reason": result.stop_reason, "copy_reference": s["copies"]["reference_share"],
            "copy_kept": s["copies"]["kept_share"], "copy_rose": s["copies"]["rose"],
            "wall_s": round(time.perf_counter() - start, 1),
            "peak_rss_mb": round(peak_rss_mb() + peak_rss_mb(resource.RUSAGE_CHILDREN)),
            "app_peak_rss_mb": round(peak_rss_mb()),
            "training_process_peak_rss_mb": round(peak_rss_mb(resource.RUSAGE_CHILDREN)),
            "target_rss_mb": 1536,
            "gui_max_stall_ms": round(stall * 1000, 1), "heartbeats": beats,
            "reading_max_stall_ms": round(read_stall * 1000, 1),
            "target_stall_ms": 50, **machine(), "smoke": args.smoke}


def score(checkpoint: str | Path, melodies: list) -> float:
    """Bits per note of a checkpoint on melodies (the evaluation's scorer)."""
    from musicgen.checkpoint import load_checkpoint
    from musicgen.evaluate.likelihood import score_with_model
    from musicgen.library import resolve_checkpoint
    from musicgen.tokens import VOCAB

    model, _ = load_checkpoint(resolve_checkpoint(checkpoint), expected_tokens=VOCAB.tokens)
    ids = [VOCAB.encode(m) for m in melodies]
    return score_with_model(model, ids).bits_per_note


def bench_sizes(args: argparse.Namespace, texts: list[str], tmp: Path) -> list[dict]:
    """Fine-tune on the first N tunes for each N; score on the same 60 other tunes."""
    from musicgen.corpus import load_corpus
    from musicgen.train.finetune import FineTunePlan, fine_tune

    evaluation = load_corpus(write_book(tmp / "eval", texts[-60:]))
    eval_melodies = [t.melody for t in evaluation.tunes]
    base = args.base or args.kind
    rows = [{"bench": "fine_tune_size", "tunes": 0, "eval_tunes": len(eval_melodies),
             "eval_bits_per_note": round(score(base, eval_melodies), 4), **machine(),
             "smoke": args.smoke}]
    print(json.dumps(rows[0]), flush=True)
    for n in args.sizes:
        folder = write_book(tmp / f"size-{n}", texts[:n])
        plan = FineTunePlan(name=f"size-{n}", corpus=str(folder), base=base, minutes=args.minutes,
                            epochs=args.epochs, lr=args.lr, patience=args.patience)
        result = fine_tune(plan, out_stem=tmp / "models" / plan.name, overwrite=True)
        s = result.summary
        rows.append({"bench": "fine_tune_size", "tunes": n, "eval_tunes": len(eval_melodies),
                     "eval_bits_per_note": round(score(result.checkpoint, eval_melodies), 4),
                     "held_out_before": s["held_out"]["bits_per_note_before"],
                     "held_out_after": s["held_out"]["bits_per_note_after"],
                     "kept_epoch": s["copies"]["kept_epoch"], "passes": s["training"]["epochs"],
                     "copy_reference": s["copies"]["reference_share"],
                     "copy_per_pass": [c["share"] for c in s["copies"]["checks"]],
                     "copy_rose": s["copies"]["rose"], **machine(), "smoke": args.smoke})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_lr(args: argparse.Namespace, folder: Path, tmp: Path) -> None:
    for lr in args.lr_sweep:
        args.lr = lr
        row = bench_fine_tune(args, folder, tmp / f"lr-{lr:g}")
        print(json.dumps({**row, "bench": "fine_tune_lr"}), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("lstm", "transformer"), default="lstm")
    parser.add_argument("--base", help="the model to fine-tune (default: the shipped one of --kind)")
    parser.add_argument("--tunes", type=int, default=300)
    parser.add_argument("--book", choices=("irish", "bach"), default="irish",
                        help="irish (default): the unseen Irish tunes; bach: the chorale melodies "
                             "music21 ships as MusicXML (a style the folk models never saw)")
    parser.add_argument("--folder", metavar="DIR",
                        help="fine-tune on this folder of tunes instead (a real tune book the "
                             "shipped models never saw: the measurement issue 13 asks for)")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--epochs", type=int, help="passes instead of a time budget")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch-size", type=int, help="the most tunes a batch (default: the plan's)")
    parser.add_argument("--patience", type=int, default=0,
                        help="0 (default): use the whole budget; the best pass is kept anyway")
    parser.add_argument("--lr-sweep", type=lambda t: [float(x) for x in t.split(",")])
    parser.add_argument("--sizes", type=lambda t: [int(x) for x in t.split(",")])
    parser.add_argument("--write-book", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: a tiny model on a written corpus, one pass each")
    return parser.parse_args()


def smoke(args: argparse.Namespace, tmp: Path) -> None:
    from tests.support import isolated_smoke_corpus

    from benchmarks.bench_app import _tiny_checkpoint

    folder = isolated_smoke_corpus(tmp, 30)
    args.base = str(_tiny_checkpoint(tmp, args.kind))
    args.minutes, args.epochs = None, 1
    print(json.dumps(bench_fine_tune(args, folder, tmp / "models")), flush=True)
    texts = [t for t in (folder / "book.abc").read_text().split("\n\n") if t.strip()]
    args.sizes = [5]
    bench_sizes(args, texts * 3, tmp)


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-finetune-"))
    if args.smoke:
        smoke(args, tmp)
        return
    if args.write_book:  # (a child process: the folk corpus it reads stays out of the peak)
        write_book(Path(args.write_book), unseen_book_tunes(args.tunes))
        return
    if args.folder:
        args.book = f"folder {Path(args.folder).name}"
        print(json.dumps(bench_fine_tune(args, Path(args.folder), tmp / "models")), flush=True)
        return
    if args.book == "bach":
        print(json.dumps(bench_fine_tune(args, chorale_book(tmp / "bach", args.tunes),
                                         tmp / "models")), flush=True)
        return
    texts = book_in_child(tmp, args.tunes if not args.sizes else 10_000)
    if args.sizes:
        bench_sizes(args, texts, tmp)
    elif args.lr_sweep:
        bench_lr(args, write_book(tmp / "book", texts), tmp)
    else:
        folder = write_book(tmp / "book", texts)
        print(json.dumps(bench_fine_tune(args, folder, tmp / "models")), flush=True)


if __name__ == "__main__":
    main()
