"""Valid files the mutations start from, per format: small, varied, each read by musicgen today."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("midi", "abc", "musicxml", "mxl")
SUFFIX = {"midi": ".mid", "abc": ".abc", "musicxml": ".musicxml", "mxl": ".mxl"}

# ABC that reaches the corners of the reader: repeats with endings, triplets, broken rhythm,
# chords, grace notes, ties, inline fields, a second voice, a pickup, a tempo mark.
FEATURE_ABC = """X:7
T:Corners
M:6/8
L:1/8
Q:3/8=120
K:Ddor
A|:d2e f>ga|(3bag f2 [df]|{g}f2e d2-d|1 c3 A2A:|2 c3 d3||
|:[M:9/8] ABc def gfe|[K:G] G6 z3|]
V:2
D6|D6|]
"""
MIDI_MUSICGEN_META = "musicgen key: D dorian"


def _music21_files(folder: str, names: tuple[str, ...]) -> list[bytes]:
    try:
        import music21
    except ImportError:
        return []
    base = Path(music21.__file__).parent / folder
    return [(base / n).read_bytes() for n in names if (base / n).is_file()]


def _midi_with_meta() -> bytes:
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    meta = mido.MidiTrack([
        mido.MetaMessage("track_name", name="Corners"),
        mido.MetaMessage("time_signature", numerator=6, denominator=8),
        mido.MetaMessage("key_signature", key="Bb"),
        mido.MetaMessage("set_tempo", tempo=400_000),
        mido.MetaMessage("text", text=MIDI_MUSICGEN_META),
    ])
    tune = mido.MidiTrack([mido.MetaMessage("track_name", name="Fiddle")])
    for i, pitch in enumerate([62, 64, 65, 67, 69, 70, 72, 74]):
        tune.append(mido.Message("note_on", note=pitch, velocity=90, time=0 if i else 48))
        if i % 3 == 0:  # a chord note and an overlap
            tune.append(mido.Message("note_on", note=pitch - 5, velocity=60))
            tune.append(mido.Message("note_off", note=pitch - 5, time=30))
        tune.append(mido.Message("note_off", note=pitch, time=48 if i % 3 else 18))
    drums = mido.MidiTrack([mido.Message("note_on", channel=9, note=36, velocity=100),
                            mido.Message("note_off", channel=9, note=36, time=96)])
    mid.tracks.extend([meta, tune, drums])
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


def zip_mxl(xml: bytes, member: str = "score.musicxml", container: bool = True) -> bytes:
    """A compressed MusicXML archive holding `xml` (with META-INF/container.xml when asked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.recordare.musicxml", zipfile.ZIP_STORED)
        if container:
            archive.writestr("META-INF/container.xml",
                             f'<container><rootfiles><rootfile full-path="{member}"/></rootfiles>'
                             "</container>")
        archive.writestr(member, xml)
    return buffer.getvalue()


@functools.lru_cache(maxsize=None)
def seed_files(fmt: str) -> tuple[bytes, ...]:
    """The valid seeds of one format."""
    from tests.support import KESH_ABC, TUNE_BOOK_ABC

    if fmt == "abc":
        return (KESH_ABC.encode(), TUNE_BOOK_ABC.encode(), FEATURE_ABC.encode(),
                (ROOT / "data" / "kesh-jig.abc").read_bytes(),
                *_music21_files("corpus/ryansMammoth", ("LanigansBallJig.abc",)))
    if fmt == "midi":
        return ((ROOT / "data" / "kesh-jig.mid").read_bytes(), _midi_with_meta(),
                *_music21_files("midi/testPrimitive", ("test10.mid", "test14.mid")))
    xml = _xml_seeds()
    if fmt == "musicxml":
        return xml
    if fmt == "mxl":
        return (zip_mxl(xml[0]), zip_mxl(xml[1], "tune.xml", container=False),
                *_music21_files("musicxml/lilypondTestSuite", ("90a-Compressed-MusicXML.mxl",)))
    raise ValueError(f"unknown format {fmt!r}")


def _xml_seeds() -> tuple[bytes, ...]:
    from musicgen.io.musicxml import melody_to_musicxml_bytes
    from musicgen.melody import Key, Melody, Meter
    from tests.support import MUSICXML

    short = Melody.from_pitches([67, 69, 71, None, 72, 74, 76, 74], 6, meter=Meter(6, 8),
                                key=Key(7, "mixolydian"), tempo_bpm=100.0, title="Short",
                                pickup_ticks=12)
    return (MUSICXML.encode(), melody_to_musicxml_bytes(short),
            *_music21_files("musicxml/lilypondTestSuite",
                            ("45b-RepeatWithAlternatives.xml", "23a-Tuplets.xml",
                             "21e-Chords-PickupMeasures.xml", "11d-TimeSignatures-CompoundMultiple.xml",
                             "33b-Spanners-Tie.xml", "24a-GraceNotes.xml")))
