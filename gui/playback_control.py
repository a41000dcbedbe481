"""PlaybackController: render a melody in the worker, play it, report the playhead (no widgets:
`gui.transport_control` shows what it says).

`gui.audio.AudioPlayer` (QtMultimedia) is created on the first Play, so QtMultimedia is not on the
start-up path. With no audio device the user is told once, in the status bar.
When a MIDI output port is chosen (`set_midi_port`), Play sends the notes to that port from the
worker instead (`musicgen.playback.midi_port`); listing ports is guarded and may find none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from gui.workers import Worker
from musicgen.melody import TICKS_PER_QUARTER, Melody
from musicgen.progress import ProgressFn, StopFn

__all__ = [
    "PlaybackController",
    "list_midi_ports",
    "play_on_midi_port",
    "seconds_to_ticks",
    "ticks_to_seconds",
]

PortOpener = Callable[[str], Any]
_MIDI_SLEEP_SLICE_S = 0.02  # how soon Stop is heard while a long note sounds on a MIDI port


def ticks_to_seconds(ticks: int, tempo_bpm: float) -> float:
    return ticks / TICKS_PER_QUARTER * 60.0 / tempo_bpm


def seconds_to_ticks(seconds: float, tempo_bpm: float) -> int:
    return round(seconds * tempo_bpm / 60.0 * TICKS_PER_QUARTER)


def _render(melody: Melody, tempo_bpm: float, *, on_progress: ProgressFn | None = None,
            should_stop: StopFn | None = None) -> tuple[Any, int]:
    from musicgen import playback

    samples = playback.render(melody, tempo_bpm=tempo_bpm, on_progress=on_progress,
                              should_stop=should_stop)
    return samples, playback.DEFAULT_SAMPLE_RATE_HZ


def list_midi_ports(*, on_progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> list[str]:
    """The MIDI output port names ([] when there is no MIDI backend or sound system)."""
    from musicgen.playback.midi_port import list_output_ports

    return list_output_ports()


def play_on_midi_port(melody: Melody, tempo_bpm: float, port_name: str,
                      opener: PortOpener | None = None, *, on_progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None) -> None:
    """Open the port, send the melody in real time (stoppable between short sleeps), close it."""
    from musicgen.playback import midi_port

    def sleep(seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0 and not (should_stop and should_stop()):
            time.sleep(min(left, _MIDI_SLEEP_SLICE_S))

    port = (opener or midi_port.open_output_port)(port_name)
    try:
        midi_port.play_on_port(melody, port, tempo_bpm=tempo_bpm, sleep=sleep,
                               on_progress=on_progress, should_stop=should_stop)
    finally:
        port.close()


class PlaybackController(QObject):
    """Play/stop, tempo and loop for one melody at a time."""

    playhead_moved = Signal(object)  # ticks (int) or None when stopped
    playing_changed = Signal(bool)
    position_text = Signal(float, float)  # seconds, total seconds
    message = Signal(str)  # for the status bar
    midi_ports_listed = Signal(object)  # list[str], possibly empty

    def __init__(self, worker: Worker, parent: QObject | None = None,
                 player_factory: Callable[[QObject], Any] | None = None,
                 port_opener: PortOpener | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._factory = player_factory
        self.port_opener = port_opener  # None: mido's own (musicgen.playback.midi_port)
        self.midi_port: str | None = None
        self._player: Any = None
        self._tempo = 120.0
        self._loop = False
        self._told_unavailable = False
        self._cache: tuple[tuple[Melody, float], tuple[Any, int]] | None = None
        self._render_job = None
        self._render_request: tuple[tuple[Melody, float], float] | None = None  # (key, start s)
        self.is_playing = False

    # --- public -------------------------------------------------------------------------------
    def toggle(self, melody: Melody | None, tempo_bpm: float) -> None:
        if self.is_playing or self._render_job is not None:
            self.stop()
        elif melody is not None:
            self.play(melody, tempo_bpm)

    def play(self, melody: Melody, tempo_bpm: float, start_ticks: int = 0) -> None:
        """Render (in the worker, cached) and play from `start_ticks`."""
        self.stop()
        self._tempo = float(tempo_bpm)
        if self.midi_port:
            self._play_midi(melody, start_ticks)
            return
        key = (melody, self._tempo)
        start_s = ticks_to_seconds(start_ticks, self._tempo)
        if self._cache is not None and self._cache[0] == key:
            self._start(self._cache[1], start_s)
            return
        job = self._worker.submit(_render, melody, self._tempo, name="render")
        self._render_job, self._render_request = job, (key, start_s)
        # Bound methods only (`sender()` names the job): a slot capturing the job would be held
        # by the job's own signal, a cycle Python's collector cannot see.
        job.finished.connect(self._rendered)
        job.failed.connect(self._render_failed)
        job.cancelled.connect(self._clear_job)

    def stop(self) -> None:
        if self._render_job is not None:
            self._render_job.stop()
            self._render_job = None
        if self._player is not None:
            self._player.stop()
        self._set_playing(False)

    def set_loop(self, on: bool) -> None:
        self._loop = on
        if self._player is not None:
            self._player.loop = on

    def set_midi_port(self, name: str | None) -> None:
        """Play through this MIDI output port from now on (None: the built-in synthesizer)."""
        self.stop()
        self.midi_port = name or None

    def refresh_midi_ports(self) -> Any:
        """List the MIDI output ports in the worker; `midi_ports_listed` gives the names."""
        job = self._worker.submit(list_midi_ports, name="list MIDI ports")
        job.finished.connect(self.midi_ports_listed)
        return job

    # --- internals ----------------------------------------------------------------------------
    def _play_midi(self, melody: Melody, start_ticks: int) -> None:
        if start_ticks > 0:
            melody = melody.slice_ticks(start_ticks, melody.duration_ticks)
        job = self._worker.submit(play_on_midi_port, melody, self._tempo, self.midi_port,
                                  self.port_opener, name="MIDI playback")
        self._render_job, self._render_request = job, None
        job.finished.connect(self._midi_ended)
        job.cancelled.connect(self._midi_ended)
        job.failed.connect(self._midi_failed)
        self._set_playing(True)

    def _take_current_job(self) -> bool:
        """In a job's slot: True (and forget it) when the sending job is the current one."""
        if self._render_job is None or self.sender() is not self._render_job:
            return False  # stopped or superseded meanwhile
        self._render_job = None
        return True

    def _midi_ended(self, *_result: object) -> None:
        if self._take_current_job():
            self._set_playing(False)

    def _midi_failed(self, exc: BaseException) -> None:
        from gui.errors import describe_exception

        if self._take_current_job():
            self._set_playing(False)
        self.message.emit(describe_exception(exc, f"playing through {self.midi_port}"))

    def _rendered(self, result: tuple[Any, int]) -> None:
        request = self._render_request
        if request is None or not self._take_current_job():
            return
        self._render_request = None
        self._cache = (request[0], result)
        self._start(result, request[1])

    def _render_failed(self, exc: BaseException) -> None:
        from gui.errors import describe_exception

        self._clear_job()
        self.message.emit(describe_exception(exc, "rendering the audio"))

    def _clear_job(self) -> None:
        if self._take_current_job():
            self._render_request = None

    def _ensure_player(self) -> Any:
        if self._player is None:
            if self._factory is not None:
                self._player = self._factory(self)
            else:
                from gui.audio import AudioPlayer

                self._player = AudioPlayer(self)
            self._player.position_changed.connect(self._on_position)
            self._player.finished.connect(self._on_finished)
            self._player.unavailable.connect(self._on_unavailable)
        self._player.loop = self._loop
        return self._player

    def _start(self, rendered: tuple[Any, int], start_s: float) -> None:
        samples, rate = rendered
        if self._ensure_player().play(samples, rate, start_s):
            self._set_playing(True)

    def _on_position(self, seconds: float) -> None:
        self.playhead_moved.emit(seconds_to_ticks(seconds, self._tempo))
        self.position_text.emit(seconds, float(getattr(self._player, "duration", 0.0)))

    def _on_finished(self) -> None:
        self._set_playing(False)

    def _on_unavailable(self, text: str) -> None:
        self._set_playing(False)
        if not self._told_unavailable:
            self._told_unavailable = True
            self.message.emit(text)

    def _set_playing(self, playing: bool) -> None:
        if playing != self.is_playing:
            self.is_playing = playing
            self.playing_changed.emit(playing)
        if not playing:
            self.playhead_moved.emit(None)
