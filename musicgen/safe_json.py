"""JSON from files musicgen did not necessarily write, read with limits on size, depth and numbers.

Python's `json` turns a 100,000-deep nest into `RecursionError` and a 5,000-digit integer into
`ValueError` (past `sys.get_int_max_str_digits`), and reads a file of any size into memory. A
checkpoint's JSON or a model folder's stray file is untrusted, so `read_json` checks the size
before reading, the nesting depth with one regular-expression pass before parsing (strings are
skipped, so brackets inside them do not count), and every number's length while parsing; each
refusal is a `JSONLimitError` (a `ValueError`) whose message says what was too big.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

__all__ = ["MAX_JSON_BYTES", "MAX_DEPTH", "MAX_NUMBER_CHARS", "JSONLimitError", "loads", "read_json"]

MAX_JSON_BYTES = 32 * 1024 * 1024  # a checkpoint's JSON is ~10 kB; a resume state's ~100 kB
MAX_DEPTH = 64  # ours nest 5 deep
MAX_NUMBER_CHARS = 64  # a float's repr is at most 24 characters; 2**63 has 19 digits
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class JSONLimitError(ValueError):
    """A JSON text is too large, too deeply nested, or holds a number too long to be data."""


def _depth_ok(text: str, max_depth: int) -> None:
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than its count of openings
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise JSONLimitError(f"it nests deeper than {max_depth} levels")
        elif token in ("]", "}"):
            depth -= 1


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONLimitError(f"it holds a number {len(text)} digits long")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONLimitError(f"it holds a number {len(text)} characters long")
    value = float(text)
    if not math.isfinite(value):
        raise JSONLimitError(f"it holds a number too large to represent ({text[:20]})")
    return value


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` with the depth and number limits (NaN and Infinity literals are kept: our own
    metrics may hold them); raises `JSONLimitError` or `json.JSONDecodeError`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    _depth_ok(text, max_depth)
    try:
        return json.loads(text, parse_int=_int, parse_float=_float)
    except RecursionError as exc:  # a limit below ours (a small thread stack): same answer
        raise JSONLimitError("it nests too deeply") from exc


def read_json(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES,
              max_depth: int = MAX_DEPTH) -> Any:
    """The JSON in a regular file of at most `max_bytes`; raises `OSError` (also for a folder or
    a special file), `UnicodeDecodeError`, `JSONLimitError` or `json.JSONDecodeError`."""
    import stat

    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError(21, "not a regular file", str(path))
    if info.st_size > max_bytes:
        raise JSONLimitError(f"it is {info.st_size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB "
                             "limit for a JSON file")
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    return loads(data, max_depth=max_depth)
