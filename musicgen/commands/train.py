"""`musicgen train`: train an LSTM or Transformer on a corpus, with a progress bar, resumable.

`-o CKPT` writes the best checkpoint as CKPT.safetensors + CKPT.json and keeps everything else (the
last checkpoint, the resume state, the metrics log, the loss plot) in the run folder CKPT.run/
(`musicgen.train.run_folder`), so the output folder holds only the model asked for.

Ctrl-C (or SIGTERM) stops at the next step after saving the last checkpoint and the resume state;
`--resume` with the same options continues. Under `torchrun --nproc_per_node=N` the same command
trains with DistributedDataParallel; only rank 0 shows the bar and writes files.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

__all__ = ["add_arguments", "run", "config_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", choices=("lstm", "transformer"), required=True)
    parser.add_argument("--corpus", default="folk", help="'folk' (default) or a folder of your tunes")
    parser.add_argument("--split-version", type=int, choices=(1, 2), default=1,
                        help="1: split by content (default); 2: by family of variants")
    parser.add_argument("--init", metavar="NAME|CKPT",
                        help="fine-tune this model (a name from `musicgen models` or a "
                             "checkpoint path) instead of a new model")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help="stop after this many minutes (and validate)")
    budget.add_argument("--epochs", type=int, help="passes over the training tunes (default 30)")
    parser.add_argument("--resume", action="store_true", help="continue the run saved at -o")
    parser.add_argument("--preset", default="cpu", help="model size: tiny, small, cpu (default), gpu")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        type=_model_field,
                        help="change one model size field of the preset, e.g. --set d_model=192 "
                             "--set dropout=0.2 (repeatable; `musicgen info` on a checkpoint "
                             "lists the fields)")
    parser.add_argument("--batch-size", type=int, default=32, help="sequences per step (default 32)")
    parser.add_argument("--batch-tokens", type=int, default=0,
                        help="also end a batch before it holds this many padded tokens (default: "
                             "no limit on a GPU; on a CPU 16,384 LSTM, 4,096 Transformer, the gpu "
                             "preset 2,048 and 1,024)")
    parser.add_argument("--lr", type=float,
                        help="peak learning rate (default: 3e-3 LSTM, 1e-3 Transformer)")
    parser.add_argument("--weight-decay", type=float, default=0.01,
                        help="AdamW weight decay on weight matrices (default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--patience", type=int, default=5,
                        help="epochs without improvement before stopping; 0 never (default 5)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--max-seq-len", type=int, help="crop tunes into windows of this many tokens")
    parser.add_argument("--save-every-steps", type=int, default=200,
                        help="also save checkpoint and resume state this often (default 200)")
    parser.add_argument("-o", "--output", required=True, metavar="CKPT",
                        help="checkpoint path: CKPT.safetensors + CKPT.json, and the run folder "
                             "CKPT.run/ (resume state, last checkpoint, metrics, loss plot)")


def config_from_args(args: argparse.Namespace) -> Any:
    """The TrainConfig the options describe."""
    from musicgen.train.config import TrainConfig

    epochs = args.epochs if args.epochs is not None else (100_000 if args.minutes else 30)
    return TrainConfig(
        model=args.model, preset=args.preset, overrides=dict(args.set),
        batch_size=args.batch_size, batch_tokens=args.batch_tokens, lr=args.lr, weight_decay=args.weight_decay,
        max_epochs=epochs, minutes=args.minutes, patience=args.patience, seed=args.seed,
        device=args.device, max_seq_len=args.max_seq_len, save_every_steps=args.save_every_steps,
    )


def _model_field(text: str) -> tuple[str, Any]:
    """'name=value' -> (name, value) with value read as an int, a float, true/false or text."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    raw = raw.strip()
    value: Any
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                value = raw
    return name, value


def run(args: argparse.Namespace) -> int:
    from musicgen.errors import Cancelled, MusicGenError, UsageError

    if args.init and args.set:
        raise UsageError("--set sizes a new model; --init keeps the size of the checkpoint it "
                         "fine-tunes, so use one or the other.")
    try:  # bad option values are bad usage (exit 2), found before the corpus loads
        config = config_from_args(args)
        if not args.init and not args.resume:
            from musicgen.models import model_config
            from musicgen.tokens import VOCAB

            model_config(config.model, VOCAB.size, config.preset, **config.overrides)
    except MusicGenError as exc:
        raise UsageError(str(exc)) from exc
    # Only now torch, music21 and tqdm load (2-3 s): a bad option above is refused at once.
    from tqdm import tqdm

    from musicgen.corpus import load_corpus
    from musicgen.train import train

    if not args.init:  # a fine-tune keeps its checkpoint's size; the preset sizes a new model
        from musicgen.train.config import fit_to_cpu, resolve_device

        config, fitted = fit_to_cpu(config, resolve_device(config.device).type == "cpu")
        if fitted and os.environ.get("RANK", "0") == "0":
            print(f"note: {fitted}", file=sys.stderr)
    from musicgen.train.memory import return_freed_memory

    return_freed_memory()  # activations of varying size otherwise pile up on the heap
    main_rank = os.environ.get("RANK", "0") == "0"
    corpus = load_corpus(args.corpus, split_version=args.split_version)
    # tqdm's own clock and rate would count steps of a schedule whose length a minutes budget
    # only fixes later; the message carries the run's elapsed and remaining time instead.
    bar = tqdm(total=1, desc=f"training {args.model}", disable=not main_rank, dynamic_ncols=True,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}")

    def show(done: float, total: float, message: str) -> None:
        bar.total, bar.n = max(total, 1e-9), min(done, total)
        bar.set_postfix_str(message, refresh=True)

    stop = _StopOnSignal()
    try:
        result = train(config, corpus, out_path=args.output, init_checkpoint=args.init,
                       resume=args.resume, on_progress=show, should_stop=stop)
    except Cancelled as exc:
        bar.close()
        print(f"musicgen: {exc}", file=sys.stderr)
        return 130
    finally:
        bar.close()
        stop.restore()
    if main_rank:
        print(f"{result.checkpoint}: validation {result.best_val_bits_per_note:.3f} bits/note after "
              f"{result.steps} steps, {result.epochs} epochs ({result.stop_reason}), "
              f"{result.wall_time_s / 60:.1f} min, {result.tokens_per_s:.0f} tokens/s, "
              f"padding {result.padding_fraction:.1%}")
    return 0


class _StopOnSignal:
    """should_stop that turns Ctrl-C and SIGTERM into a clean stop at the next step."""

    def __init__(self) -> None:
        self.requested = False
        self.previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self) -> bool:
        return self.requested

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
