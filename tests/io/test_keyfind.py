"""`keyfind.estimate_key` equals music21's `analyze("key")` (the estimate it replaces, so a MIDI
seed is read without importing music21), and reading MIDI no longer imports music21."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from musicgen.io import read_tune_book
from musicgen.io.keyfind import estimate_key
from musicgen.melody import TICKS_PER_QUARTER, Key, Melody

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(mido.__file__).resolve().parents[1] / "music21" / "corpus"
BOOKS = [CORPUS / "essenFolksong" / "altdeu10.abc", CORPUS / "oneills1850" / "0001-0050.abc"]


def music21_key(pairs: list[tuple[int, int]]) -> Key:
    """The reference: what the readers did before `keyfind` (a music21 stream, `analyze`)."""
    from music21 import note, stream

    part = stream.Stream()
    for pitch, ticks in pairs:
        part.append(note.Note(pitch, quarterLength=Fraction(ticks, TICKS_PER_QUARTER)))
    if not part.notes:
        return Key(0, "major")
    found = part.analyze("key")
    assert found.mode in ("major", "minor")
    return Key(found.tonic.pitchClass, found.mode)


def _pairs(melody: Melody, end: int | None = None) -> list[tuple[int, int]]:
    return [(n.pitch, n.duration_ticks) for n in melody.notes
            if n.pitch is not None and (end is None or n.onset_ticks < end)]


def _differences(inputs: list[list[tuple[int, int]]]) -> list[tuple]:
    return [(pairs, estimate_key(pairs), music21_key(pairs)) for pairs in inputs
            if estimate_key(pairs) != music21_key(pairs)]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(not all(b.exists() for b in BOOKS), reason="music21's corpus is absent")
def test_equals_music21_on_every_third_tune_of_two_folk_books_and_their_first_8_bars() -> None:
    """Every third tune (121 of 363, whole and first 8 bars): music21's analysis is most of this
    test's time (all 726 inputs took 82 s of a 16-minute suite; they were equal when the
    estimate was written, and the README records it)."""
    inputs = []
    for book in BOOKS:
        for number, result in enumerate(read_tune_book(book)):
            if result.melody is None or number % 3:
                continue
            melody = result.melody
            inputs.append(_pairs(melody))
            inputs.append(_pairs(melody, melody.pickup_ticks + 8 * melody.meter.bar_ticks))
    inputs = [p for p in inputs if p]
    assert len(inputs) > 200  # 121 tunes, each whole and its first 8 bars
    keys = {estimate_key(p) for p in inputs}
    assert len(keys) >= 10 and any(k.mode == "minor" for k in keys)  # not one answer for all
    assert _differences(inputs) == []


def test_equals_music21_on_random_notes_ties_and_triplets() -> None:
    rng = random.Random(17)
    # ticks; lengths that are not multiples of 3 are Fractions of a quarter in music21
    lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 18, 24, 36, 48]
    inputs: list[list[tuple[int, int]]] = [[]]
    for i in range(300):
        count = rng.randint(1, 40)
        notes = [(rng.randint(36, 96), rng.choice(lengths)) for _ in range(count)]
        if i % 3 == 0:  # few pitch classes, equal lengths: the likeliest exact ties
            notes = [(60 + p % rng.randint(1, 12), 6) for p, _ in notes]
        inputs.append(notes)
    # Exact ties: every pitch class equally long (no correlation: music21 then names B minor),
    # one note, a fifth, a tritone, whole-tone and diminished sets, triplets among floats.
    inputs += [[(60 + pc, 12) for pc in range(12)], [(67, 4)], [(62, 12), (69, 12)],
               [(60, 6), (66, 6)],
               [(60 + pc, 8) for pc in range(0, 12, 2)], [(60 + pc, 12) for pc in range(0, 12, 3)],
               [(60, 4), (60, 6), (64, 4), (67, 3), (60, 4), (67, 4), (64, 5)]]
    assert _differences(inputs) == []
    assert estimate_key([(60 + pc, 12) for pc in range(12)]) == Key(11, "minor")
    assert estimate_key([]) == Key(0, "major")


def test_a_zero_length_counts_as_music21s_default_quarter() -> None:
    pairs = [(62, 0), (66, 6), (69, 6)]
    assert estimate_key(pairs) == music21_key(pairs) == estimate_key([(62, 12), (66, 6), (69, 6)])


def test_reading_midi_without_a_key_signature_never_imports_music21(tmp_path: Path) -> None:
    """In a fresh interpreter where importing music21 is recorded and fails (the forked reading
    child inherits the block, so a read that needed music21 would fail), a MIDI file without key
    signature or title key still gets its estimated key, and nothing tried to import music21."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=6, denominator=8))
    for pitch in [57, 60, 64, 69, 67, 64, 62, 60, 59, 57, 64, 57]:  # A minor arpeggios
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
    path = tmp_path / "no-key.mid"
    midi.save(path)
    expected = music21_key([(57, 6), (60, 6), (64, 6), (69, 6), (67, 6), (64, 6), (62, 6),
                            (60, 6), (59, 6), (57, 6), (64, 6), (57, 6)])
    script = textwrap.dedent(f"""
        import sys

        tried = []

        class NoMusic21:
            def find_spec(self, name, path=None, target=None):
                if name == "music21" or name.startswith("music21."):
                    tried.append(name)
                    raise ImportError("music21 is blocked in this test")

        sys.meta_path.insert(0, NoMusic21())
        from musicgen.io import read_melody
        for path in ({str(path)!r}, {str(ROOT / "data" / "kesh-jig.mid")!r}):
            melody = read_melody(path)
            print(melody.key.tonic_pc, melody.key.mode, len(melody.notes))
        print("music21" in sys.modules, tried)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    no_key, kesh, imported = done.stdout.split("\n")[:3]
    assert no_key == f"{expected.tonic_pc} {expected.mode} 12"
    assert kesh.startswith("7 major ")  # The Kesh: G major
    assert imported == "False []"
