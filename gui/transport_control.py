"""TransportControl: which melody the piano roll shows, and playing it: Play/Stop, seek by clicking
the roll, tempo, loop, and the output (the built-in synthesizer or a MIDI port).

It drives the piano roll, the transport bar and the Loop action, and plays through a
`PlaybackController` (rendering and MIDI output in the worker); what playback has to say (no audio
device, a port that failed) goes to the `StatusArea`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from gui.playback_control import PlaybackController
from gui.status import StatusArea
from gui.widgets.piano_roll import PianoRollView
from gui.widgets.transport import TransportBar
from musicgen.melody import Melody

__all__ = ["TransportControl"]


class TransportControl(QObject):
    """The shown melody and its playback."""

    def __init__(self, roll: PianoRollView, transport: TransportBar, loop_action: QAction,
                 playback: PlaybackController, status: StatusArea,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._roll, self._transport, self._loop_action = roll, transport, loop_action
        self.playback = playback
        roll.seek_requested.connect(self.play_from)
        transport.play_clicked.connect(self.toggle)
        transport.loop_toggled.connect(self.set_loop)
        transport.output_changed.connect(playback.set_midi_port)
        loop_action.toggled.connect(transport.loop_check.setChecked)
        playback.midi_ports_listed.connect(transport.set_midi_ports)
        transport.find_ports_requested.connect(self.find_midi_ports)
        self._status = status
        playback.playing_changed.connect(transport.set_playing)
        playback.playhead_moved.connect(roll.set_playhead)
        playback.position_text.connect(transport.set_position)
        playback.message.connect(status.show_message)

    def find_midi_ports(self) -> None:
        """Look for MIDI output ports (in the worker) and say what was found in the status line;
        the output list shows the ports, or "No MIDI port found"."""
        self._status.show_message("Looking for MIDI output ports…")
        job = self.playback.refresh_midi_ports()
        job.finished.connect(lambda names: self._status.show_message(_ports_found(names)))

    @property
    def shown(self) -> Melody | None:
        """The melody in the piano roll (what Play plays)."""
        return self._roll.melody

    def show(self, melody: Melody | None, pitch_range: tuple[int, int] | None = None) -> None:
        """Show a melody in the piano roll (stops what was playing); ``pitch_range`` fixes the
        roll's rows (a set's range, so its variations line up)."""
        self.playback.stop()
        self._roll.set_melody(melody, pitch_range)
        if melody is not None:
            self._transport.set_meter(melody.meter)

    def toggle(self) -> None:
        """Play the shown melody, or stop."""
        self.playback.toggle(self.shown, self._transport.tempo_bpm)

    def play_from(self, tick: int) -> None:
        if self.shown is not None:
            self.playback.play(self.shown, self._transport.tempo_bpm, tick)

    def set_loop(self, on: bool) -> None:
        self._loop_action.setChecked(on)
        self.playback.set_loop(on)

    def set_tempo(self, tempo_bpm: float) -> None:
        """Play at this tempo from now on (a new seed brings its own)."""
        self._transport.set_tempo(tempo_bpm)


def _ports_found(names: list[str]) -> str:
    if not names:
        return ("No MIDI output port was found: playback uses the built-in synthesizer (ports need "
                "a MIDI backend such as python-rtmidi and a sound system).")
    listed = ", ".join(names)
    return (f"Found {len(names)} MIDI output port{'s' if len(names) != 1 else ''}: {listed}. "
            "Choose one in the output list beside Loop.")
