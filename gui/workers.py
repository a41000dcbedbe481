"""The one background worker: runs any long musicgen call off the GUI thread.

Every long call in musicgen takes ``on_progress`` and ``should_stop`` keyword arguments
(DESIGN.md, boundary 6; the contract is `musicgen.progress`). `Worker.submit(fn, *args, **kwargs)`
runs ``fn`` on a pool thread with those two callbacks added and returns a `Job` whose signals fire
on the GUI thread:

- ``progress(done, total, message)``: what the call reported, relayed unchanged (``total`` 0: the
  call cannot tell how far it is);
- ``finished(result)``; ``failed(exception)``; ``cancelled()`` (the call raised `Cancelled`).

Progress is throttled (at most one signal per 50 ms) so a chatty call cannot flood the event loop.
Lifetimes: the pool thread never holds a `Job` (reports travel as queued signals of the worker,
keyed by job number); the worker holds a job until it has reported, and the job then disconnects
its slots, so a finished, failed or cancelled job is freed once its caller lets go of it.
A worker running Python between torch calls (the sampling loop) holds the GIL until the
interpreter's switch interval runs out each time the GUI thread asks for it: the first `Worker`
shortens that interval from 5 ms to 1 ms so the window's slots and timers wait less.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SIGNAL, QObject, QRunnable, Qt, QThreadPool, Signal, Slot

__all__ = ["GIL_SWITCH_INTERVAL_S", "Job", "Worker"]

_PROGRESS_INTERVAL_S = 0.05
GIL_SWITCH_INTERVAL_S = 0.001  # at most this long the GUI thread waits for a worker's GIL


class Job(QObject):
    """One submitted call, a GUI-thread object: its signals fire once the call has reported.

    After its outcome (finished, failed or cancelled) a job disconnects every slot from its
    signals, so a slot that captured the job (``lambda j=job: ...``) cannot keep it alive.
    """

    progress = Signal(float, float, str)  # done, total (0: unknown), message
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    _PUBLIC = (("progress", "progress(double,double,QString)"), ("finished", "finished(PyObject)"),
               ("failed", "failed(PyObject)"), ("cancelled", "cancelled()"))

    def __init__(self, name: str, stop_event: threading.Event) -> None:
        super().__init__()
        self.name = name
        self._stop = stop_event
        self.done = False

    def stop(self) -> None:
        """Ask the call to stop at its next ``should_stop`` check."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _deliver(self, kind: str, payload: object) -> None:
        self.done = True
        try:
            if kind == "finished":
                self.finished.emit(payload)
            elif kind == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(payload)
        finally:
            for signal, signature in self._PUBLIC:
                if self.receivers(SIGNAL(signature)) > 0:  # disconnect() warns on none
                    getattr(self, signal).disconnect()


class _Task(QRunnable):
    """The pool-thread half of a job: the call, its stop flag and throttled progress.

    It holds no Qt object of the GUI thread, only a weak reference to the worker whose signals
    carry its reports, so the last reference to a `Job` is always dropped on the GUI thread.
    """

    def __init__(self, key: int, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 stop_event: threading.Event, worker: Worker) -> None:
        super().__init__()
        self._key, self._fn, self._args, self._kwargs = key, fn, args, kwargs
        self._stop = stop_event
        self._worker = weakref.ref(worker)
        self._last_progress = 0.0

    def _report(self, signal_name: str, *args: Any) -> None:
        worker = self._worker()
        if worker is None:
            return
        try:
            getattr(worker, signal_name).emit(self._key, *args)
        except RuntimeError:  # "Signal source has been deleted": the window closed meanwhile,
            pass  # and the Qt side of the worker went with it; there is no one left to tell

    def _on_progress(self, done: float, total: float, message: str) -> None:
        """The call's ``on_progress``: relayed unchanged, at most once an interval (and the end)."""
        now = time.monotonic()
        if now - self._last_progress >= _PROGRESS_INTERVAL_S or (total and done >= total):
            self._last_progress = now
            self._report("_progressed", float(done), float(total), str(message))

    def run(self) -> None:
        from musicgen.errors import Cancelled

        try:
            result = self._fn(
                *self._args, on_progress=self._on_progress, should_stop=self._stop.is_set,
                **self._kwargs,
            )
        except Cancelled:
            self._report("_outcome", "cancelled", None)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported on the GUI thread
            self._report("_outcome", "failed", exc)
        else:
            kind = "cancelled" if self._stop.is_set() and result is None else "finished"
            self._report("_outcome", kind, result)
        finally:
            self._fn = self._args = self._kwargs = None  # type: ignore[assignment]


class Worker(QObject):
    """Submits calls to a private thread pool and keeps each `Job` alive until it has reported.

    Reports travel from the pool thread as queued signals of the worker keyed by job number; the
    worker forgets a job as it delivers its outcome, so nothing of it stays once the caller lets go.
    """

    # Emitted from the pool threads; queued to the GUI thread.
    _outcome = Signal(int, str, object)
    _progressed = Signal(int, float, float, str)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        if sys.getswitchinterval() > GIL_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._jobs: dict[int, Job] = {}
        self._next_key = itertools.count()
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._progress, Qt.ConnectionType.QueuedConnection)

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any) -> Job:
        """Run ``fn(*args, on_progress=..., should_stop=..., **kwargs)`` in the background."""
        stop_event = threading.Event()
        key = next(self._next_key)
        job = Job(name or getattr(fn, "__name__", "job"), stop_event)
        self._jobs[key] = job
        self._pool.start(_Task(key, fn, args, kwargs, stop_event, self))
        return job

    @property
    def active_jobs(self) -> list[Job]:
        return [job for job in self._jobs.values() if not job.done]

    def stop_all(self, wait_ms: int = 5000) -> bool:
        """Ask every job to stop and wait for the pool; True when all threads ended in time."""
        for job in list(self._jobs.values()):
            job.stop()
        return self._pool.waitForDone(wait_ms)

    @Slot(int, float, float, str)
    def _progress(self, key: int, done: float, total: float, message: str) -> None:
        job = self._jobs.get(key)
        if job is not None:
            job.progress.emit(done, total, message)

    @Slot(int, str, object)
    def _deliver(self, key: int, kind: str, payload: object) -> None:
        job = self._jobs.pop(key, None)
        if job is not None:
            job._deliver(kind, payload)
