"""TrainControl: "Train on my tunes": the dialog, the tunes report, training in the background.

It owns the `TrainDialog` (built on first use), reads the picked tunes in the worker
(`gui.train_tasks.read_tunes`), starts, stops and resumes a fine-tune there
(`gui.train_tasks.run_fine_tune`), and shows its events as they come: the clock, the live plot,
the copy figures and warning, the result. Stop keeps the best model so far; a stopped run is
listed for Resume, also after the app was restarted (its plan lives in its run folder).

Signals: ``model_saved(str)`` (a model landed in the library, finished or stopped: its path),
``running_changed(bool)``, ``copy_warning(str)``, ``report_ready(object)`` (a `TunesReport`) and
``run_failed(str)``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from gui.dialogs import Dialogs
from gui.errors import describe_exception
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.train_tasks import TrainRelay, TunesReport, read_tunes, run_fine_tune, stopped_runs
from gui.widgets.train_dialog import TrainDialog
from gui.workers import Job, Worker

__all__ = ["TrainControl", "TUNE_FILE_FILTER"]

TUNE_FILE_FILTER = ("Tunes (*.abc *.txt *.mid *.midi *.musicxml *.mxl *.xml);;All files (*)")


class TrainControl(QObject):
    """The fine-tuning dialog and its background work (see the module docstring)."""

    model_saved = Signal(str)
    running_changed = Signal(bool)
    copy_warning = Signal(str)
    report_ready = Signal(object)
    run_failed = Signal(str)

    def __init__(self, *, dialog_parent: QWidget, worker: Worker, status: StatusArea,
                 settings: AppSettings, dialogs: Dialogs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dialog_parent, self._worker, self._status = dialog_parent, worker, status
        self._settings, self._dialogs = settings, dialogs
        self.dialog: TrainDialog | None = None
        self.job: Job | None = None
        self.report: TunesReport | None = None
        self._cards: list[Any] = []
        self._name = ""
        self._relay = TrainRelay(self)
        self._relay.train_event.connect(self._train_event)
        self._relay.copy_checked.connect(self._copy_checked)

    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def training_name(self) -> str:
        """The name of the model being trained ('' when none)."""
        return self._name if self.running else ""

    def set_models(self, cards: Sequence[Any]) -> None:
        """The library's models, the starting points the dialog offers."""
        self._cards = list(cards)
        if self.dialog is not None and not self.running:
            self.dialog.set_models(self._cards, self._settings.model)

    # --- the dialog -----------------------------------------------------------------------------
    def open_dialog(self) -> TrainDialog:
        if self.dialog is None:
            self.dialog = TrainDialog(self._dialog_parent)
            d = self.dialog
            d.folder_requested.connect(self._choose_folder)
            d.files_requested.connect(self._choose_files)
            d.paths_dropped.connect(self.read_paths)
            d.train_requested.connect(self.start)
            d.stop_requested.connect(self.stop)
            d.resume_requested.connect(self.resume)
            d.set_models(self._cards, self._settings.model)
        self.refresh_stopped_runs()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def refresh_stopped_runs(self) -> Job:
        job = self._worker.submit(stopped_runs, name="list stopped runs")
        job.finished.connect(self._stopped_runs_listed)
        return job

    def _stopped_runs_listed(self, runs: list) -> None:
        if self.dialog is not None:
            self.dialog.set_resumable([r for r in runs if r["name"] != self.training_name])

    def _choose_folder(self) -> None:
        folder = self._dialogs.open_folder(self._settings.last_folder, "Choose a folder of tunes")
        if folder:
            self.read_paths([folder])

    def _choose_files(self) -> None:
        files = self._dialogs.open_files(self._settings.last_folder, TUNE_FILE_FILTER,
                                         "Choose tune files")
        if files:
            self.read_paths(files)

    def read_paths(self, paths: list) -> Job:
        """Read the tunes (in the worker) and show the report before anything trains."""
        dialog = self.dialog or self.open_dialog()
        dialog.set_report_ok(False)
        dialog.report_view.show_reading(f"Reading {', '.join(Path(p).name for p in paths)}…")
        job = self._worker.submit(read_tunes, [str(p) for p in paths], name="read tunes")
        job.progress.connect(lambda done, total, message: dialog.report_view.show_reading(
            f"Reading the tunes… {message}"))
        job.finished.connect(self._tunes_read)
        job.failed.connect(lambda exc: self._tunes_failed(describe_exception(exc, "reading")))
        return job

    def _tunes_read(self, report: TunesReport) -> None:
        self.report = report
        dialog = self.dialog or self.open_dialog()
        dialog.report_view.show_report(report)
        dialog.set_report_ok(report.problem is None)
        dialog.form.suggest_name(Path(report.folder).name, [c.name for c in self._cards])
        self.report_ready.emit(report)

    def _tunes_failed(self, text: str) -> None:
        self.report = None
        if self.dialog is not None:
            self.dialog.report_view.show_error(text)
            self.dialog.set_report_ok(False)

    # --- training -------------------------------------------------------------------------------
    def start(self, values: dict) -> Job | None:
        """Train the model the dialog describes on the tunes read last."""
        from musicgen.errors import MusicGenError
        from musicgen.library import check_model_name, user_model_path

        if self.running or self.report is None or self.report.problem:
            return None
        try:
            name = check_model_name(values.get("name", ""))
            if user_model_path(name).exists() or any(c.name == name for c in self._cards):
                raise MusicGenError(f"A model called '{name}' already exists: choose another "
                                    "name, or delete that model first.")
        except MusicGenError as exc:
            self._dialogs.error(str(exc), "Cannot train")
            return None
        fields = {**values, "name": name, "corpus": self.report.folder}
        return self._submit(fields, resume=False, title=f"Training '{name}'…",
                            corpus=self.report.corpus)

    def resume(self, name: str) -> Job | None:
        """Continue a stopped run (its plan is in its run folder)."""
        from musicgen.library import user_model_path
        from musicgen.train.finetune import read_plan
        from musicgen.train.run_folder import run_files

        if self.running:
            return None
        try:
            plan = read_plan(run_files(user_model_path(name)))["plan"]
        except Exception as exc:  # noqa: BLE001 - any failure is told in words
            self._dialogs.error(describe_exception(exc, "resuming"), "Cannot resume")
            return None
        return self._submit(plan.to_dict(), resume=True, title=f"Resuming '{name}'…")

    def _submit(self, fields: dict, *, resume: bool, title: str, corpus: Any = None) -> Job:
        dialog = self.dialog or self.open_dialog()
        self._name, self._refused = fields["name"], False
        self._has_base = fields.get("base") is not None
        dialog.start_run(title)
        job = self._worker.submit(run_fine_tune, fields, self._relay, resume, corpus,
                                  name="fine-tune")
        self.job = job
        job.progress.connect(self._progress)
        job.finished.connect(self._finished)
        job.cancelled.connect(self._stopped)
        job.failed.connect(self._failed)
        self._status.show_message(title)
        self.running_changed.emit(True)
        return job

    def stop(self) -> None:
        """Stop at the next step: the best model so far is kept and the run can be resumed."""
        if self.job is not None:
            self.job.stop()
            if self.dialog is not None:
                self.dialog.clock_label.setText("Stopping: saving the model and the run…")

    def _progress(self, done: float, total: float, message: str) -> None:
        if self.dialog is not None and total == 0 and message:
            self.dialog.clock_label.setText(message[:1].upper() + message[1:] + "…")

    def _train_event(self, p: Any) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        if p.event == "step":
            dialog.plot.add_training(p.step, p.train_bits_per_note)
        elif p.event in ("init", "epoch") and p.val_bits_per_note is not None:
            dialog.plot.add_held_out(p.step, p.val_bits_per_note)
        best = "" if p.best_val_bits_per_note is None else \
            f"best on held-out tunes {p.best_val_bits_per_note:.3f} bits/note"
        detail = "measuring the model you start from" if p.event == "init" else \
            f"pass {p.epoch}" + (f" · {best}" if best else "")
        dialog.show_clock(p.elapsed_s, p.remaining_s, detail)

    def _copy_checked(self, check: Any) -> None:
        if self.dialog is None:
            return
        share = "–" if not check.samples else f"{check.share:.0%}"
        reference = (f"the model you start from: {check.reference_share:.0%}" if self._has_base
                     else f"your held-out tunes themselves: {check.reference_share:.0%}")
        if check.epoch == 0:
            text = f"Copies 4+ bars of one of your tunes: {reference}."
        else:
            text = (f"Copies 4+ bars of one of your tunes: {share} of {check.samples} samples "
                    f"after pass {check.epoch} ({reference}).")
        warning = ""
        if check.risen:
            self._refused = True
            self.dialog.plot.mark_refused()
            warning = (f"The model has started to copy your tunes more than "
                       f"{reference.split(':')[0]}. The model kept is the last one from before "
                       "that; consider stopping.")
            self.copy_warning.emit(warning)
        self.dialog.show_copies(text, warning)

    def _finished(self, result: Any) -> None:
        self._done(f"Saved “{result.checkpoint.stem}” in your models: "
                   + _figures(result.summary), str(result.checkpoint))

    def _stopped(self) -> None:
        from musicgen.library import user_model_path

        path = user_model_path(self._name)
        self._done(f"Stopped. The best model so far is saved as “{self._name}”; Resume continues "
                   "the run, also after restarting the app.", str(path) if path.exists() else "")

    def _failed(self, exc: BaseException) -> None:
        text = describe_exception(exc, "training")
        self._done(f"Training failed: {text}", "")
        self._dialogs.error(text, "Training failed")
        self.run_failed.emit(text)

    def _done(self, text: str, saved: str) -> None:
        self.job = None
        if self.dialog is not None:
            self.dialog.show_result(text)
            self.dialog.set_running(False)
        self._status.show_message(text)
        self.running_changed.emit(False)
        self.refresh_stopped_runs()
        if saved:
            self.model_saved.emit(saved)

    # --- closing the window ---------------------------------------------------------------------
    def confirm_close(self) -> bool:
        """Ask before closing during training (True: close). Closing stops the run cleanly."""
        if not self.running:
            return True
        return self._dialogs.confirm(
            f"“{self._name}” is still training. Stop it and quit? The best model so far is kept, "
            "and Train on my tunes can resume the run later.", "Training is running")

    def stop_and_wait(self, wait_ms: int = 60000) -> bool:
        """Stop the run and wait until it has saved (True when it ended in time)."""
        if self.job is None:
            return True
        self.job.stop()
        return self._worker.stop_all(wait_ms=wait_ms)


def _figures(summary: dict) -> str:
    held = summary.get("held_out", {})
    before, after = held.get("bits_per_note_before"), held.get("bits_per_note_after")
    tunes = held.get("tunes")
    if isinstance(before, (int, float)) and isinstance(after, (int, float)) and before:
        change = (after - before) / before
        text = (f"on your {tunes} held-out tunes it needs {after:.3f} bits per note, "
                f"{before:.3f} before ({change:+.1%}; lower predicts your music better).")
    elif isinstance(after, (int, float)) and math.isfinite(after):
        text = f"{after:.3f} bits per note on your {tunes} held-out tunes."
    else:
        text = "see its card."
    copies = summary.get("copies", {})
    if copies.get("rose"):
        text += " It began to copy your tunes during training; the model kept is from before."
    return text
