"""The one background worker: runs any long musicgen call off the GUI thread.

Every long call in musicgen takes ``on_progress`` and ``should_stop`` keyword arguments
(DESIGN.md, boundary 6). `Worker.submit(fn, *args, **kwargs)` runs ``fn`` on a pool thread with
those two callbacks added and returns a `Job` whose signals fire on the GUI thread:

- ``progress(fraction, message)``: fraction in 0..1, or -1 when the call does not say how far it is;
- ``finished(result)``; ``failed(exception)``; ``cancelled()`` (the call raised `Cancelled`).

Progress is throttled (at most one signal per 50 ms) so a chatty call cannot flood the event loop.
A worker running Python between torch calls (the sampling loop) holds the GIL until the
interpreter's switch interval runs out each time the GUI thread asks for it: the first `Worker`
shortens that interval from 5 ms to 1 ms so the window's slots and timers wait less.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Qt, Signal, Slot

__all__ = ["Job", "Worker", "progress_to_fraction", "GIL_SWITCH_INTERVAL_S"]

_PROGRESS_INTERVAL_S = 0.05
GIL_SWITCH_INTERVAL_S = 0.001  # at most this long the GUI thread waits for a worker's GIL


def progress_to_fraction(*args: Any, **kwargs: Any) -> tuple[float, str]:
    """Read whatever a musicgen ``on_progress`` call passes as (fraction or -1, message).

    Accepted shapes: ``(fraction)``, ``(done, total)``, ``(done, total, message)``, ``(message)``,
    and keywords ``done=``/``total=``/``fraction=``/``message=``.
    """
    numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
    texts = [a for a in args if isinstance(a, str)]
    message = str(kwargs.get("message", texts[0] if texts else ""))
    if "fraction" in kwargs:
        numbers = [float(kwargs["fraction"])]
    elif "done" in kwargs and "total" in kwargs:
        numbers = [kwargs["done"], kwargs["total"]]
    fraction = -1.0
    if len(numbers) >= 2 and numbers[1]:
        fraction = float(numbers[0]) / float(numbers[1])
    elif len(numbers) == 1 and 0.0 <= float(numbers[0]) <= 1.0:
        fraction = float(numbers[0])
    return (min(max(fraction, 0.0), 1.0) if fraction >= 0 else -1.0), message


class Job(QObject):
    """One submitted call: its signals are delivered on the GUI thread."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    # Emitted from the pool thread; queued to `_deliver` on the GUI thread.
    _outcome = Signal(str, object)
    _progressed = Signal(float, str)

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, name: str) -> None:
        super().__init__()
        self.name = name
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._stop = threading.Event()
        self._last_progress = 0.0
        self.done = False
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self.progress, Qt.ConnectionType.QueuedConnection)

    def stop(self) -> None:
        """Ask the call to stop at its next ``should_stop`` check."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _on_progress(self, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        fraction, message = progress_to_fraction(*args, **kwargs)
        if now - self._last_progress >= _PROGRESS_INTERVAL_S or fraction >= 1.0:
            self._last_progress = now
            self._progressed.emit(fraction, message)

    def run_here(self) -> None:
        """Run the call on the current thread (the pool calls this)."""
        from musicgen.errors import Cancelled

        try:
            result = self._fn(
                *self._args, on_progress=self._on_progress, should_stop=self._stop.is_set,
                **self._kwargs,
            )
        except Cancelled:
            self._outcome.emit("cancelled", None)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported on the GUI thread
            self._outcome.emit("failed", exc)
        else:
            self._outcome.emit("cancelled" if self._stop.is_set() and result is None else "finished",
                               result)

    @Slot(str, object)
    def _deliver(self, kind: str, payload: object) -> None:
        self.done = True
        if kind == "finished":
            self.finished.emit(payload)
        elif kind == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(payload)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        self._job.run_here()


class Worker(QObject):
    """Submits calls to a private thread pool and keeps each `Job` alive until it has reported."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        if sys.getswitchinterval() > GIL_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._jobs: set[Job] = set()

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any) -> Job:
        """Run ``fn(*args, on_progress=..., should_stop=..., **kwargs)`` in the background."""
        job = Job(fn, args, kwargs, name or getattr(fn, "__name__", "job"))
        self._jobs.add(job)
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(lambda *_a, j=job: self._jobs.discard(j))
        self._pool.start(_Runnable(job))
        return job

    @property
    def active_jobs(self) -> list[Job]:
        return [job for job in self._jobs if not job.done]

    def stop_all(self, wait_ms: int = 5000) -> bool:
        """Ask every job to stop and wait for the pool; True when all threads ended in time."""
        for job in list(self._jobs):
            job.stop()
        return self._pool.waitForDone(wait_ms)
