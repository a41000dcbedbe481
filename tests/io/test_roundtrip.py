"""Write then read through every format; the MIDI file agrees in mido, music21 and our reader."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from musicgen.io import read_melody, read_melody_with_report, write_melody
from musicgen.io.abc_writer import melody_to_abc
from musicgen.melody import Key, Melody, Meter, Note

SUFFIXES = [".mid", ".abc", ".musicxml", ".mxl"]


def jig() -> Melody:
    """A 6/8 jig in A dorian with a pickup and a long final note."""
    pitches = [64, 67, 69, 69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 64, 67, 69, 71, 72, 74, 76, 79]
    notes = [Note(p, i * 6, 6) for i, p in enumerate(pitches)]
    notes[-1] = Note(79, notes[-1].onset_ticks, 30)
    melody = Melody.from_notes(notes, meter=Meter(6, 8), key=Key(9, "dorian"), tempo_bpm=116,
                               title="Test Jig", pickup_ticks=12)
    return melody.with_metadata(model="transformer-folk", temperature=0.9, rng_seed=7)


def tricky() -> Melody:
    """4/4 in E flat: triplets, sixteenths, dotted notes, rests, chromatic notes, wide range."""
    notes = [
        Note(63, 0, 4), Note(65, 4, 4), Note(67, 8, 4), Note(None, 12, 6), Note(66, 18, 3),
        Note(67, 21, 3), Note(68, 24, 18), Note(67, 42, 6), Note(66, 48, 2), Note(67, 50, 2),
        Note(68, 52, 2), Note(70, 54, 6), Note(None, 60, 12), Note(87, 72, 12), Note(39, 84, 36),
        Note(61, 120, 8), Note(61, 128, 4), Note(63, 132, 9), Note(64, 141, 3),
    ]
    return Melody.from_notes(notes, meter=Meter(4, 4), key=Key(3, "major"), tempo_bpm=92.5,
                             title="Tricky Reel")


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("make", [jig, tricky], ids=["jig", "tricky"])
def test_round_trip_every_format(tmp_path: Path, suffix: str, make) -> None:
    melody = make()
    path = tmp_path / f"tune{suffix}"
    write_melody(melody, path)
    back = read_melody(path)
    assert back.notes == melody.notes
    assert (back.meter, back.key, back.pickup_ticks, back.title) == (
        melody.meter, melody.key, melody.pickup_ticks, melody.title)
    assert back.tempo_bpm == pytest.approx(melody.tempo_bpm, abs=0.5)
    assert dict(back.metadata) == dict(melody.metadata)


def test_abc_output_reads_like_a_musician_wrote_it() -> None:
    text = melody_to_abc(jig())
    assert "K:Ador" in text and "M:6/8" in text and "L:1/8" in text and "Q:3/8=77" in text
    assert "% musicgen model: transformer-folk" in text
    body = text.split("K:Ador\n")[1]
    assert body.startswith("EG | ")  # the pickup bar
    assert body.rstrip().endswith("g3- g2 |]")  # five eighths as a 6/8 player reads them
    tricky_text = melody_to_abc(tricky())
    assert "K:Eb" in tricky_text and "(3EFG" in tricky_text
    assert "E,,2- | E,,4" in tricky_text  # a note tied across the bar line


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("make", [jig, tricky], ids=["jig", "tricky"])
def test_abc2midi_accepts_our_abc(tmp_path: Path, make) -> None:
    melody = make()
    write_melody(melody, tmp_path / "tune.abc")
    result = subprocess.run(["abc2midi", "tune.abc", "-o", "tune.mid"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Error" not in result.stdout + result.stderr
    back, _ = read_melody_with_report(tmp_path / "tune.mid")  # abc2midi nudges onsets a tick
    assert [n.pitch for n in back.pitched_notes] == [n.pitch for n in melody.pitched_notes]
    assert [n.onset_ticks for n in back.pitched_notes] == [
        n.onset_ticks - melody.pitched_notes[0].onset_ticks for n in melody.pitched_notes]


def _mido_notes(path: Path) -> list[tuple[int, float, float]]:
    import mido

    midi = mido.MidiFile(path)
    out, now, started = [], 0, {}
    for msg in mido.merge_tracks(midi.tracks):
        now += msg.time
        if msg.type == "note_on" and msg.velocity:
            started[msg.note] = now
        elif msg.type in ("note_on", "note_off"):
            on = started.pop(msg.note)
            out.append((msg.note, on / midi.ticks_per_beat, (now - on) / midi.ticks_per_beat))
    return out


@pytest.mark.parametrize("make", [jig, tricky], ids=["jig", "tricky"])
def test_midi_reads_identically_in_mido_music21_and_ours(tmp_path: Path, make) -> None:
    import music21

    melody = make()
    path = tmp_path / "cross.mid"
    write_melody(melody, path)
    lead_in = (melody.meter.bar_ticks - melody.pickup_ticks) % melody.meter.bar_ticks
    expected = [(n.pitch, (n.onset_ticks + lead_in) / 12, n.duration_ticks / 12)
                for n in melody.pitched_notes]
    assert [(p, pytest.approx(o), pytest.approx(d)) for p, o, d in _mido_notes(path)] == expected
    score = music21.converter.parse(str(path), quantizePost=False)
    m21 = [(n.pitch.midi, float(n.offset), float(n.quarterLength))
           for n in score.flatten().stripTies().notes]  # music21 splits notes at bar lines
    assert [(p, pytest.approx(o, abs=1e-6), pytest.approx(d, abs=1e-6)) for p, o, d in m21] == expected
    ts = score.flatten().getElementsByClass(music21.meter.TimeSignature)[0]
    assert ts.ratioString == str(melody.meter)
    ours = read_melody(path)
    assert ours.notes == melody.notes and ours.key == melody.key


def test_musicxml_has_no_stray_naturals_and_carries_provenance(tmp_path: Path) -> None:
    path = tmp_path / "jig.musicxml"
    write_melody(jig(), path)
    xml = path.read_text()
    assert "<accidental>" not in xml  # every note of the jig is in A dorian
    assert 'name="musicgen-model">transformer-folk<' in xml
    assert "<movement-title>Test Jig</movement-title>" in xml or "Test Jig" in xml


def odd_durations(seed: int) -> Melody:
    """What an unconstrained model may write: any tick length 1..30, rests included."""
    import random

    rng = random.Random(seed)
    notes, t = [], 0
    for _ in range(24):
        d = rng.randint(1, 30)
        notes.append(Note(rng.choice([None, 60, 62, 64, 66, 67, 71, 74]), t, d))
        t += d
    return Melody.from_notes(notes, meter=Meter(6, 8), key=Key(2), pickup_ticks=6 * (seed % 2))


@pytest.mark.parametrize("seed", range(6))
def test_abc_writes_any_tick_length_exactly(tmp_path: Path, seed: int) -> None:
    melody = odd_durations(seed)
    write_melody(melody, tmp_path / "odd.abc")
    assert read_melody(tmp_path / "odd.abc").notes == melody.notes
    if shutil.which("abc2midi"):
        result = subprocess.run(["abc2midi", "odd.abc", "-o", "odd.mid"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=30)
        assert "Error" not in result.stdout + result.stderr, result.stdout
