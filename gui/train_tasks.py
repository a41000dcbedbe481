"""The training work `gui.train_control` runs in the worker: read the user's tunes, fine-tune.

Only functions that run on the worker thread import `musicgen.corpus` and `musicgen.train` (and so
torch), so the app starts without them. `TrainRelay` carries training events from the worker
thread to the GUI thread as queued signals: every epoch, copy check and the end, and at most
`STEP_EVENTS_PER_S` step events a second, so a fast run cannot flood the event loop.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Signal

from musicgen.progress import ProgressFn, StopFn

__all__ = ["STEP_EVENTS_PER_S", "TrainRelay", "TunesReport", "read_tunes", "run_fine_tune",
           "stopped_runs"]

STEP_EVENTS_PER_S = 5.0


@dataclass(frozen=True)
class TunesReport:
    """What was read from the user's tunes: shown before anything trains."""

    folder: str  # the folder the corpus is read from (picked files are copied into one)
    found: int
    kept: int
    held_out: int  # tunes that will be held out to measure the model on
    skipped: list[dict] = field(default_factory=list)  # {source, title, reason}
    advice: str | None = None  # fewer tunes than recommended
    problem: str | None = None  # too few tunes to train at all (Train stays disabled)
    corpus: Any = field(default=None, repr=False, compare=False)  # what training will read


class TrainRelay(QObject):
    """Signals emitted on the worker thread, delivered on the GUI thread (queued)."""

    train_event = Signal(object)  # musicgen.train.TrainProgress
    copy_checked = Signal(object)  # musicgen.train.guard.CopyCheck

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._last_step = 0.0

    def on_train_event(self, progress: Any) -> None:
        """`train`'s callback: relays every event but steps, and steps a few times a second."""
        now = time.monotonic()
        if progress.event == "step" and now - self._last_step < 1.0 / STEP_EVENTS_PER_S:
            return
        if progress.event == "step":
            self._last_step = now
        self.train_event.emit(progress)

    def on_copy_check(self, check: Any) -> None:
        self.copy_checked.emit(check)


def read_tunes(paths: Sequence[str], *, on_progress: ProgressFn | None = None,
               should_stop: StopFn | None = None) -> TunesReport:
    """Read the picked folder or files as a corpus (prepared and cached) and report on it."""
    from musicgen.corpus import load_corpus
    from musicgen.errors import CorpusError
    from musicgen.train.guard import HOLDOUT_FRACTION, MIN_TUNES, check_tune_count, \
        too_few_tunes, tune_count_advice

    folder = _folder_of(paths)
    try:
        corpus = load_corpus(folder, on_progress=on_progress, should_stop=should_stop)
    except CorpusError:
        count = _count_tunes(folder)  # the corpus itself refuses fewer than 3 different tunes
        if count >= MIN_TUNES:
            raise
        return TunesReport(str(folder), count, count, 0, [], problem=too_few_tunes(count, str(folder)))
    rep = corpus.report or {}
    skipped = [{"source": t["source"], "title": t.get("title", ""), "reason": t["reason"]}
               for t in rep.get("failed_tunes", []) + rep.get("not_representable_tunes", [])]
    found = len(corpus.tunes) + len(skipped)
    try:
        distinct = check_tune_count(corpus, str(folder))
    except CorpusError as exc:
        return TunesReport(str(folder), found, len(corpus.tunes), 0, skipped, problem=str(exc))
    held = max(1, round(distinct * HOLDOUT_FRACTION))
    return TunesReport(str(folder), found, len(corpus.tunes), held, skipped,
                       advice=tune_count_advice(distinct), corpus=corpus)


def _count_tunes(folder: Path) -> int:
    """Tunes in a folder by a text scan (no parsing): every tune of an ABC book, one a file else."""
    from musicgen.corpus.sources import folder_sources
    from musicgen.errors import MusicGenError
    from musicgen.io import read_tunes as scan

    count = 0
    for source in folder_sources(folder):
        try:
            count += len(scan(source.path)) if source.path.suffix.lower() == ".abc" else 1
        except MusicGenError:
            continue
    return count


def _folder_of(paths: Sequence[str]) -> Path:
    from musicgen.train.finetune import import_tunes

    return import_tunes(paths, name=Path(paths[0]).stem if paths else "tunes")


def run_fine_tune(plan_fields: dict[str, Any], relay: TrainRelay, resume: bool = False,
                  corpus: Any = None, *, on_progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> Any:
    """Fine-tune (or resume) in a training process of its own, relaying its events; the
    `FineTuneResult`. ``corpus`` (the tunes `read_tunes` loaded for the report) is not sent to
    the child: pickling a few hundred tunes holds the interpreter lock for tens of milliseconds,
    while the child reads the same prepared corpus from its cache at no cost to the window.

    Training runs in a child process, not on the worker thread: a torch training step holds the
    interpreter lock for tens of milliseconds at a time (the optimizer, the loop's bookkeeping,
    the copy checks' sampling), which stalled the window by up to 100 ms when it ran in the app's
    own process. The worker thread only waits on the child's pipe. Stopping asks the child to stop
    at its next step (it saves the best model and the run, then raises `Cancelled`, re-raised
    here); a child whose app died stops the same way (it watches its parent)."""
    import multiprocessing

    from musicgen.errors import TrainingError as TrainError

    context = multiprocessing.get_context("spawn")  # never fork a process with Qt's threads
    ours, theirs = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=_train_in_child, name="musicgen fine-tune",
                            args=(plan_fields, resume, theirs, stop, os.getpid()))
    child.start()
    theirs.close()
    try:
        while True:
            if should_stop is not None and should_stop():
                stop.set()
            if not ours.poll(0.05):
                if child.is_alive():
                    continue
                if not ours.poll(0):
                    break
            try:
                kind, payload = ours.recv()
            except EOFError:
                break
            if kind == "event":
                relay.on_train_event(payload)
            elif kind == "copy":
                relay.on_copy_check(payload)
            elif kind == "progress" and on_progress is not None:
                on_progress(*payload)
            elif kind == "result":
                return payload
            elif kind == "error":
                raise payload
        child.join(5)
        raise TrainError(f"the training process ended unexpectedly (exit status {child.exitcode}); "
                         "resume the run to continue from its last save")
    finally:
        if child.is_alive():
            stop.set()
            child.join(120)  # it saves the best model and the run folder, then ends
        if child.is_alive():
            child.kill()
            child.join()
        ours.close()


def _train_in_child(plan_fields: dict[str, Any], resume: bool, pipe: Any, stop: Any,
                    parent_pid: int) -> None:
    """The training process: fine-tune, sending events, copy checks and the outcome down `pipe`."""
    import gc

    def send(kind: str, payload: Any) -> None:
        try:
            pipe.send((kind, payload))
        except (BrokenPipeError, OSError):
            stop.set()  # the app is gone: stop at the next step, saving what is best so far

    def should_stop() -> bool:
        return stop.is_set() or os.getppid() != parent_pid

    try:
        import musicgen.train.loop  # noqa: F401 - torch and the loop, before freezing
        from musicgen.train.finetune import FineTunePlan, fine_tune
        from musicgen.train.memory import return_freed_memory

        _leave_a_core_for_the_window()
        return_freed_memory()
        gc.freeze()  # torch's import leaves ~10^6 objects a full collection would walk (~80 ms)
        plan = FineTunePlan(**plan_fields)
        result = fine_tune(plan, resume=resume, should_stop=should_stop,
                           on_progress=lambda done, total, message="": send(
                               "progress", (done, total, message)),
                           callbacks=[lambda progress: send("event", progress)],
                           on_copy_check=lambda check: send("copy", check),
                           plot=False)  # the dialog plots live
        send("result", result)
    except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the app as words
        send("error", _picklable(exc))
    finally:
        pipe.close()


def _picklable(exc: BaseException) -> BaseException:
    """What crosses the pipe for a failure: the project's own errors as they are (plain message
    exceptions), anything else as a `TrainingError` saying what it was."""
    from musicgen.errors import MusicGenError, TrainingError

    if isinstance(exc, MusicGenError):
        return exc
    return TrainingError(f"training failed ({type(exc).__name__}: {exc})")


def stopped_runs(*, on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> list[dict]:
    """The stopped fine-tunes in the models folder that can be resumed (no torch)."""
    from musicgen.train.finetune import unfinished_runs

    return unfinished_runs()


def _leave_a_core_for_the_window() -> None:
    """Torch's intra-op threads would take every core; keep one for the GUI thread (the same
    rule as generation, `gui.generation_tasks`)."""
    import torch

    cores = os.cpu_count() or 1
    if cores > 1 and torch.get_num_threads() >= cores:
        torch.set_num_threads(cores - 1)
