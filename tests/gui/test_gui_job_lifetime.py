"""Finished, failed and cancelled jobs free themselves: through the real Worker, and through the
PlaybackController's render and MIDI-port jobs (a user generating and playing for an hour must not
accumulate them). Regression: the worker and the controller connected lambdas capturing each job
to the job's own signals, a cycle through Qt that Python's collector cannot see (50 of 50 stayed).
"""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

import mido

from gui.playback_control import PlaybackController
from gui.workers import Job, Worker
from musicgen.errors import Cancelled
from musicgen.melody import TICKS_PER_QUARTER, Melody, Note

JOBS = 60


def _succeed(value: int, *, on_progress: Any, should_stop: Any) -> int:
    on_progress(1, 2, "half way")
    return value * 2


def _fail(value: int, *, on_progress: Any, should_stop: Any) -> int:
    raise ValueError(f"job {value} failed")


def _cancel(value: int, *, on_progress: Any, should_stop: Any) -> int:
    raise Cancelled(f"job {value} stopped")


def _wait_freed(qtbot, refs: list[weakref.ref]) -> None:  # type: ignore[no-untyped-def]
    def freed() -> None:  # an assertion: waitUntil retries it, then reports the last failure
        gc.collect()
        alive = sum(ref() is not None for ref in refs)
        assert alive == 0, f"{alive} of {len(refs)} finished jobs are still in memory"

    qtbot.waitUntil(freed, timeout=5_000)


def test_worker_jobs_are_freed_after_they_report(qtbot) -> None:
    worker = Worker()
    outcomes: list[tuple[str, object]] = []
    progress: list[float] = []
    refs: list[weakref.ref] = []
    for index in range(JOBS):
        job = worker.submit((_succeed, _fail, _cancel)[index % 3], index)
        # Slots that capture the job, as callers write them: they must not keep it alive.
        job.finished.connect(lambda result, j=job: outcomes.append((j.name, result)))
        job.failed.connect(lambda exc, j=job: outcomes.append((j.name, str(exc))))
        job.cancelled.connect(lambda j=job: outcomes.append((j.name, None)))
        job.progress.connect(lambda done, total, _m, j=job: progress.append(done / total))
        refs.append(weakref.ref(job))
        del job
    qtbot.waitUntil(lambda: len(outcomes) == JOBS, timeout=10_000)
    assert sorted(o for o in outcomes if o[0] == "_succeed") == sorted(
        ("_succeed", 2 * i) for i in range(0, JOBS, 3))
    assert sum(o[0] == "_fail" and "failed" in str(o[1]) for o in outcomes) == JOBS // 3
    assert sum(o == ("_cancel", None) for o in outcomes) == JOBS // 3
    assert progress == [0.5] * (JOBS // 3)
    assert worker.active_jobs == []
    _wait_freed(qtbot, refs)
    assert worker.stop_all(wait_ms=5_000)


def test_a_job_stopped_by_its_caller_is_freed(qtbot) -> None:
    def until_stopped(*, on_progress: Any, should_stop: Any) -> None:
        while not should_stop():
            time.sleep(0.002)  # the call's own work; the test waits on the signal

    worker = Worker()
    job: Job = worker.submit(until_stopped, name="spin")
    assert worker.active_jobs == [job]
    with qtbot.waitSignal(job.cancelled, timeout=5_000):
        job.stop()
    assert job.done and job.stop_requested and worker.active_jobs == []
    ref = weakref.ref(job)
    del job
    _wait_freed(qtbot, [ref])


def _melody(pitch: int) -> Melody:
    q = TICKS_PER_QUARTER
    return Melody((Note(pitch, 0, q), Note(pitch + 2, q, q)), tempo_bpm=240.0)


def _job_refs(worker: Worker, refs: list[weakref.ref]) -> None:
    """Record a weak reference to every job the worker holds now."""
    refs.extend(weakref.ref(job) for job in worker.active_jobs)


def test_playback_render_and_midi_jobs_are_freed(qtbot) -> None:
    """Render jobs played, superseded and stopped; MIDI-port jobs played to the end; all freed."""
    worker = Worker()
    controller = PlaybackController(worker)
    refs: list[weakref.ref] = []
    for index in range(20):
        controller.play(_melody(60 + index), 240.0)  # a new melody: a render job each time
        _job_refs(worker, refs)
        if index % 3 == 1:
            controller.play(_melody(80 + index), 240.0)  # supersedes the first render
            _job_refs(worker, refs)
        elif index % 3 == 2:
            controller.stop()
        qtbot.waitUntil(lambda: worker.active_jobs == [], timeout=10_000)
        controller.stop()
    sent: list[mido.Message] = []

    class Port(mido.ports.BaseOutput):
        def _send(self, message: mido.Message) -> None:
            sent.append(message)

    controller.port_opener = Port
    controller.set_midi_port("recording port")
    for index in range(5):
        with qtbot.waitSignal(controller.playing_changed, check_params_cb=lambda on: not on,
                              timeout=10_000):
            controller.play(_melody(60 + index), 960.0)
            _job_refs(worker, refs)
    assert sum(m.type == "note_on" and m.velocity > 0 for m in sent) == 10
    assert len(refs) >= 30
    _wait_freed(qtbot, refs)
    controller.deleteLater()
    assert worker.stop_all(wait_ms=5_000)
