"""The `musicgen` command line: parses arguments, runs one subcommand, turns errors into one line.

Each subcommand lives in `musicgen/commands/<name>.py` as `add_arguments(parser)` and `run(args)`;
they are imported only when used so `musicgen info` never pays for torch.
Exit status: 0 success, 1 a user-facing error (`musicgen: error: ...` on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from musicgen.errors import MusicGenError, UsageError

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = {
    "info": "show what a melody file holds (tunes, tracks, meter, key, notes, bars) or what a "
            "model checkpoint is",
    "generate": "continue a seed melody with a model and write the result",
    "prepare": "parse and cache a corpus (the folk collections or a folder of your tunes)",
    "train": "train an LSTM or Transformer on a corpus",
    "evaluate": "measure a checkpoint's bits per note and musical statistics on held-out tunes",
    "models": "list the model library: the shipped models and your own",
}


# Commands that never import torch: their NumPy needs one BLAS thread (the engine's steps are too
# small to split), and OpenBLAS starting a thread per core doubled `import numpy` (0.2 -> 0.4 s).
_ONE_BLAS_THREAD = ("info", "generate")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``only`` one command's arguments (the others listed by name and
    help, their modules not imported: the command a user runs pays for its own imports only)."""
    parser = argparse.ArgumentParser(prog="musicgen", description="Continue folk melodies.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            _module(name).add_arguments(sp)
    return parser


def _module(name: str):
    return importlib.import_module(f"musicgen.commands.{name}")


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command = words[0] if words and words[0] in COMMANDS else None
    if command in _ONE_BLAS_THREAD and "numpy" not in sys.modules:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    parser = build_parser(command)
    args = parser.parse_args(words)
    try:
        code = _module(args.command).run(args)
    except UsageError as exc:  # a bad option value: bad usage, as argparse's own errors
        print(f"musicgen: error: {exc}", file=sys.stderr)
        return 2
    except MusicGenError as exc:
        print(f"musicgen: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("musicgen: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file we could not write or read outside the typed paths
        print(f"musicgen: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
