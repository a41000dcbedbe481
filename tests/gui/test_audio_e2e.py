"""End-to-end audio: AudioPlayer's output, and the real window's Play, recorded from a PulseAudio
null sink, pitch by pitch.

Each case runs tests/gui/audio_e2e_child.py in a fresh interpreter, because Qt connects to the
sound server once per process and earlier GUI tests in this process may already have looked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_audio import missing_pulse_binaries, skip_reason

pytestmark = pytest.mark.audio
CHILD = Path(__file__).with_name("audio_e2e_child.py")
ROOT = Path(__file__).resolve().parents[2]


def _run_child(mode: str, selection: str, **env: str) -> None:
    environment = dict(os.environ, MUSICGEN_AUDIO_CHILD=mode, QT_QPA_PLATFORM="offscreen", **env)
    command = [sys.executable, "-m", "pytest", str(CHILD), "-q", "-p", "no:cacheprovider",
               "-k", selection]
    # Own process group: if the child hangs, its pulseaudio and parec go down with it.
    child = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        stdout, stderr = child.communicate()
    report = stdout[-4000:] + stderr[-2000:]
    assert child.returncode == 0, report
    assert " passed" in stdout, report
    assert "skipped" not in stdout and "failed" not in stdout, report


def test_player_is_heard_at_the_right_pitches() -> None:
    missing = missing_pulse_binaries()
    if missing:
        pytest.skip(skip_reason(missing))
    _run_child("pulse", "not no_sound_server and not window_plays")


def test_the_window_is_heard_at_the_right_pitches() -> None:
    """Its own child: after the two players above are collected, Qt Multimedia in the same process
    crashed (SIGSEGV) on the next event loop turn; the app keeps one player for its lifetime."""
    missing = missing_pulse_binaries()
    if missing:
        pytest.skip(skip_reason(missing))
    _run_child("pulse", "window_plays")


def test_no_sound_server_gives_a_sentence_not_an_exception(tmp_path: Path) -> None:
    _run_child("no-server", "no_sound_server", PULSE_SERVER=f"unix:{tmp_path / 'no-server-here'}")
