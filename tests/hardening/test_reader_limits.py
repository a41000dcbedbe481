"""The classes of reader failure the fuzzers found, each as a crafted file: one sentence, fast.

Foreign exceptions (zlib.error, 'negative seek value', mido's KeySignatureError, 'tempo must be
positive', LookupError), hangs in music21's meter and key code, memory blow-ups, and messages that
were no sentence.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import mido
import pytest

from musicgen.errors import SeedError
from musicgen.io import read_melody, read_melody_with_report, read_tunes
from tests.support import KESH_ABC, MUSICXML


def _read_fast(path: Path, match: str, seconds: float = 3.0) -> SeedError:
    start = time.monotonic()
    with pytest.raises(SeedError, match=match) as info:
        read_melody(path)
    message = str(info.value)
    assert time.monotonic() - start < seconds, message
    assert path.name in message and message.endswith(".") and "\n" not in message
    return info.value


def _mxl(xml: bytes, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as archive:
        archive.writestr("score.musicxml", xml)
    return buffer.getvalue()


# --- .mxl archives ---------------------------------------------------------------------------------
def test_corrupt_deflate_data_is_a_sentence_not_zlib_error(tmp_path: Path) -> None:
    data = bytearray(_mxl(MUSICXML.encode() * 4))
    start = data.index(b"score.musicxml") + len("score.musicxml")
    data[start + 20: start + 60] = b"\xff" * 40  # the deflate stream itself
    path = tmp_path / "zlib.mxl"
    path.write_bytes(bytes(data))
    _read_fast(path, r"zlib.mxl: not a valid compressed MusicXML archive \(")


def test_a_lying_directory_offset_is_a_sentence_not_a_negative_seek(tmp_path: Path) -> None:
    data = bytearray(_mxl(MUSICXML.encode()))
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 16, len(data) * 3)  # the central directory "starts" later
    path = tmp_path / "seek.mxl"
    path.write_bytes(bytes(data))
    _read_fast(path, r"seek.mxl: not a valid compressed MusicXML archive")


# --- MIDI --------------------------------------------------------------------------------------------
def _midi(*meta: mido.MetaMessage) -> bytes:
    midi = mido.MidiFile(type=0, ticks_per_beat=96)
    midi.tracks.append(mido.MidiTrack([*meta, mido.Message("note_on", note=62, velocity=80),
                                       mido.Message("note_off", note=62, time=96)]))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_a_bad_key_signature_event_is_a_sentence(tmp_path: Path) -> None:
    data = bytearray(_midi(mido.MetaMessage("key_signature", key="C")))
    at = data.index(b"\xff\x59\x02")
    data[at + 3] = 0x7F  # 127 sharps: mido raises KeySignatureError while parsing
    path = tmp_path / "key.mid"
    path.write_bytes(bytes(data))
    _read_fast(path, r"key.mid: the MIDI file has an invalid key signature\.")


def test_a_zero_tempo_is_replaced_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "tempo.mid"
    path.write_bytes(_midi(mido.MetaMessage("set_tempo", tempo=0)))
    melody, report = read_melody_with_report(path)
    assert melody.tempo_bpm == 120.0 and any("tempo" in w for w in report.warnings)


def test_a_meter_of_too_many_beats_falls_back_to_four_four(tmp_path: Path) -> None:
    path = tmp_path / "meter.mid"
    path.write_bytes(_midi(mido.MetaMessage("time_signature", numerator=255, denominator=4)))
    melody, report = read_melody_with_report(path)
    assert str(melody.meter) == "4/4" and any("255/4" in w for w in report.warnings)


# --- ABC -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field,match", [
    ("M:1000000/4", r"the meter M:1000000/4 has more beats than a bar can hold"),
    ("M:4294967296/8", r"the meter M:4294967296/8 has more beats"),
    ("L:999999999999/8", r"the unit note length L:999999999999/8 is out of range"),
    ("L:1/0", r"the unit note length L:1/0 is out of range"),
])
def test_absurd_abc_header_numbers_are_refused_at_once(tmp_path: Path, field: str, match: str) -> None:
    path = tmp_path / "absurd.abc"
    path.write_text(KESH_ABC.replace("M:6/8", field) if field.startswith("M") else
                    KESH_ABC.replace("L:1/8", field))
    _read_fast(path, match, seconds=1.5)


def test_an_absurd_inline_meter_and_note_length(tmp_path: Path) -> None:
    path = tmp_path / "inline.abc"
    path.write_text(KESH_ABC.replace("|:GAG", "|:[M:1000000/4]GAG"))
    _read_fast(path, r"the meter M:1000000/4 has more beats")
    path.write_text(KESH_ABC.replace("GAB|", "G1e308B|", 1))
    _read_fast(path, r"a note e308 is longer than 256 unit lengths")


def test_long_numbers_in_titles_are_not_notes(tmp_path: Path) -> None:
    path = tmp_path / "title.abc"
    path.write_text(KESH_ABC.replace("T:The Kesh", 'T:Opus 123456789\n"G123456"'))
    assert read_melody(path).note_count > 20


def test_a_5000_digit_tune_number_lists_and_is_a_sentence(tmp_path: Path) -> None:
    """Listing reads at most 9 digits (a ValueError past 4,300 before); music21 refuses it."""
    path = tmp_path / "number.abc"
    path.write_text(KESH_ABC.replace("X:1", "X:" + "9" * 5000))
    assert read_tunes(path)[0].title == "The Kesh"
    _read_fast(path, r"number.abc: the ABC could not be parsed \(music21 stopped")


def test_an_abc_parse_error_is_a_sentence_in_words(tmp_path: Path) -> None:
    path = tmp_path / "garbled.abc"
    path.write_bytes(b"X:1\nT:Garbled\nM:4/4\nL:1/8\nK:C\n|:[M:9/8] A[M:0/0]Bc def gfe|\x1b[ G6 z3|]\n")
    error = _read_fast(path, r"garbled.abc", seconds=10)
    assert "\x1b" not in str(error) and "<music21" not in str(error)


# --- MusicXML ---------------------------------------------------------------------------------------
def test_an_unknown_xml_encoding_is_a_sentence_not_lookup_error(tmp_path: Path) -> None:
    path = tmp_path / "encoding.musicxml"
    path.write_text(MUSICXML.replace('encoding="UTF-8"', 'encoding="x-bogus-8"'))
    _read_fast(path, r"encoding.musicxml: the XML declares an unknown text encoding\.")


@pytest.mark.parametrize("mode", ["", "<mode>major</mode>"])
def test_four_billion_sharps_do_not_hang_the_key_code(tmp_path: Path, mode: str) -> None:
    """music21 walks the circle of fifths once per sharp (hours): refused before it parses."""
    path = tmp_path / "fifths.musicxml"
    path.write_text(MUSICXML.replace("<fifths>0</fifths>", f"<fifths>4294967296</fifths>{mode}"))
    _read_fast(path, r"fifths.musicxml: the key signature has 4294967296 sharps or flats, more "
                     r"than any key has\.")


@pytest.mark.parametrize("beats,beat_type", [("4294967296", "4"), ("1e308", "4"), ("4", "65536")])
def test_time_signatures_no_bar_can_hold(tmp_path: Path, beats: str, beat_type: str) -> None:
    """music21 builds a node per beat subdivision (it ran out of memory): refused first."""
    path = tmp_path / "time.mxl"
    xml = MUSICXML.replace("<beats>4</beats><beat-type>4</beat-type>",
                           f"<beats>{beats}</beats><beat-type>{beat_type}</beat-type>")
    path.write_bytes(_mxl(xml.encode()))
    _read_fast(path, r"time.mxl: the time signature has beat")


def test_a_tempo_of_zero_in_musicxml(tmp_path: Path) -> None:
    path = tmp_path / "tempo.musicxml"
    path.write_text(MUSICXML.replace("<note>", '<direction><sound tempo="0.0001"/></direction><note>',
                                     1))
    assert read_melody(path).tempo_bpm == 120.0


def test_the_largest_tune_book_lists_in_linear_time(tmp_path: Path) -> None:
    """A 19 MB book (the 20 MB cap) of 50,000 tunes: numbering their lines was quadratic (40 s)."""
    path = tmp_path / "book.abc"
    tune = "X:{}\nT:Reel {}\nM:4/4\nL:1/8\nK:D\n|:DFAF dFAF|GBdB AFDF:|\n\n"
    path.write_text("".join(tune.format(n, n) for n in range(1, 330_000)))
    assert path.stat().st_size > 19e6
    start = time.monotonic()
    tunes = read_tunes(path)
    assert len(tunes) == 50_000 and tunes[-1].title == "Reel 50000"
    assert read_melody(path, tune=50_000).title == "Reel 50000"
    assert time.monotonic() - start < 15


@pytest.mark.parametrize("pitch,tag", [
    ("<step>C</step><octave>" + "9" * 400 + "</octave>", "octave"),
    ("<step>C</step><octave>4.5</octave>", "octave"),
    ("<step>C</step><alter>1e400</alter><octave>5</octave>", "alter"),
])
def test_pitches_no_note_has(tmp_path: Path, pitch: str, tag: str) -> None:
    """A 400-digit octave overflowed music21's pitch arithmetic (OverflowError, found by the
    fuzzer in a mutated .mxl): refused first, in a sentence."""
    path = tmp_path / "pitch.mxl"
    xml = MUSICXML.replace("<pitch><step>C</step><octave>5</octave></pitch>", f"<pitch>{pitch}</pitch>", 1)
    assert pitch in xml
    path.write_bytes(_mxl(xml.encode()))
    _read_fast(path, rf"pitch.mxl: a note has {tag}")
