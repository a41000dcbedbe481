"""Optional playback to a MIDI output port (a hardware synth or a software one) through mido.

Listing ports needs a MIDI backend (python-rtmidi) and a sound system; either may be missing, so
`list_output_ports` returns [] rather than raising. `play_on_port` sends a melody to any open mido
output port in real time; its clock (`sleep`) is injected so it can run instantly in tests.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from musicgen.errors import Cancelled, PlaybackError
from musicgen.progress import ProgressFn, StopFn, report
from musicgen.melody import TICKS_PER_QUARTER, Melody

if TYPE_CHECKING:
    import mido

__all__ = ["list_output_ports", "open_output_port", "melody_to_messages", "play_on_port"]


def list_output_ports() -> list[str]:
    """Names of the MIDI output ports, or [] when there is no MIDI backend or sound system."""
    try:
        import mido

        return list(mido.get_output_names())
    except Exception:  # noqa: BLE001 - any backend failure means "no ports", by contract
        return []


def open_output_port(name: str | None = None) -> mido.ports.BaseOutput:
    """Open a MIDI output port by name (the backend's default when None)."""
    import mido

    try:
        return mido.open_output(name)
    except Exception as exc:  # noqa: BLE001 - backends raise OSError, ImportError, RtMidi errors
        label = name if name is not None else "the default MIDI port"
        raise PlaybackError(f"Cannot open {label}: {exc}.") from exc


def melody_to_messages(
    melody: Melody,
    *,
    tempo_bpm: float | None = None,
    program: int = 40,
    channel: int = 0,
    velocity: int = 80,
) -> list[tuple[float, Any]]:
    """(seconds, mido.Message) pairs: a program change, then note_on/note_off for every note.

    At equal times a note_off comes before the next note_on, so repeated pitches re-strike.
    """
    import mido

    bpm = melody.tempo_bpm if tempo_bpm is None else tempo_bpm
    if not bpm > 0:
        raise PlaybackError(f"Cannot play at a tempo of {bpm} bpm: the tempo must be above 0.")
    spt = 60.0 / (bpm * TICKS_PER_QUARTER)
    events: list[tuple[float, Any]] = [
        (0.0, mido.Message("program_change", program=program, channel=channel))
    ]
    for note in melody.pitched_notes:
        events.append((note.onset_ticks * spt, mido.Message(
            "note_on", note=note.pitch, velocity=velocity, channel=channel)))
        events.append((note.end_ticks * spt, mido.Message(
            "note_off", note=note.pitch, velocity=0, channel=channel)))
    events.sort(key=lambda e: (e[0], e[1].type != "note_off"))
    return events


def play_on_port(
    melody: Melody,
    port: mido.ports.BaseOutput,
    *,
    tempo_bpm: float | None = None,
    program: int = 40,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> None:
    """Send the melody to an open port in real time.

    When `should_stop()` turns true, sounding notes are silenced and `Cancelled` is raised.
    """
    events = melody_to_messages(melody, tempo_bpm=tempo_bpm, program=program)
    now = 0.0
    sounding: set[int] = set()
    try:
        for k, (seconds, message) in enumerate(events):
            if should_stop is not None and should_stop():
                raise Cancelled(f"MIDI playback stopped at event {k + 1} of {len(events)}.")
            if seconds > now:
                sleep(seconds - now)
                now = seconds
            port.send(message)
            if message.type == "note_on":
                sounding.add(message.note)
            elif message.type == "note_off":
                sounding.discard(message.note)
            report(on_progress, k + 1, len(events), "playing")
    finally:
        import mido

        for pitch in sorted(sounding):
            port.send(mido.Message("note_off", note=pitch, velocity=0))
