"""Playback for the window: render a melody in the worker, play it, move the playhead.

`gui.audio.AudioPlayer` (QtMultimedia) is created on the first Play, so QtMultimedia is not on the
start-up path. With no audio device the user is told once, in the status bar.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from musicgen.melody import TICKS_PER_QUARTER, Melody

from gui.workers import Worker

__all__ = ["PlaybackController", "ticks_to_seconds", "seconds_to_ticks"]


def ticks_to_seconds(ticks: int, tempo_bpm: float) -> float:
    return ticks / TICKS_PER_QUARTER * 60.0 / tempo_bpm


def seconds_to_ticks(seconds: float, tempo_bpm: float) -> int:
    return int(round(seconds * tempo_bpm / 60.0 * TICKS_PER_QUARTER))


def _render(melody: Melody, tempo_bpm: float, *, on_progress: Any = None,
            should_stop: Any = None) -> tuple[Any, int]:
    from musicgen import playback

    samples = playback.render(melody, tempo_bpm=tempo_bpm, on_progress=on_progress,
                              should_stop=should_stop)
    return samples, playback.DEFAULT_SAMPLE_RATE_HZ


class PlaybackController(QObject):
    """Play/stop, tempo and loop for one melody at a time."""

    playhead_moved = Signal(object)  # ticks (int) or None when stopped
    playing_changed = Signal(bool)
    position_text = Signal(float, float)  # seconds, total seconds
    message = Signal(str)  # for the status bar

    def __init__(self, worker: Worker, parent: QObject | None = None,
                 player_factory: Callable[[QObject], Any] | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._factory = player_factory
        self._player: Any = None
        self._tempo = 120.0
        self._loop = False
        self._told_unavailable = False
        self._cache: tuple[tuple[Melody, float], tuple[Any, int]] | None = None
        self._render_job = None
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
        key = (melody, self._tempo)
        start_s = ticks_to_seconds(start_ticks, self._tempo)
        if self._cache is not None and self._cache[0] == key:
            self._start(self._cache[1], start_s)
            return
        job = self._worker.submit(_render, melody, self._tempo, name="render")
        self._render_job = job
        job.finished.connect(lambda result, k=key, s=start_s, j=job: self._rendered(j, k, result, s))
        job.failed.connect(lambda exc, j=job: self._render_failed(j, exc))
        job.cancelled.connect(lambda j=job: self._clear_job(j))

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

    # --- internals ----------------------------------------------------------------------------
    def _rendered(self, job: Any, key: tuple[Melody, float], result: tuple[Any, int],
                  start_s: float) -> None:
        if job is not self._render_job:
            return  # stopped or superseded meanwhile
        self._render_job = None
        self._cache = (key, result)
        self._start(result, start_s)

    def _render_failed(self, job: Any, exc: BaseException) -> None:
        from gui.errors import describe_exception

        self._clear_job(job)
        self.message.emit(describe_exception(exc, "rendering the audio"))

    def _clear_job(self, job: Any) -> None:
        if job is self._render_job:
            self._render_job = None

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
