"""Engrave our ABC export of many real tunes with abcm2ps and count the tunes it warns about.

    .venv/bin/python scripts/check_abcm2ps.py [--files 14] [GLOB]

GLOB defaults to every ABC file of music21's corpus (sorted; the first --files of them). Each tune
is read, its second half marked as a continuation, written by `musicgen.io.abc_writer` and given
to abcm2ps; prints one JSON line: tunes, tunes with a warning or error, and the first complaints.
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    import music21

    from musicgen.io import read_tune_book
    from musicgen.io.abc_writer import melody_to_abc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pattern", nargs="?", default=str(Path(music21.__file__).parent / "corpus" / "*" / "*.abc"))
    parser.add_argument("--files", type=int, default=14)
    args = parser.parse_args()
    tunes, complaints = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tune.abc"
        for name in sorted(glob.glob(args.pattern))[: args.files]:
            for result in read_tune_book(name):
                if not result.ok:
                    continue
                melody = result.melody
                path.write_text(melody_to_abc(melody.replace(seed_end_ticks=melody.duration_ticks // 2)))
                out = subprocess.run(["abcm2ps", "-O", str(Path(tmp) / "tune.ps"), str(path)],
                                     capture_output=True, text=True, timeout=60)
                said = [ln for ln in (out.stdout + out.stderr).splitlines()
                        if "warning" in ln.lower() or "error" in ln.lower()]
                tunes += 1
                if said or out.returncode:
                    complaints.append(f"{Path(name).name}: {melody.title}: {said[:2]}")
    print(json.dumps({"tunes": tunes, "tunes_with_complaints": len(complaints),
                      "first": complaints[:5]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
