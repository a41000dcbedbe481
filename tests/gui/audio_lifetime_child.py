"""AudioPlayer lifetimes under real playback: create, play, stop, replay, loop and destroy players
many times in one process, into a private PulseAudio null sink, and never crash or leak a stream.

Regression for a SIGSEGV: a lambda connected to each sink's stateChanged held the player, so an
unparented player was freed inside its old sink's deferred delete and deleted that sink twice.

Run through tests/gui/test_audio_e2e.py: as a pytest module in a fresh interpreter (Qt binds to a
sound server once per process; see conftest_audio), and as a script (``quit``) that quits the real
app while it plays. Not collected on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import weakref

import numpy as np
import pytest

from gui.audio import AudioPlayer
from musicgen.melody import TICKS_PER_QUARTER, Melody, Note
from tests.support.audio import PulseServer, pulse_server  # noqa: F401  (fixture)

MODE = os.environ.get("MUSICGEN_AUDIO_CHILD", "")
pytestmark = pytest.mark.skipif(MODE != "pulse", reason="run through tests/gui/test_audio_e2e.py")
SR = 44100
CYCLES = 15
Q = TICKS_PER_QUARTER


def _tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


SHORT, OTHER = _tone(0.25, 440.0), _tone(0.4, 660.0)


def _melody(pitch: int) -> Melody:
    """Two quick notes at 240 bpm: half a second of audio."""
    return Melody((Note(pitch, 0, Q), Note(pitch + 4, Q, Q)), tempo_bpm=240.0)


def _streams(server: PulseServer) -> int:
    """How many playback streams the sound server has open (0: every sink was closed)."""
    out = subprocess.run(["pactl", f"--server={server.address}", "list", "short", "sink-inputs"],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    return len(out.splitlines())


def _one_cycle(qtbot, index: int) -> weakref.ref:  # type: ignore[no-untyped-def]
    """Play, play over it, stop, replay from an offset; then finish, loop, or drop it playing."""
    player = AudioPlayer()  # unparented: Python owns it, as in the crash
    problems: list[str] = []
    positions: list[float] = []
    player.unavailable.connect(problems.append)
    player.position_changed.connect(positions.append)
    assert player.play(SHORT, SR)
    qtbot.wait(10)
    assert player.play(OTHER, SR)  # play while already playing
    qtbot.wait(10)
    player.stop()
    assert player.play(OTHER, SR, start_seconds=0.2)  # replay after stop
    # Playing to the end takes about 2 s here: with no low-latency listener on its monitor the
    # null sink has rendered up to 2 s of silence ahead and plays nothing new until its clock
    # catches up (sound and playhead alike; see gui.audio). A few cycles only.
    if index % 5 == 0:
        with qtbot.waitSignal(player.finished, timeout=8_000):
            pass
        assert not player.is_playing()
    elif index % 5 == 1:
        player.loop = True
        qtbot.waitUntil(lambda: any(b < a - 0.1 for a, b in zip(positions, positions[1:])),
                        timeout=8_000)
        assert player.is_playing()
    assert problems == []
    return weakref.ref(player)  # the caller's reference was the last: deleted while playing or not


def test_players_played_and_destroyed_many_times(
    qtbot, pulse_server: PulseServer  # noqa: F811
) -> None:
    for index in range(CYCLES):
        ref = _one_cycle(qtbot, index)
        assert ref() is None, f"cycle {index}: a connection still holds the player"
        qtbot.wait(20)  # the stopped sinks' deferred deletes run in this turn of the event loop
    qtbot.waitUntil(lambda: _streams(pulse_server) == 0, timeout=5_000)


def test_finished_slot_plays_the_next_stops_and_deletes(
    qtbot, pulse_server: PulseServer  # noqa: F811
) -> None:
    """Variations one after another from `finished`, then stop and deleteLater from it."""
    from PySide6.QtCore import QObject

    owner = QObject()
    player = AudioPlayer(owner)
    queue = [SHORT, OTHER]
    finishes: list[int] = []

    def next_or_done() -> None:
        finishes.append(len(finishes))
        if queue:
            assert player.play(queue.pop(), SR)
        else:
            player.stop()
            player.deleteLater()

    player.finished.connect(next_or_done)
    assert player.play(OTHER, SR)
    with qtbot.waitSignal(player.destroyed, timeout=10_000):
        pass
    assert finishes == [0, 1, 2]
    qtbot.waitUntil(lambda: _streams(pulse_server) == 0, timeout=5_000)


def test_controller_toggles_loops_and_is_destroyed_playing(
    qtbot, pulse_server: PulseServer  # noqa: F811
) -> None:
    """The app's PlaybackController with a real worker: Play/Stop/Play, variations in a row, loop,
    then deleted while playing."""
    from gui.playback_control import PlaybackController
    from gui.workers import Worker

    worker = Worker()
    controller = PlaybackController(worker)
    messages: list[str] = []
    ticks: list[object] = []
    controller.message.connect(messages.append)
    controller.playhead_moved.connect(ticks.append)
    first, second, third = _melody(67), _melody(72), _melody(74)
    for _ in range(3):
        with qtbot.waitSignal(controller.playing_changed, check_params_cb=bool, timeout=10_000):
            controller.toggle(first, 240.0)
        controller.toggle(first, 240.0)
        assert not controller.is_playing
    for melody in (second, third, first, second):  # the next variation before the last ended
        with qtbot.waitSignal(controller.playing_changed, check_params_cb=bool, timeout=10_000):
            controller.play(melody, 240.0)
    with qtbot.waitSignal(controller.playing_changed, check_params_cb=lambda on: not on,
                          timeout=10_000):
        pass  # the last one played to its end
    controller.set_loop(True)
    ticks.clear()
    with qtbot.waitSignal(controller.playing_changed, check_params_cb=bool, timeout=10_000):
        controller.play(third, 240.0)
    moved = lambda: [t for t in ticks if t is not None]
    qtbot.waitUntil(lambda: any(b < a for a, b in zip(moved(), moved()[1:])), timeout=10_000)
    assert controller.is_playing and messages == []
    with qtbot.waitSignal(controller.destroyed, timeout=5_000):
        controller.deleteLater()
    worker.stop_all(wait_ms=5_000)
    qtbot.waitUntil(lambda: _streams(pulse_server) == 0, timeout=5_000)


def _quit_while_playing(folder: str) -> int:
    """The real window and a stray unparented player play; the app quits; Python tears down."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    app = QApplication([sys.argv[0]])
    window = MainWindow(AppSettings(os.path.join(folder, "settings.ini")))
    window.show()
    stray = AudioPlayer()
    window.ui.transport.loop_check.setChecked(True)  # the Loop box, as a user ticks it

    at_quit: list[bool] = []

    def quit_now() -> None:
        at_quit.extend((window.playback.is_playing, stray.is_playing()))
        (app.exit if os.environ.get("MUSICGEN_QUIT_BY_EXIT") else app.quit)()

    def on_playing(playing: bool) -> None:
        if playing and not at_quit:
            assert stray.play(OTHER, SR)
            QTimer.singleShot(300, quit_now)

    window.playback.playing_changed.connect(on_playing)
    window.seed.seed_changed.connect(lambda _m: window.actions.play.trigger())
    QTimer.singleShot(0, lambda: window.seeds.use(_melody(67)))
    code = app.exec()
    # quit() closes the window first (its closeEvent stops its playback), exit() does not.
    print("playing at quit: {} {}".format(*at_quit), flush=True)
    return code  # no clean-up: the interpreter's teardown destroys the sinks still playing


if __name__ == "__main__" and sys.argv[1:2] == ["quit"]:
    sys.exit(_quit_while_playing(sys.argv[2]))
