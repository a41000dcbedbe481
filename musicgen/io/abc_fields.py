"""ABC header fields the reader adds or keeps: the standard's defaults, the fields a tune book
keeps (R:, C:, O:...), and which line of a tune a parser could not read."""

from __future__ import annotations

import re
from typing import Callable

from musicgen.io.types import ReportBuilder

__all__ = ["KEPT_FIELDS", "header_fields", "with_default_fields", "first_bad_line"]

KEPT_FIELDS = {"R": "rhythm", "C": "composer", "O": "origin", "S": "source", "Z": "transcription",
               "B": "book", "A": "area", "D": "discography", "H": "history", "N": "notes"}
FIELD_OF = {name: letter for letter, name in KEPT_FIELDS.items()}


def header_fields(text: str) -> list[tuple[str, str]]:
    """Header fields a tune book keeps (R: reel, C: composer, O: origin...) as metadata pairs,
    which every writer carries (the ABC writer as the same fields)."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if line.startswith("K:"):
            break
        if len(line) > 2 and line[1] == ":" and line[0] in KEPT_FIELDS and line[2:].strip():
            pair = (KEPT_FIELDS[line[0]], " ".join(line[2:].split())[:200])
            if pair not in out:
                out.append(pair)
    return out


def with_default_fields(text: str, report: ReportBuilder) -> str:
    """The tune with the standard's defaults made explicit before K:: no M: is free meter (read in
    4/4 bars, reported), no L: is 1/8 (1/16 under a meter shorter than 3/4)."""
    key_line = re.search(r"^K:", text, re.MULTILINE)
    if key_line is None:
        return text
    head = text[: key_line.start()]
    meter = re.search(r"^M:[ \t]*(\S*)", head, re.MULTILINE)
    added = []
    if meter is None or meter.group(1).lower() in ("none", ""):
        added.append("M:4/4")
        report.warn("it has no meter (M:), so its bars are free; it is read in 4/4 bars")
    if not re.search(r"^L:", head, re.MULTILINE):
        short = meter is not None and _meter_value(meter.group(1)) < 0.75
        added.append("L:1/16" if short else "L:1/8")
    if not added:
        return text
    return head + "".join(f"{field}\n" for field in added) + text[key_line.start():]


def _meter_value(text: str) -> float:
    if text in ("C", "C|"):
        return 1.0
    num, _, den = text.partition("/")
    try:
        return int(num) / int(den)
    except (ValueError, ZeroDivisionError):
        return 1.0


def first_bad_line(text: str, parses: Callable[[str], bool]) -> tuple[int, str] | None:
    """(1-based line number in `text`, the line) of the first music line after which `parses`
    fails, by bisection over prefixes of the body; None when no single line is to blame."""
    lines = text.split("\n")
    key_at = next((i for i, ln in enumerate(lines) if ln.startswith("K:")), None)
    if key_at is None or parses(text):
        return None
    low, high = key_at + 1, len(lines)  # the prefix up to `low` parses; up to `high` fails
    if not parses("\n".join(lines[:low]) + "\n"):
        return None
    while high - low > 1:
        mid = (low + high) // 2
        if parses("\n".join(lines[:mid]) + "\n"):
            low = mid
        else:
            high = mid
    return high, lines[high - 1]
