"""MIDI port playback: the messages and their timing, sent to a real in-memory mido port."""

from __future__ import annotations

import mido
import pytest

from musicgen.errors import Cancelled, PlaybackError
from musicgen.melody import TICKS_PER_QUARTER, Melody, Note
from musicgen.playback.midi_port import (
    list_output_ports,
    melody_to_messages,
    open_output_port,
    play_on_port,
)


class RecordingPort(mido.ports.BaseOutput):
    """A mido output port that keeps what it is sent (mido's documented way to define a port)."""

    def _open(self, **kwargs: object) -> None:
        self.sent: list[mido.Message] = []

    def _send(self, message: mido.Message) -> None:
        self.sent.append(message)


Q = TICKS_PER_QUARTER
MELODY = Melody((Note(60, 0, Q), Note(60, Q, Q), Note(None, 2 * Q, Q), Note(67, 3 * Q, 2 * Q)))


def test_listing_ports_never_raises() -> None:
    ports = list_output_ports()
    assert isinstance(ports, list)
    assert all(isinstance(name, str) for name in ports)


def test_opening_a_missing_port_is_a_playback_error() -> None:
    with pytest.raises(PlaybackError, match="no-such-port"):
        open_output_port("no-such-port")


def test_messages_are_timed_and_repeated_notes_restrike() -> None:
    events = melody_to_messages(MELODY, tempo_bpm=120.0, program=73)
    described = [(round(t, 3), m.type, getattr(m, "note", None)) for t, m in events]
    assert described == [
        (0.0, "program_change", None),
        (0.0, "note_on", 60),
        (0.5, "note_off", 60),
        (0.5, "note_on", 60),
        (1.0, "note_off", 60),
        (1.5, "note_on", 67),
        (2.5, "note_off", 67),
    ]
    assert events[0][1].program == 73


def test_play_on_port_sends_everything_with_the_injected_clock() -> None:
    port = RecordingPort()
    waits: list[float] = []
    progress: list[float] = []
    play_on_port(MELODY, port, tempo_bpm=120.0, sleep=waits.append, on_progress=lambda done, total, message: progress.append(done / total))
    assert [m.type for m in port.sent].count("note_on") == 3
    assert waits == pytest.approx([0.5, 0.5, 0.5, 1.0])
    assert sum(waits) == pytest.approx(2.5)
    assert progress[-1] == pytest.approx(1.0)


def test_stopping_silences_the_sounding_note() -> None:
    port = RecordingPort()
    with pytest.raises(Cancelled):
        play_on_port(MELODY, port, sleep=lambda s: None, should_stop=lambda: len(port.sent) >= 2)
    assert [(m.type, m.note) for m in port.sent[1:]] == [("note_on", 60), ("note_off", 60)]
