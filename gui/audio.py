"""Audio playback for the app: a rendered PCM buffer through Qt's audio output, with a playhead.

`AudioPlayer` never raises for a missing or broken audio device: it emits `unavailable` with one
plain sentence and the app keeps working. Render first (``musicgen.playback.render``, in a worker
for long tunes), then hand the samples to `play`.

Qt binds its PulseAudio connection once per process: a process that looked for devices while no
sound server ran keeps seeing none, even after one starts.

Lifetimes (each rule fixes a crash or a leak): every play makes a `QAudioSink` child of the player
and a `QBuffer` child of that sink, so Qt always destroys a sink before the buffer it reads, whoever
deletes it. No connection holds a Python reference to the player or a sink (bound methods only,
`sender()` tells the sinks apart): a lambda capturing them kept an unparented player alive until its
old sink's deferred delete, whose disconnect then freed the player inside the sink's own
destructor, and the player deleted that sink a second time (SIGSEGV). Sinks are stopped and
disconnected before a new one starts, and deleted later, never inside their own signals.

Timing: `position` is what the sound server has taken from the sink (``processedUSecs``), which is
when the sound is played. Recorded from a PulseAudio null sink (tests/gui/audio_e2e_child.py) the
playhead passes 0.3 s 0.29-0.32 s after `play` and `finished` comes within 20 ms of the sound's end.
A null sink that nobody listens to at low latency renders up to 2 s of silence ahead and plays
nothing new until its clock catches up: there the sound itself starts up to 2 s late, and so does
the playhead (a wall-clock playhead would run ahead of the sound and end before it). A smaller
sink buffer (`QAudioSink.setBufferSize`, 50 ms) changed neither, so the default is kept.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSink, QMediaDevices, QtAudio

from musicgen.playback import float_to_int16

__all__ = ["AudioPlayer", "NO_DEVICE_MESSAGE"]

NO_DEVICE_MESSAGE = (
    "No audio output device was found, so the melody cannot be played "
    "(is a sound server such as PulseAudio or PipeWire running?)."
)
_BYTES_PER_FRAME = 2  # 16-bit mono


class AudioPlayer(QObject):
    """Plays 16-bit mono PCM on the default (or a given) audio output device.

    Signals:
        position_changed(float): seconds from the start of the buffer, about 30 times a second
            while playing, for a playhead (see ``Rendering.note_index_at``); once more with the
            full duration when the end is reached.
        finished(): the buffer played to its end (not emitted by `stop`, nor while looping).
        unavailable(str): playback could not start or broke off (no device, the device refused
            the format, the sound server went away); one sentence to show the user.
        playing_changed(bool): playback started (True) or ended for any reason (False).
    """

    position_changed = Signal(float)
    finished = Signal()
    unavailable = Signal(str)
    playing_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        device: QAudioDevice | None = None,
        tick_interval_ms: int = 33,
    ) -> None:
        super().__init__(parent)
        self._device = device  # None: the system default at each play()
        self._pcm = QByteArray()  # int16 samples of the last play(); each sink has a QBuffer on it
        self._sink: QAudioSink | None = None
        self._buffer: QBuffer | None = None  # the current sink's child
        self._sample_rate = 44100
        self._duration_s = 0.0
        self._offset_s = 0.0  # where in the buffer the sink started (start_seconds, or 0 on loops)
        self._active_device = QAudioDevice()
        self._active_format = QAudioFormat()
        self.loop = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_interval_ms)
        self._timer.timeout.connect(self._emit_position)
        # The end is handled on the next event loop turn, not inside the sink's signal; a child
        # timer (not QTimer.singleShot with a callable) holds no reference to the player.
        self._end_timer = QTimer(self)
        self._end_timer.setSingleShot(True)
        self._end_timer.setInterval(0)
        self._end_timer.timeout.connect(self._reached_end)

    # --- public --------------------------------------------------------------------------------
    def play(self, pcm: np.ndarray, sample_rate: int, start_seconds: float = 0.0) -> bool:
        """Start playing `pcm` (float in [-1, 1] or int16) from `start_seconds`.

        Stops whatever was playing. Returns False (after emitting `unavailable`) when no device
        can play it.
        """
        self.stop()
        device = self._device if self._device is not None else QMediaDevices.defaultAudioOutput()
        if device.isNull():
            self.unavailable.emit(NO_DEVICE_MESSAGE)
            return False
        audio_format = QAudioFormat()
        audio_format.setSampleRate(int(sample_rate))
        audio_format.setChannelCount(1)
        audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(audio_format):
            self.unavailable.emit(
                f"The audio device {device.description()} cannot play 16-bit mono audio "
                f"at {sample_rate} Hz."
            )
            return False
        data = float_to_int16(np.asarray(pcm).reshape(-1)).astype("<i2").tobytes()
        self._pcm = QByteArray(data)  # a copy owned by Qt: Python's collector cannot free it
        self._sample_rate = int(sample_rate)
        self._duration_s = len(data) / _BYTES_PER_FRAME / self._sample_rate
        self._active_device, self._active_format = device, audio_format
        start = min(max(start_seconds, 0.0), self._duration_s)
        return self._start_sink(start, announce=True)

    def stop(self) -> None:
        """Stop at once (no `finished`); harmless when nothing plays."""
        was_playing = self._sink is not None
        self._timer.stop()
        self._end_timer.stop()
        self._release_sink()
        if was_playing:
            self.playing_changed.emit(False)

    def is_playing(self) -> bool:
        return self._sink is not None

    def position(self) -> float:
        """Seconds from the start of the buffer of what has been handed to the device."""
        if self._sink is None:
            return 0.0
        return min(self._offset_s + self._sink.processedUSecs() / 1e6, self._duration_s)

    @property
    def duration(self) -> float:
        """Length in seconds of the buffer last given to `play`."""
        return self._duration_s

    # --- internals -----------------------------------------------------------------------------
    def _start_sink(self, start: float, *, announce: bool) -> bool:
        frame = int(round(start * self._sample_rate))
        self._offset_s = frame / self._sample_rate
        sink = QAudioSink(self._active_device, self._active_format, self)
        buffer = QBuffer(sink)  # the sink's child: destroyed after the sink, never before
        buffer.setData(self._pcm)  # shares the bytes, no copy
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        buffer.seek(frame * _BYTES_PER_FRAME)
        # A bound method without arguments: PySide 6.11 cannot convert the QAudio::State
        # argument, and a lambda would hold the player and the sink alive (see the module doc).
        sink.stateChanged.connect(self._on_state_changed)
        self._sink, self._buffer = sink, buffer
        sink.start(buffer)
        if sink.error() not in (QtAudio.Error.NoError, QtAudio.Error.UnderrunError):
            self._fail(sink.error())
            return False
        self._timer.start()
        if announce:
            self.playing_changed.emit(True)
        return True

    def _release_sink(self) -> None:
        """Disconnect and stop the current sink; Qt deletes it (and its buffer) later."""
        sink, self._sink, self._buffer = self._sink, None, None
        if sink is None:
            return
        sink.stateChanged.disconnect(self._on_state_changed)
        sink.stop()
        sink.deleteLater()  # may be inside its own stateChanged (via _fail): never delete now

    def _emit_position(self) -> None:
        if self._sink is not None:
            self.position_changed.emit(self.position())

    def _on_state_changed(self) -> None:
        sink, buffer = self._sink, self._buffer
        if sink is None or buffer is None or self.sender() is not sink:
            return  # a sink already stopped or replaced
        state = sink.state()
        if state == QtAudio.State.StoppedState and sink.error() not in (
            QtAudio.Error.NoError,
            QtAudio.Error.UnderrunError,
        ):
            self._fail(sink.error())
        elif state == QtAudio.State.IdleState and buffer.atEnd():
            self._end_timer.start()  # restarting or deleting the sink here is not safe

    def _reached_end(self) -> None:
        if self._sink is None or self._buffer is None or not self._buffer.atEnd():
            return
        if self.loop:
            self._timer.stop()
            self._release_sink()
            self._start_sink(0.0, announce=False)
            return
        self.position_changed.emit(self._duration_s)
        self.stop()
        self.finished.emit()

    def _fail(self, error: QtAudio.Error) -> None:
        reasons = {
            QtAudio.Error.OpenError: "the audio device could not be opened",
            QtAudio.Error.IOError: "writing to the audio device failed",
            QtAudio.Error.FatalError: "the audio device stopped working",
        }
        reason = reasons.get(error, "the audio device reported an error")
        self.stop()
        self.unavailable.emit(f"Playback stopped: {reason}.")
