"""The optional MIDI output port (issue 5, item 6): listing is guarded, the choice is disabled with a
reason when there is no port (said in the list and the status line), and Play sends the shown melody to the chosen port from the worker.

This machine has no MIDI backend (python-rtmidi) and no ALSA sequencer, so no virtual port can be
opened; the port played through is a real `mido.ports.BaseOutput` that keeps what it is sent.
"""

from __future__ import annotations

import mido
import pytest

from gui.playback_control import list_midi_ports
from gui.widgets.transport import FIND_PORTS, NO_MIDI_PORTS_TIP, NO_PORT_FOUND, SYNTH_OUTPUT
from musicgen.melody import Melody


class RecordingPort(mido.ports.BaseOutput):
    """A mido output port that keeps every message it is sent (instead of a synthesizer)."""

    def _open(self, **kwargs):
        self.sent: list[mido.Message] = []

    def _send(self, message):
        self.sent.append(message)


@pytest.fixture
def no_midi_backend(monkeypatch):
    """mido pointed at a backend module that does not exist (as on a machine without rtmidi)."""
    backend = mido.backend
    mido.set_backend("mido.backends.not_installed_here", load=False)
    yield
    mido.backend = backend


def test_listing_ports_without_a_backend_gives_no_ports(no_midi_backend):
    with pytest.raises(ImportError):
        mido.get_output_names()  # what the guard protects the app from
    assert list_midi_ports() == []


def test_finding_no_ports_is_answered_in_the_window(qtbot, window, no_midi_backend):
    """The answer was only a tooltip on a disabled control: now the output list says "No MIDI
    port found" and the status line says why, whether asked from the menu or from the list."""
    combo = window.ui.transport.output_combo
    with qtbot.waitSignal(window.playback.midi_ports_listed, timeout=30000) as listed:
        window.actions.refresh_midi_ports.trigger()
    assert listed.args == [[]]
    assert combo.isEnabled()
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == [SYNTH_OUTPUT, NO_PORT_FOUND, "", FIND_PORTS]  # "" is the separator
    assert not combo.model().item(1).isEnabled()
    assert combo.toolTip() == NO_MIDI_PORTS_TIP
    qtbot.waitUntil(lambda: "No MIDI output port was found" in window.status.message)
    assert "built-in synthesizer" in window.status.message
    window.status.show_message("")
    with qtbot.waitSignal(window.playback.midi_ports_listed, timeout=30000):
        combo.setCurrentIndex(items.index(FIND_PORTS))  # "Find MIDI ports…" in the list
    assert combo.currentIndex() == 0 and window.playback.midi_port is None
    qtbot.waitUntil(lambda: "No MIDI output port was found" in window.status.message)


def _choose_port(qtbot, window, name: str) -> list[RecordingPort]:
    opened: list[RecordingPort] = []
    window.playback.port_opener = lambda port_name: opened.append(RecordingPort(port_name)) or \
        opened[-1]
    window.playback.midi_ports_listed.emit([name])  # as a listing that found one port would
    combo = window.ui.transport.output_combo
    assert combo.isEnabled() and combo.itemText(1) == f"MIDI: {name}"
    combo.setCurrentIndex(1)
    assert window.playback.midi_port == name
    return opened


def test_play_sends_the_melody_to_the_chosen_port(qtbot, window):
    opened = _choose_port(qtbot, window, "Test Synth")
    melody = Melody.from_pitches([62, 66, 69, None, 74], duration_ticks=6, tempo_bpm=300.0,
                                 title="arpeggio")
    window.seeds.use(melody)
    window.ui.transport.tempo_spin.setValue(300)
    with qtbot.waitSignal(window.playback.playing_changed, timeout=5000,
                          check_params_cb=lambda playing: playing is False):
        window.ui.transport.play_button.click()
        assert window.ui.transport.play_button.text().endswith("Stop")
    [port] = opened
    assert port.name == "Test Synth" and port.closed
    ons = [m.note for m in port.sent if m.type == "note_on" and m.velocity > 0]
    offs = [m.note for m in port.sent if m.type == "note_off"]
    assert ons == [62, 66, 69, 74] and sorted(offs) == sorted(ons)
    assert port.sent[0].type == "program_change"
    assert window.ui.transport.play_button.text().endswith("Play")


def test_stop_silences_the_port(qtbot, window):
    opened = _choose_port(qtbot, window, "Test Synth")
    window.seeds.use(Melody.from_pitches([60, 64, 67, 72] * 8, duration_ticks=24, tempo_bpm=60.0))
    window.ui.transport.tempo_spin.setValue(60)
    with qtbot.waitSignal(window.playback.playing_changed, timeout=5000):
        window.ui.transport.play_button.click()
    qtbot.waitUntil(lambda: bool(opened) and bool(opened[0].sent), timeout=5000)
    window.ui.transport.play_button.click()  # Stop
    assert not window.playback.is_playing
    qtbot.waitUntil(lambda: opened[0].closed, timeout=5000)
    notes = [m for m in opened[0].sent if m.type in ("note_on", "note_off")]
    assert len(notes) < 64  # stopped long before the end
    ons = [m.note for m in notes if m.type == "note_on"]
    offs = [m.note for m in notes if m.type == "note_off"]
    assert sorted(ons) == sorted(offs)  # every note that sounded was silenced


def test_back_to_the_synthesizer(qtbot, window):
    _choose_port(qtbot, window, "Test Synth")
    window.ui.transport.output_combo.setCurrentIndex(0)
    assert window.playback.midi_port is None
