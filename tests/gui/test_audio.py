"""AudioPlayer without a sound device: it reports, never raises (real playback: test_audio_e2e)."""

from __future__ import annotations

import numpy as np
from PySide6.QtMultimedia import QAudioDevice

from gui.audio import NO_DEVICE_MESSAGE, AudioPlayer


def test_null_device_emits_unavailable_and_does_not_play(qtbot) -> None:
    player = AudioPlayer(device=QAudioDevice())  # a null device: what Qt gives with no server
    changes: list[bool] = []
    player.playing_changed.connect(changes.append)
    with qtbot.waitSignal(player.unavailable, timeout=2_000) as blocker:
        started = player.play(np.zeros(4410, dtype=np.float32), 44100)
    assert started is False
    assert blocker.args == [NO_DEVICE_MESSAGE]
    assert not player.is_playing() and player.position() == 0.0 and changes == []


def test_stop_without_playing_is_harmless(qtbot) -> None:
    player = AudioPlayer()
    with qtbot.assertNotEmitted(player.playing_changed):
        player.stop()
        player.stop()
    assert not player.is_playing()
