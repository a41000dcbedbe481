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
    """Fine-tune (or resume) in the worker, relaying events; the `FineTuneResult`. ``corpus``:
    the tunes `read_tunes` loaded for the report (None: load them again, as a resume does)."""
    import gc

    import musicgen.train.loop  # noqa: F401 - torch and the loop, before freezing
    from musicgen.train.finetune import FineTunePlan, fine_tune

    _leave_a_core_for_the_window()
    _return_freed_memory()
    gc.freeze()  # torch's import leaves ~10^6 objects a full collection would walk (~80 ms)
    plan = FineTunePlan(**plan_fields)
    return fine_tune(plan, resume=resume, on_progress=on_progress, should_stop=should_stop,
                     callbacks=[relay.on_train_event], on_copy_check=relay.on_copy_check,
                     plot=False,  # the dialog plots live; matplotlib's import would stall it
                     corpus=corpus)


def stopped_runs(*, on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> list[dict]:
    """The stopped fine-tunes in the models folder that can be resumed (no torch)."""
    from musicgen.train.finetune import unfinished_runs

    return unfinished_runs()


def _return_freed_memory() -> None:
    """glibc serves blocks below its mmap threshold from the heap and raises that threshold each
    time a large block is freed, so a run's activation tensors of varying size pile up there and
    stay (25 Transformer steps: 908 MB peak; with a fixed 64 KiB threshold, 654 MB). A fixed
    threshold gives every large block back when it is freed. glibc only; elsewhere nothing."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _leave_a_core_for_the_window() -> None:
    """Torch's intra-op threads would take every core; keep one for the GUI thread (the same
    rule as generation, `gui.generation_tasks`)."""
    import torch

    cores = os.cpu_count() or 1
    if cores > 1 and torch.get_num_threads() >= cores:
        torch.set_num_threads(cores - 1)
