"""How the app turns failures into words: user errors, unexpected exceptions, the crash log.

A `MusicGenError` already carries one sentence a user can act on and is shown as it is. Anything
else is a bug: it is written with its traceback to ``<user data dir>/logs/gui-errors.log``
(platformdirs) and reported as a short sentence naming that file, and the app stays up.
`install_excepthook` routes exceptions raised in Qt slots (which would otherwise abort) the same way.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Callable

__all__ = ["crash_log_path", "log_exception", "describe_exception", "install_excepthook"]


def crash_log_path() -> Path:
    """Where unexpected exceptions are logged (created on first use)."""
    from musicgen.userdirs import log_dir

    return log_dir() / "gui-errors.log"


def log_exception(exc: BaseException) -> Path | None:
    """Append the exception and its traceback to the crash log; its path, or None if unwritable."""
    path = crash_log_path()
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp} pid {os.getpid()}\n{text}\n")
    except OSError:
        return None
    return path


def describe_exception(exc: BaseException, doing: str = "") -> str:
    """Plain words for the user; unexpected exceptions are logged first."""
    from musicgen.errors import MusicGenError

    if isinstance(exc, MusicGenError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return f"Not enough memory{' for ' + doing if doing else ''}; try fewer bars or variations."
    if isinstance(exc, OSError) and exc.filename:
        reason = exc.strerror or str(exc)
        return f"Cannot use {exc.filename}: {reason.rstrip('.').lower()}."
    log = log_exception(exc)
    where = f" Details are in {log}." if log else ""
    what = f" while {doing}" if doing else ""
    return f"Something unexpected went wrong{what} ({type(exc).__name__}: {exc}).{where}"


def install_excepthook(report: Callable[[str], None]) -> Callable[..., None]:
    """Route uncaught exceptions (e.g. raised in a Qt slot) to `report`; returns the old hook."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        try:
            report(describe_exception(exc))
        except Exception:  # noqa: BLE001 - the reporter itself failed: fall back to stderr
            previous(kind, exc, tb)

    sys.excepthook = hook
    return previous
