"""`musicgen info`: not built yet (see the open issues)."""

from __future__ import annotations

import argparse

from musicgen.errors import MusicGenError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise MusicGenError("'musicgen info' is not available in this build yet")
