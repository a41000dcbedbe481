"""End-to-end audio: AudioPlayer's output recorded from a PulseAudio null sink, pitch by pitch.

Each case runs tests/gui/audio_e2e_child.py in a fresh interpreter, because Qt connects to the
sound server once per process and earlier GUI tests in this process may already have looked.
"""

from __future__ import annotations

import os
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
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=180, check=False)
    report = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout, report
    assert "skipped" not in result.stdout and "failed" not in result.stdout, report


def test_player_is_heard_at_the_right_pitches() -> None:
    missing = missing_pulse_binaries()
    if missing:
        pytest.skip(skip_reason(missing))
    _run_child("pulse", "not no_sound_server")


def test_no_sound_server_gives_a_sentence_not_an_exception(tmp_path: Path) -> None:
    _run_child("no-server", "no_sound_server", PULSE_SERVER=f"unix:{tmp_path / 'no-server-here'}")
