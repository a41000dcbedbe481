"""Failures become plain words and the app stays up; settings persist between sessions."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.gui import open_and_wait


def test_unexpected_exception_in_a_slot_is_logged_and_reported(qtbot, window, isolated_user_dirs):
    from PySide6.QtCore import QTimer

    from gui.errors import crash_log_path, install_excepthook

    previous = install_excepthook(window.dialogs.unexpected_error)
    try:
        def broken_slot() -> None:
            raise ZeroDivisionError("boom in a slot")

        with qtbot.waitSignal(window.dialogs.error_shown, timeout=5000) as shown:
            QTimer.singleShot(0, broken_slot)
    finally:
        sys.excepthook = previous
    log = crash_log_path()
    assert str(log).startswith(str(isolated_user_dirs))
    assert "ZeroDivisionError: boom in a slot" in log.read_text()
    assert str(log) in shown.args[0] and "Traceback" not in shown.args[0]
    assert window.isVisible()


def test_worker_failure_is_reported_not_raised(qtbot, window, isolated_user_dirs):
    from gui.errors import crash_log_path, describe_exception

    def failing(*, on_progress=None, should_stop=None):
        raise KeyError("missing piece")

    job = window.worker.submit(failing)
    with qtbot.waitSignal(job.failed, timeout=5000) as failed:
        pass
    text = describe_exception(failed.args[0], "testing")
    assert "while testing" in text and "KeyError" in text
    assert "missing piece" in crash_log_path().read_text()


def test_worker_reports_progress_and_results(qtbot, window):
    def counting(n, *, on_progress=None, should_stop=None):
        for i in range(n):
            on_progress(i + 1, n, f"step {i + 1}")
        return n * 2

    job = window.worker.submit(counting, 5)
    with qtbot.waitSignals([job.progress, job.finished], timeout=5000):
        pass
    assert window.worker.active_jobs == []


def test_worker_relays_progress_unchanged(qtbot, window):
    """`on_progress(done, total, message)` arrives as it was said; total 0 (unknown) included."""
    def reporting(*, on_progress=None, should_stop=None):
        on_progress(0, 0, "looking")
        on_progress(9, 9, "all nine")  # the last report passes the throttle however soon it comes
        return 9

    job = window.worker.submit(reporting)
    seen: list[tuple] = []
    job.progress.connect(lambda *args: seen.append(args))
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert seen == [(0.0, 0.0, "looking"), (9.0, 9.0, "all nine")]


def test_junk_saved_sampling_values_fall_back_to_the_defaults(qtbot, tmp_path, isolated_user_dirs):
    import json

    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from gui.widgets.sampling_panel import SAMPLING_DEFAULTS

    ini = tmp_path / "junk.ini"
    raw = QSettings(str(ini), QSettings.Format.IniFormat)
    raw.setValue("sampling/values", json.dumps(
        {"temperature": "hot", "top_p": 7, "bars": 12, "variations": True, "junk": 1}))
    raw.sync()
    window = MainWindow(AppSettings(ini))
    qtbot.addWidget(window)
    values = window.ui.sampling.values()
    assert values.bars == 12  # the one good value is kept
    assert (values.temperature, values.top_p, values.variations, values.rng_seed) == (
        SAMPLING_DEFAULTS.temperature, SAMPLING_DEFAULTS.top_p, 4, 1234)
    assert window.ui.sampling.new_seed_each_time


def test_settings_persist_between_windows(qtbot, tmp_path, isolated_user_dirs, seed_files):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    ini = tmp_path / "persist.ini"
    first = MainWindow(AppSettings(ini))
    qtbot.addWidget(first)
    first.show()
    first.ui.sampling.replace_values(temperature=1.35, top_p=0.9, bars=12, variations=6,
                                     rng_seed=99, new_seed_each_time=False, key_lock=True)
    first.ui.transport.loop_check.setChecked(True)
    first.settings.model = "/some/model.safetensors"
    open_and_wait(qtbot, first, seed_files["scale"])
    first.resize(700, 500)
    first.move(30, 20)
    geometry = first.geometry()
    first.close()
    second = MainWindow(AppSettings(ini))
    qtbot.addWidget(second)
    values = second.ui.sampling.values()
    assert (values.temperature, values.top_p, values.bars, values.variations, values.rng_seed) == (
        1.35, 0.9, 12, 6, 99)
    assert values.key_lock and not second.ui.sampling.new_seed_each_time
    assert second.ui.transport.loop
    assert second.settings.model == "/some/model.safetensors"
    assert second.settings.last_folder == str(Path(seed_files["scale"]).parent.resolve())
    assert second.settings.recent_files[0] == str(seed_files["scale"].resolve())
    # restoreGeometry clamps the width to the offscreen screen (800 px): compare the height.
    assert second.settings.geometry is not None
    assert second.geometry().height() == geometry.height() == 500


def test_drop_a_file_opens_it(qtbot, window, seed_files):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(seed_files["air"]))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        window.dropEvent(event)
    assert changed.args[0].pitched_notes[0].pitch == 72


def test_recent_files_menu_reopens(qtbot, window, seed_files):
    open_and_wait(qtbot, window, seed_files["scale"])
    open_and_wait(qtbot, window, seed_files["kesh"])
    window.actions.recent_menu.aboutToShow.emit()  # what opening the menu does
    actions = window.actions.recent_menu.actions()
    assert [a.text() for a in actions] == ["kesh.abc", "scale.mid"]
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as changed:
        actions[1].trigger()
    assert changed.args[0].pitched_notes[0].pitch == 60


def test_no_audio_device_is_said_once(qtbot, window, seed_files):
    """With no sound server (offscreen tests), Play reports it once in the status bar."""
    import numpy as np
    from PySide6.QtCore import QObject, Signal

    class NoDevicePlayer(QObject):
        position_changed = Signal(float)
        finished = Signal()
        unavailable = Signal(str)
        loop = False

        def play(self, pcm, rate, start):
            assert isinstance(pcm, np.ndarray) and pcm.size > 0 and rate > 0
            self.unavailable.emit("No audio output device was found.")
            return False

        def stop(self):
            pass

    window.playback._factory = lambda parent: NoDevicePlayer(parent)
    open_and_wait(qtbot, window, seed_files["scale"])
    with qtbot.waitSignal(window.playback.message, timeout=30000) as said:
        window.transport.toggle()
    assert "audio" in said.args[0] and "audio" in window.status.message
    said_again: list[str] = []
    window.playback.message.connect(said_again.append)
    window.transport.toggle()  # the rendering is cached: the player answers at once
    window.transport.toggle()
    assert said_again == [] and not window.playback.is_playing
