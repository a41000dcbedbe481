"""End-to-end audio: AudioPlayer's output, and the real window's Play, recorded from a PulseAudio
null sink, pitch by pitch; players created, played and destroyed many times without a crash.

Each case runs tests/gui/audio_e2e_child.py or audio_lifetime_child.py in a fresh interpreter,
because Qt connects to the sound server once per process and earlier GUI tests in this process may
already have looked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.audio import (  # noqa: F401  (pulse_server: a fixture)
    PulseServer,
    missing_pulse_binaries,
    pulse_server,
    skip_reason,
)

pytestmark = pytest.mark.audio
CHILD = Path(__file__).with_name("audio_e2e_child.py")
LIFETIME_CHILD = Path(__file__).with_name("audio_lifetime_child.py")
ROOT = Path(__file__).resolve().parents[2]


def _run_child(mode: str, selection: str, child: Path = CHILD, **env: str) -> None:
    environment = dict(os.environ, MUSICGEN_AUDIO_CHILD=mode, QT_QPA_PLATFORM="offscreen", **env)
    command = [sys.executable, "-X", "faulthandler", "-m", "pytest", str(child), "-q",
               "-p", "no:cacheprovider", "-k", selection]
    # Own process group: if the child hangs, its pulseaudio and parec go down with it.
    child = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        stdout, stderr = child.communicate()
    try:  # a child that crashed left its pulseaudio and parec running in its group
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    report = stdout[-4000:] + stderr[-2000:]
    assert child.returncode == 0, report
    assert " passed" in stdout, report
    assert "skipped" not in stdout and "failed" not in stdout, report


def test_player_and_window_are_heard_at_the_right_pitches() -> None:
    """One child for both players and the window (they crashed together before gui.audio kept no
    lambda holding a player; see audio_lifetime_child.py)."""
    missing = missing_pulse_binaries()
    if missing:
        pytest.skip(skip_reason(missing))
    _run_child("pulse", "not no_sound_server")


def test_players_survive_many_play_stop_loop_destroy_cycles() -> None:
    """Its own child, because each child module starts its own PulseAudio server and Qt 6.11
    aborts the process (a libpulse assertion) when a sink starts after its first server went away.
    """
    missing = missing_pulse_binaries()
    if missing:
        pytest.skip(skip_reason(missing))
    _run_child("pulse", "", child=LIFETIME_CHILD)


@pytest.mark.parametrize("how", ["quit", "exit"])
def test_quitting_the_app_while_it_plays_exits_cleanly(
    how: str, pulse_server: PulseServer, tmp_path: Path  # noqa: F811
) -> None:
    """The real window (looping) and a stray player play; the app quits (quit() closes the window
    first, exit() leaves it playing); the interpreter ends."""
    # Run as a script, the child finds `tests.support` through PYTHONPATH (the repository root).
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", PULSE_SERVER=pulse_server.address,
                       PYTHONPATH=str(ROOT), MUSICGEN_QUIT_BY_EXIT="1" if how == "exit" else "",
                       **{v: str(tmp_path) for v in ("XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                     "XDG_CACHE_HOME")})
    result = subprocess.run([sys.executable, "-X", "faulthandler", str(LIFETIME_CHILD), "quit",
                             str(tmp_path)], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120, check=False)
    report = result.stdout[-2000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
    assert "playing at quit: True True" in result.stdout, report


def test_no_sound_server_gives_a_sentence_not_an_exception(tmp_path: Path) -> None:
    _run_child("no-server", "no_sound_server", PULSE_SERVER=f"unix:{tmp_path / 'no-server-here'}")
