"""The one long-call contract: ``on_progress(done, total, message)`` and ``should_stop()``.

Every long call in musicgen (prepare, train, evaluate, load_generator, continue_melody, render,
reading a tune book) takes these two keyword arguments, both optional:

- ``on_progress(done, total, message)``: ``done`` out of ``total`` units of work (steps, tunes,
  seconds of a time budget...), and a short message a person can read. ``total`` 0 means the call
  cannot tell how far it is. Always three positional arguments, so a relay passes them on unchanged.
- ``should_stop()``: True when the caller wants the call to end; the call then raises `Cancelled`
  (or returns what it has, where that is documented) at its next check.
"""

from __future__ import annotations

from typing import Callable, Protocol

from musicgen.errors import Cancelled

__all__ = ["ProgressFn", "StopFn", "report", "check_stop", "fraction_of", "format_duration"]


class ProgressFn(Protocol):
    def __call__(self, done: float, total: float, message: str) -> None: ...


StopFn = Callable[[], bool]


def report(on_progress: ProgressFn | None, done: float, total: float, message: str = "") -> None:
    """Call ``on_progress`` when there is one (the one place that spells the call)."""
    if on_progress is not None:
        on_progress(done, total, message)


def check_stop(should_stop: StopFn | None, what: str) -> None:
    """Raise `Cancelled` ("<what> was stopped") when the caller asked to stop."""
    if should_stop is not None and should_stop():
        raise Cancelled(f"{what} was stopped")


def fraction_of(done: float, total: float) -> float:
    """Share done in 0..1, or -1 when ``total`` is 0 (unknown)."""
    if not total:
        return -1.0
    return min(1.0, max(0.0, float(done) / float(total)))


def format_duration(seconds: float) -> str:
    """'0:42', '12:05', '1:02:03': how a clock shows elapsed or remaining time."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
