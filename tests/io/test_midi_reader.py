"""MIDI reading: file types, time divisions, note-offs, overlaps, drums, track choice, pickup, key."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from musicgen.errors import SeedError
from musicgen.io import list_tracks, read_melody, read_melody_with_report
from musicgen.melody import Key, Meter

SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def notes_track(pitches, tpb: int, channel: int = 0, start: int = 0, length: float = 1.0,
                zero_velocity_off: bool = False, name: str = "") -> mido.MidiTrack:
    track = mido.MidiTrack()
    if name:
        track.append(mido.MetaMessage("track_name", name=name, time=0))
    step = int(tpb * length)
    last = 0
    for i, pitch in enumerate(pitches):
        on = start + i * step
        track.append(mido.Message("note_on", note=pitch, velocity=80, channel=channel, time=on - last))
        off = mido.Message("note_on", note=pitch, velocity=0, channel=channel, time=step) \
            if zero_velocity_off else mido.Message("note_off", note=pitch, channel=channel, time=step)
        track.append(off)
        last = on + step
    return track


def save(midi: mido.MidiFile, path: Path) -> Path:
    midi.save(path)
    return path


@pytest.mark.parametrize("tpb", [96, 384, 1000, 7])
def test_type0_any_division_and_velocity_zero_note_offs(tmp_path: Path, tpb: int) -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=tpb)
    track = notes_track(SCALE, tpb, zero_velocity_off=True)
    track.insert(0, mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    track.insert(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90), time=0))
    track.insert(0, mido.MetaMessage("key_signature", key="G", time=0))
    midi.tracks.append(track)
    melody = read_melody(save(midi, tmp_path / "type0.mid"))
    assert [n.pitch for n in melody.notes] == SCALE
    assert [n.duration_ticks for n in melody.notes] == [12] * 8
    assert melody.meter == Meter(3, 4) and melody.key == Key(7, "major")
    assert melody.tempo_bpm == pytest.approx(90)


def test_type1_picks_the_busiest_pitched_line_and_track_selects(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack([mido.MetaMessage("track_name", name="Song", time=0)])
    midi.tracks += [
        conductor,
        notes_track([48, 43], 480, channel=1, length=2, name="Bass"),
        notes_track(SCALE, 480, channel=0, name="Flute"),
        notes_track([36] * 16, 480, channel=9, length=0.5, name="Kit"),
    ]
    path = save(midi, tmp_path / "band.mid")
    tracks = list_tracks(path)
    assert [(t.index, t.name, t.note_count, t.is_drum) for t in tracks] == [
        (1, "Bass", 2, False), (2, "Flute", 8, False), (3, "Kit", 16, True)]
    melody = read_melody(path)
    assert [n.pitch for n in melody.notes] == SCALE and melody.title == "Song"
    assert [n.pitch for n in read_melody(path, track=1).notes] == [48, 43]
    with pytest.raises(SeedError, match="band.mid.*track 3 is drums"):
        read_melody(path, track=3)
    with pytest.raises(SeedError, match="band.mid.*no track 9"):
        read_melody(path, track=9)


def test_type0_channels_are_separate_lines(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    merged = mido.merge_tracks([notes_track(SCALE[:3], 480, channel=0),
                                notes_track([40, 41, 43, 45], 480, channel=3)])
    midi.tracks.append(merged)
    path = save(midi, tmp_path / "zero.mid")
    assert [(t.channel, t.note_count) for t in list_tracks(path)] == [(0, 3), (3, 4)]
    assert [n.pitch for n in read_melody(path).notes] == [40, 41, 43, 45]
    assert [n.pitch for n in read_melody(path, track=1).notes] == SCALE[:3]


def test_chords_skyline_and_legato_overlaps(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    t = mido.MidiTrack()
    for pitch in (60, 64, 67):  # a C major chord for one beat
        t.append(mido.Message("note_on", note=pitch, velocity=70, time=0))
    t.append(mido.Message("note_off", note=60, time=480))
    t.append(mido.Message("note_off", note=64, time=0))
    t.append(mido.Message("note_off", note=67, time=0))
    t.append(mido.Message("note_on", note=62, velocity=70, time=0))  # legato: D held into E
    t.append(mido.Message("note_on", note=64, velocity=70, time=480))
    t.append(mido.Message("note_off", note=62, time=120))
    t.append(mido.Message("note_off", note=64, time=360))
    midi.tracks.append(t)
    melody, report = read_melody_with_report(save(midi, tmp_path / "chords.mid"))
    assert [(n.pitch, n.onset_ticks, n.duration_ticks) for n in melody.notes] == [
        (67, 0, 12), (62, 12, 12), (64, 24, 12)]
    assert report.chords_reduced == 1 and report.overlaps_cut == 1


def test_pickup_leading_silence_and_quantisation_report(tmp_path: Path) -> None:
    tpb = 480
    midi = mido.MidiFile(type=0, ticks_per_beat=tpb)
    # Two silent bars of 4/4, then a pickup on beat 4 played a little late (+13 ticks).
    track = notes_track(SCALE[:5], tpb, start=2 * 4 * tpb + 3 * tpb + 13)
    midi.tracks.append(track)
    path = save(midi, tmp_path / "late.mid")
    melody, report = read_melody_with_report(path)
    assert melody.pickup_ticks == 12 and melody.notes[0].onset_ticks == 0
    assert report.quantized_notes == 10
    assert report.max_shift_ticks == pytest.approx(13 * 12 / tpb, abs=1e-3)
    with pytest.warns(UserWarning, match="quantisation moved 10 note edges"):
        read_melody(path)


def test_key_is_estimated_without_a_signature(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    d_major = [62, 66, 69, 74, 73, 71, 69, 66, 64, 62, 61, 62, 69, 62]
    midi.tracks.append(notes_track(d_major, 480))
    assert read_melody(save(midi, tmp_path / "nokey.mid")).key == Key(2, "major")


def test_notes_never_released_end_with_the_track(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    t = mido.MidiTrack([mido.Message("note_on", note=60, velocity=70, time=0),
                        mido.Message("note_on", note=62, velocity=70, time=480),
                        mido.MetaMessage("end_of_track", time=960)])
    midi.tracks.append(t)
    melody = read_melody(save(midi, tmp_path / "held.mid"))
    assert [(n.pitch, n.duration_ticks) for n in melody.notes] == [(60, 12), (62, 24)]
