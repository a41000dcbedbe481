"""AudioPlayer heard for real: played into a private PulseAudio null sink and recorded with parec.

Run through tests/gui/test_audio_e2e.py, which starts this module in a fresh interpreter (Qt binds
to a sound server once per process; see conftest_audio). Not collected on its own.
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import numpy as np
import pytest

from gui.audio import NO_DEVICE_MESSAGE, AudioPlayer
from musicgen.melody import TICKS_PER_QUARTER, Melody, Note
from musicgen.playback import Rendering, Voice, render_with_playhead
from musicgen.playback.analysis import cents_between, estimate_frequency_hz, first_sound_index, rms
from musicgen.playback.voices import midi_to_hz
from tests.support.audio import PulseServer, pulse_server  # noqa: F401  (fixture)

MODE = os.environ.get("MUSICGEN_AUDIO_CHILD", "")
pytestmark = pytest.mark.skipif(not MODE, reason="run through tests/gui/test_audio_e2e.py")
Q = TICKS_PER_QUARTER
SR = 44100
# A 4-note figure, a rest, and a held note, at 150 bpm: 2.8 seconds.
MELODY = Melody(
    (Note(67, 0, Q), Note(71, Q, Q), Note(74, 2 * Q, Q), Note(79, 3 * Q, Q), Note(None, 4 * Q, Q),
     Note(72, 5 * Q, 2 * Q)),
    tempo_bpm=150.0,
)


def _check_pitches(recorded: np.ndarray, rendering: Rendering, skip_before_s: float = 0.0) -> None:
    """Each note of `rendering` (from `skip_before_s` on) is heard at its pitch; rests are quiet."""
    start = first_sound_index(recorded)
    assert start is not None, "nothing was heard"
    for timing in rendering.timings:
        if timing.end_s <= skip_before_s:
            continue
        a = start + int((timing.onset_s - skip_before_s + 0.05) * SR)
        b = start + int((timing.end_s - skip_before_s - 0.05) * SR)
        segment = recorded[a:b]
        if timing.pitch is None:
            assert rms(segment) < 0.003, f"the rest at {timing.onset_s:.2f}s is not silent"
            continue
        measured = estimate_frequency_hz(segment, SR)
        assert measured is not None, f"no pitch at {timing.onset_s:.2f}s"
        error = cents_between(measured, midi_to_hz(timing.pitch))
        assert abs(error) < 10.0, f"note at {timing.onset_s:.2f}s is {error:+.1f} cents out"


def _heard_through(recording, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    samples = recording.samples()
    start = first_sound_index(samples)
    return start is not None and samples.size >= start + int((seconds + 0.3) * SR)


@pytest.mark.skipif(MODE != "pulse", reason="needs the private PulseAudio server")
def test_played_melody_is_recorded_at_the_right_pitches(
    qtbot, pulse_server: PulseServer, tmp_path  # noqa: F811
) -> None:
    rendering = render_with_playhead(MELODY, voice=Voice.FIDDLE)
    recording = pulse_server.record(tmp_path / "played.raw")
    qtbot.waitUntil(recording.has_started, timeout=10_000)
    player = AudioPlayer()
    positions: list[float] = []
    problems: list[str] = []
    player.position_changed.connect(positions.append)
    player.unavailable.connect(problems.append)
    with qtbot.waitSignal(player.finished, timeout=int(rendering.duration_s * 1000) + 10_000):
        assert player.play(rendering.samples, SR)
    assert problems == []
    assert not player.is_playing()
    qtbot.waitUntil(lambda: _heard_through(recording, rendering.duration_s), timeout=10_000)
    _check_pitches(recording.stop(), rendering)
    # The playhead moved forward about 30 times a second and ended at the end.
    assert positions == sorted(positions)
    assert len(positions) >= rendering.duration_s * 15
    assert positions[-1] == pytest.approx(rendering.duration_s)


@pytest.mark.skipif(MODE != "pulse", reason="needs the private PulseAudio server")
def test_start_offset_loop_and_stop(
    qtbot, pulse_server: PulseServer, tmp_path  # noqa: F811
) -> None:
    rendering = render_with_playhead(MELODY, voice=Voice.FLUTE)
    third = rendering.timings[2].onset_s
    recording = pulse_server.record(tmp_path / "looped.raw")
    qtbot.waitUntil(recording.has_started, timeout=10_000)
    player = AudioPlayer()
    player.loop = True
    positions: list[float] = []
    finished: list[bool] = []
    player.position_changed.connect(positions.append)
    player.finished.connect(lambda: finished.append(True))
    assert player.play(rendering.samples, SR, start_seconds=third)
    # Looping: the playhead comes back to the start after the first pass.
    qtbot.waitUntil(lambda: any(b < a - 1.0 for a, b in zip(positions, positions[1:])),
                    timeout=int(rendering.duration_s * 1000) + 10_000)
    assert positions[0] >= third - 1e-6
    assert player.is_playing() and finished == []
    with qtbot.waitSignal(player.playing_changed, timeout=5_000) as stopped:
        player.stop()
    assert stopped.args == [False]
    assert finished == []
    heard = recording.stop()
    # The first pass started at the third note (D5), not at the first (G4).
    _check_pitches(heard[: first_sound_index(heard) + int((rendering.duration_s - third) * SR)],
                   rendering, skip_before_s=third)


class _Arrivals:
    """When each recorded sample reached the recording file (monotonic seconds), sampled every
    5 ms from the event loop: the wall-clock time at which the null sink really played it."""

    def __init__(self, recording) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QTimer

        self._recording = recording
        self.marks: list[tuple[float, int]] = []
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self.sample)
        self._timer.start()

    def sample(self) -> int:
        frames = self._recording.path.stat().st_size // 2
        self.marks.append((time.monotonic(), frames))
        return frames

    def time_of(self, frame: int) -> float:
        """The first moment the file held `frame` (the sound had been played by then)."""
        return next(t for t, frames in self.marks if frames > frame)

    def stop(self) -> None:
        self._timer.stop()


@pytest.mark.skipif(MODE != "pulse", reason="needs the private PulseAudio server")
def test_playhead_and_finished_follow_the_sound_in_time(
    qtbot, pulse_server: PulseServer, tmp_path  # noqa: F811
) -> None:
    """The playhead passes 0.3 s within 0.6 s of play(), never ahead of the recorded sound, and
    `finished` comes within 0.5 s of the sound's real end (regression: a 2 s late playhead)."""
    seconds = 1.2
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * np.arange(int(seconds * SR)) / SR)
    recording = pulse_server.record(tmp_path / "timed.raw")
    qtbot.waitUntil(recording.has_started, timeout=10_000)
    arrivals = _Arrivals(recording)
    player = AudioPlayer()
    moves: list[tuple[float, float]] = []
    player.position_changed.connect(lambda s: moves.append((time.monotonic(), s)))
    first_frame = arrivals.sample()
    started = time.monotonic()
    with qtbot.waitSignal(player.finished, timeout=10_000):
        assert player.play(tone.astype(np.float32), SR)
    finished_at = time.monotonic()
    qtbot.waitUntil(lambda: _heard_through(recording, seconds), timeout=10_000)
    arrivals.stop()
    heard = recording.stop()[first_frame:]
    loud = np.flatnonzero(np.abs(heard) > 0.02)
    sound_start, sound_end = arrivals.time_of(first_frame + loud[0]), \
        arrivals.time_of(first_frame + loud[-1])
    assert sound_end - sound_start == pytest.approx(seconds, abs=0.1)
    at_03 = next(t for t, s in moves if s >= 0.3)
    assert at_03 - started < 0.6, f"the playhead passed 0.3 s only {at_03 - started:.2f} s after play"
    # Not ahead of the sound either (the file learns of a sample up to ~30 ms after it played).
    assert at_03 >= sound_start + 0.3 - 0.1, f"playhead {sound_start + 0.3 - at_03:.2f} s early"
    assert abs(finished_at - sound_end) < 0.5, \
        f"finished came {finished_at - sound_end:+.2f} s after the sound's end"


@pytest.mark.skipif(MODE != "no-server", reason="needs PULSE_SERVER pointing at no server")
def test_no_sound_server_is_reported_not_raised(qtbot) -> None:
    player = AudioPlayer()
    rendering = render_with_playhead(MELODY)
    with qtbot.waitSignal(player.unavailable, timeout=5_000) as blocker:
        started = player.play(rendering.samples, SR)
    assert started is False
    assert blocker.args == [NO_DEVICE_MESSAGE]
    assert not player.is_playing()


@pytest.mark.skipif(MODE != "pulse", reason="needs the private PulseAudio server")
def test_the_window_plays_its_seed_at_the_right_pitches(
    qtbot, pulse_server: PulseServer, window, tmp_path  # noqa: F811
) -> None:
    """The real MainWindow: a known seed, Play (the Space action), heard through the null sink."""
    from PySide6.QtGui import QKeySequence

    from musicgen.playback import note_times

    with qtbot.waitSignal(window.seed.seed_changed, timeout=10_000):
        window.seeds.use(MELODY)
    assert window.ui.transport.tempo_bpm == 150
    timings = note_times(MELODY, tempo_bpm=150.0)
    duration_s = timings[-1].end_s
    recording = pulse_server.record(tmp_path / "window.raw")
    qtbot.waitUntil(recording.has_started, timeout=10_000)
    statuses: list[str] = []
    window.status.message_changed.connect(statuses.append)
    playheads: list[object] = []
    window.playback.playhead_moved.connect(playheads.append)
    assert window.actions.play.shortcut() == QKeySequence("Space")
    with qtbot.waitSignal(window.playback.playing_changed, timeout=10_000,
                          check_params_cb=lambda playing: playing):
        window.actions.play.trigger()
    assert window.ui.transport.play_button.text().endswith("Stop")
    with qtbot.waitSignal(window.playback.playing_changed, timeout=int(duration_s * 1000) + 10_000,
                          check_params_cb=lambda playing: not playing):
        pass
    assert NO_DEVICE_MESSAGE not in statuses
    qtbot.waitUntil(lambda: _heard_through(recording, duration_s), timeout=10_000)
    _check_pitches(recording.stop(), SimpleNamespace(timings=timings))  # type: ignore[arg-type]
    # The piano roll's playhead moved forward through the tune, then was cleared.
    ticks = [t for t in playheads if t is not None]
    assert len(ticks) > 20 and ticks == sorted(ticks) and playheads[-1] is None
    assert ticks[-1] >= MELODY.duration_ticks - TICKS_PER_QUARTER
