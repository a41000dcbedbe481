"""Build or check the engines' compiled step: ``python -m musicgen.engine.build [--optional]``.

``make venv`` runs it with ``--optional``: without a C compiler, or where the build fails, the
engines step with NumPy (slower, same answers), and the reason is printed.
"""

from __future__ import annotations

import argparse
import sys

from musicgen.engine.native import build, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musicgen.engine.build",
                                     description="Compile the engines' step (native.c) here.")
    parser.add_argument("--optional", action="store_true",
                        help="a failed build is reported, not an error (the engines use NumPy)")
    args = parser.parse_args(argv)
    try:
        print(f"built {build()}")
    except RuntimeError as exc:
        print(f"musicgen: compiled step not built ({exc}); the engines step with NumPy",
              file=sys.stderr)
        return 0 if args.optional else 1
    print(status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
