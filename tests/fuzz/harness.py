"""One fuzz input through the public reader, in a child process under time and memory limits.

`read_outcome(fmt, data, folder)` writes the input as ``fuzz<suffix>``, reads it with
`musicgen.io.read_melody_with_report` inside `run_bounded` (so sniffing, every parser and the
conversion to `Melody` all run in the child), and sorts the result:

- ``melody``: a `Melody` with notes came back;
- ``seed_error``: a `SeedError` whose message is one sentence naming the file;
- ``too_complex_time`` / ``too_complex_memory``: a budget stopped the read (a `TooComplexError`);
- failures: ``foreign`` (any other exception, or a reader bug caught by the child),
  ``bad_sentence`` (a SeedError that is no sentence or does not name the file), ``crash`` (the
  child died), ``hang`` (the call outlived the budget's wall-clock backstop by `HANG_SLACK_S`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from musicgen.errors import MusicGenError, SeedError
from musicgen.io.bounded import WALL_FACTOR, ReaderBug, ReadBudget, TooComplexError, run_bounded
from tests.fuzz.seeds import SUFFIX

__all__ = ["FAILURES", "FUZZ_BUDGET", "Outcome", "read_outcome", "sentence_problem"]

FUZZ_BUDGET = ReadBudget(seconds=4.0, memory_mb=512)
HANG_SLACK_S = 3.0  # a busy shared machine may be slow to reap a killed child
FAILURES = ("foreign", "bad_sentence", "crash", "hang")
# A message that ends on an exception's type name in parentheses is no sentence for a user.
_TYPE_NAME_END = re.compile(r"\((\w+(Error|Exception|Warning)|MemoryError)\)\.?$")
_INTERNALS = re.compile(r"<music21|Traceback|sys\.|NoneType|object at 0x|index out of range")


@dataclass(frozen=True)
class Outcome:
    """How one input ended: `kind` (see the module docstring) and the message or detail."""

    kind: str
    detail: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


def sentence_problem(message: str, file_name: str) -> str | None:
    """Why `message` is not one sentence naming `file_name` in a user's words, or None."""
    if file_name not in message:
        return "does not name the file"
    if "\n" in message:
        return "spans several lines"
    if len(message) > 400:
        return "is over 400 characters long"
    if not message.rstrip().endswith((".", "!", "?")):
        return "does not end like a sentence"
    if _TYPE_NAME_END.search(message):
        return "ends on an exception type instead of words"
    if _INTERNALS.search(message):
        return "shows the program's internals"
    return None


def _summarise(path: str) -> tuple[str, int]:
    """Runs in the child: read the file, return a small summary (not the whole Melody)."""
    import os

    from musicgen.io import read_melody_with_report

    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # music21's warnings would flood the fuzz log
    melody, _report = read_melody_with_report(path)
    return type(melody).__name__, melody.note_count


def read_outcome(fmt: str, data: bytes, folder: Path, budget: ReadBudget = FUZZ_BUDGET) -> Outcome:
    """Write `data` as a file of `fmt` in `folder`, read it in a bounded child, sort the result."""
    path = folder / f"fuzz{SUFFIX[fmt]}"
    path.write_bytes(data)
    start = time.monotonic()
    try:
        kind, notes = run_bounded(path.name, _summarise, str(path), budget=budget)
        outcome = Outcome("melody" if kind == "Melody" and notes > 0 else "foreign",
                          f"{kind} with {notes} notes")
    except TooComplexError as exc:
        outcome = Outcome("crash" if exc.limit == "crash" else f"too_complex_{exc.limit}", str(exc))
    except SeedError as exc:
        if isinstance(exc.__cause__, ReaderBug):
            outcome = Outcome("foreign", f"{exc.__cause__}\n{exc.__cause__.trace}")
        else:
            problem = sentence_problem(str(exc), path.name)
            outcome = Outcome("bad_sentence" if problem else "seed_error",
                              f"{problem}: {exc}" if problem else str(exc))
    except MusicGenError as exc:  # another project error: right family, wrong type for a seed
        outcome = Outcome("foreign", f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - the parent's part (bounded itself) failed
        outcome = Outcome("foreign", f"{type(exc).__name__}: {exc}")
    seconds = time.monotonic() - start
    if seconds > budget.seconds * WALL_FACTOR + 2 + HANG_SLACK_S:  # past the wall-clock backstop
        outcome = Outcome("hang", f"{seconds:.1f} s: {outcome.kind}: {outcome.detail}")
    return Outcome(outcome.kind, outcome.detail, seconds)
