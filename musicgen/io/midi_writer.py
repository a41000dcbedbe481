"""`Melody` to a type 1 Standard MIDI File through mido.

Track 0 (conductor): title, tempo, time signature, key signature, and text events
"musicgen key: A dorian" (MIDI signatures know only major/minor) and "musicgen NAME: VALUE" for
each provenance pair. Track 1: the melody on channel 1 with its program. A pickup starts the
notes part-way into the first bar so bar lines fall where the tune says.
"""

from __future__ import annotations

import io

from musicgen.melody import TICKS_PER_QUARTER, Melody
from musicgen.io.keysig import key_sharps
from musicgen.io.midi_reader import META_PREFIX

__all__ = ["melody_to_midi_bytes", "TICKS_PER_BEAT", "DEFAULT_PROGRAM", "CONTINUATION_MARKER"]

CONTINUATION_MARKER = "continuation"

TICKS_PER_BEAT = 480  # 40 MIDI ticks per melody tick
DEFAULT_PROGRAM = 73  # General MIDI flute: a folk melody instrument
_MAJOR_BY_SHARPS = {0: "C", 1: "G", 2: "D", 3: "A", 4: "E", 5: "B", 6: "F#", 7: "C#",
                    -1: "F", -2: "Bb", -3: "Eb", -4: "Ab", -5: "Db", -6: "Gb", -7: "Cb"}
_MINOR_BY_SHARPS = {0: "Am", 1: "Em", 2: "Bm", 3: "F#m", 4: "C#m", 5: "G#m", 6: "D#m", 7: "A#m",
                    -1: "Dm", -2: "Gm", -3: "Cm", -4: "Fm", -5: "Bbm", -6: "Ebm", -7: "Abm"}


def melody_to_midi_bytes(melody: Melody, program: int = DEFAULT_PROGRAM, velocity: int = 90) -> bytes:
    """The bytes of a type 1 MIDI file holding `melody`."""
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_conductor(melody))
    midi.tracks.append(_melody_track(melody, program, velocity))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _conductor(melody: Melody):  # -> mido.MidiTrack
    import mido

    sharps = key_sharps(melody.key)
    names = _MINOR_BY_SHARPS if melody.key.mode == "minor" else _MAJOR_BY_SHARPS
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=_meta_text(melody.title or "Untitled"), time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(melody.tempo_bpm), time=0))
    track.append(mido.MetaMessage(
        "time_signature", numerator=melody.meter.numerator, denominator=melody.meter.denominator,
        clocks_per_click=24, notated_32nd_notes_per_beat=8, time=0))
    track.append(mido.MetaMessage("key_signature", key=names[sharps], time=0))
    track.append(mido.MetaMessage("text", text=f"{META_PREFIX}key: {melody.key}", time=0))
    for name, value in melody.metadata:
        track.append(mido.MetaMessage("text", text=_meta_text(f"{META_PREFIX}{name}: {value}"), time=0))
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _melody_track(melody: Melody, program: int, velocity: int):  # -> mido.MidiTrack
    import mido

    scale = TICKS_PER_BEAT // TICKS_PER_QUARTER
    lead_in = (melody.meter.bar_ticks - melody.pickup_ticks) % melody.meter.bar_ticks
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="Melody", time=0))
    track.append(mido.Message("program_change", program=program, channel=0, time=0))
    last = 0
    for note in melody.notes:
        if note.is_rest:
            continue
        on, off = (lead_in + note.onset_ticks) * scale, (lead_in + note.end_ticks) * scale
        track.append(mido.Message("note_on", note=note.pitch, velocity=velocity, channel=0,
                                  time=on - last))
        track.append(mido.Message("note_off", note=note.pitch, velocity=0, channel=0,
                                  time=off - on))
        last = off
    if melody.seed_end_ticks:  # where the machine took over: a marker a sequencer shows
        marker_at = (lead_in + melody.seed_end_ticks) * scale
        _insert_at(track, mido.MetaMessage("marker", text=CONTINUATION_MARKER), marker_at)
        last = sum(msg.time for msg in track)
    end = (lead_in + melody.duration_ticks) * scale
    track.append(mido.MetaMessage("end_of_track", time=max(end - last, 0)))
    return track


def _meta_text(text: str) -> str:
    """Text for a meta event as UTF-8 bytes (mido writes a str's code points as Latin-1 bytes; our
    reader, and most others, detect UTF-8), so any title survives the round trip."""
    return text.encode("utf-8").decode("latin-1")


def _insert_at(track, message, absolute: int) -> None:  # track: mido.MidiTrack, delta times
    """Insert `message` at absolute tick `absolute` (before events at the same tick)."""
    now = 0
    for index, msg in enumerate(track):
        if now + msg.time >= absolute and index > 1:
            message.time = absolute - now
            msg.time -= message.time
            track.insert(index, message)
            return
        now += msg.time
    message.time = absolute - now
    track.append(message)
