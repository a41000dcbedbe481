"""Run musicgen with every fsync announced and held, so a test can SIGKILL it mid-write.

    python -m tests.hardening.write_hook MARKER HOLD_S cli ARGS...        # `musicgen ARGS`
    python -m tests.hardening.write_hook MARKER HOLD_S app-export SEED DIR  # the app's exports

Every `os.fsync` (the atomic writer calls it once the temporary file holds its data, and again on
the folder after the rename) first appends a line to MARKER, then waits HOLD_S seconds: a test
that sees the line and kills the process group lands inside the write, where a non-atomic writer
would leave a torn file. ``app-export`` runs the app's export task (`gui.export_tasks.write_plan`,
what the export dialog runs in its worker) in a loop over MIDI, ABC, MusicXML and WAV, alternating
two melodies, until it is killed.

`run_and_kill` is the test side: start, wait for a moment (random, or the Nth write), kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPORARY_PATTERNS = ("*.tmp", "*.pending-*")


def _announce_fsyncs(marker: str, hold_s: float) -> None:
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    real_fsync = os.fsync

    def announced(fileno: int) -> None:
        os.write(fd, b"w\n")
        time.sleep(hold_s)
        real_fsync(fileno)

    os.fsync = announced


def _app_exports(seed: str, folder: str) -> None:
    from gui.export_tasks import write_plan
    from musicgen.io import read_melody

    melody = read_melody(seed)
    other = melody.transposed(2).replace(title=melody.title + " (up)")
    out = Path(folder)
    for turn in range(10**9):
        chosen = (melody, other)[turn % 2]
        write_plan([(out / f"tune{suffix}", chosen) for suffix in (".mid", ".abc", ".musicxml",
                                                                   ".wav")])


def main(argv: list[str]) -> int:
    marker, hold, mode, *rest = argv
    _announce_fsyncs(marker, float(hold))
    if mode == "cli":
        from musicgen.cli import main as cli

        return cli(rest)
    _app_exports(*rest)
    return 0


def run_and_kill(args: list[str], env: dict[str, str], marker: Path, rng: random.Random, *,
                 at_write: int | None = None, after_first_write_s: float = 0.0,
                 hold_s: float = 0.03, patience_s: float = 120.0) -> str:
    """Start ``write_hook MARKER HOLD ARGS``; SIGKILL its process group at the `at_write`-th
    announced write, or `after_first_write_s` after the first one. What happened, in words."""
    marker.write_bytes(b"")
    log = marker.with_suffix(".log")
    with open(log, "ab") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "tests.hardening.write_hook", str(marker),
                                 str(hold_s), *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True)
    deadline = time.monotonic() + patience_s
    first_write = None
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return f"finished (exit {proc.returncode}) before the kill"
            writes = marker.read_bytes().count(b"\n")
            now = time.monotonic()
            if writes and first_write is None:
                first_write = now
            if at_write is not None and writes >= at_write:
                os.killpg(proc.pid, signal.SIGKILL)
                return f"killed inside write {writes}"
            if at_write is None and first_write is not None and now - first_write >= after_first_write_s:
                os.killpg(proc.pid, signal.SIGKILL)
                return f"killed {now - first_write:.2f} s after the first write (write {writes})"
            time.sleep(0.002)
        raise AssertionError(f"{args[:2]} neither wrote nor ended in {patience_s} s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def temporaries(folder: Path) -> list[Path]:
    """Temporary files the atomic writers leave when killed, anywhere under `folder`."""
    return sorted(p for pattern in TEMPORARY_PATTERNS for p in folder.rglob(pattern))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
