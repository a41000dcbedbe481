"""Every bad input is refused with one SeedError sentence naming the file; bombs are refused fast."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import mido
import pytest

from musicgen.errors import SeedError, WriteError
from musicgen.io import atomic_write_bytes, read_melody, read_tune_book, safety, write_melody
from musicgen.melody import Melody

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _midi_bytes(channel: int = 0) -> bytes:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60 if channel != 9 else 36, velocity=80, channel=channel),
        mido.Message("note_off", note=60 if channel != 9 else 36, channel=channel, time=480)]))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


BAD_CASES = {
    "empty.mid": b"",
    "blank.abc": b"   \n\n",
    "truncated.mid": _midi_bytes()[:-9],
    "random.mid": os.urandom(2048).replace(b"MThd", b"xxxx"),
    "random.bin": b"\x00\x01\x02" + os.urandom(500),
    "notes.txt": b"Remember to buy milk.\n",
    "text.mid": b"this is not midi\n",
    "image.abc": PNG,
    "image.musicxml": PNG,
    "header_only.abc": b"X:1\nT:Nothing here\nM:4/4\nK:G\n",
    "rests_only.abc": b"X:1\nT:Silence\nM:4/4\nL:1/4\nK:C\nz4|z4|]\n",
    "drums.mid": _midi_bytes(channel=9),
    "no_notes.mid": _midi_bytes()[:14] + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00",
    "malformed.musicxml": b"<?xml version='1.0'?><score-partwise><part-list>",
    "timewise.xml": b"<?xml version='1.0'?><score-timewise version='3.1'></score-timewise>",
    "rests_only.musicxml": b"<?xml version='1.0'?><score-partwise version='3.1'><part-list>"
    b"<score-part id='P1'><part-name>x</part-name></score-part></part-list><part id='P1'>"
    b"<measure number='1'><note><rest/><duration>4</duration></note></measure></part>"
    b"</score-partwise>",
    "notzip.mxl": b"PK\x03\x04garbage" + os.urandom(100),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_files_raise_one_sentence_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BAD_CASES[name])
    with pytest.raises(SeedError) as info:
        read_melody(path)
    message = str(info.value)
    assert name in message and "\n" not in message and message.endswith(".")


def test_a_directory_and_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="folder"):
        read_melody(tmp_path)
    with pytest.raises(SeedError, match="ghost.mid.*no such file"):
        read_melody(tmp_path / "ghost.mid")
    with pytest.raises(SeedError, match="ghost.abc"):
        read_tune_book(tmp_path / "ghost.abc")


def test_out_of_range_tune_and_track(tmp_path: Path) -> None:
    path = tmp_path / "one.mid"
    path.write_bytes(_midi_bytes())
    with pytest.raises(SeedError, match="one.mid.*no tune 2"):
        read_melody(path, tune=2)
    with pytest.raises(SeedError, match="one.mid.*start at 1"):
        read_melody(path, track=0)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<score-partwise><work><work-title>&lol9;</work-title></work></score-partwise>
"""


@pytest.mark.parametrize("suffix", [".musicxml", ".mxl"])
def test_billion_laughs_is_refused_fast(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"laughs{suffix}"
    if suffix == ".mxl":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("score.xml", BILLION_LAUGHS)
        path.write_bytes(buffer.getvalue())
    else:
        path.write_bytes(BILLION_LAUGHS)
    start = time.perf_counter()
    with pytest.raises(SeedError, match=f"laughs{suffix}.*entities"):
        read_melody(path)
    assert time.perf_counter() - start < 0.5


def test_zip_bomb_is_refused_before_extraction(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.xml", b"<" + b" " * (60 * 1024 * 1024))  # 60 MB -> ~60 kB
    path = tmp_path / "bomb.mxl"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 200_000
    start = time.perf_counter()
    with pytest.raises(SeedError, match="bomb.mxl.*(limit|zip bomb)"):
        read_melody(path)
    assert time.perf_counter() - start < 0.5


def test_high_compression_ratio_member_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.xml", b"<a>" + b"x" * (5 * 1024 * 1024) + b"</a>")
    path = tmp_path / "ratio.mxl"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(SeedError, match="ratio.mxl.*zip bomb"):
        read_melody(path)


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.abc"
    path.write_bytes(b"X:1\nT:Big\nK:C\n" + b"CDEF|" * 50_000)
    with pytest.raises(SeedError, match=r"huge.abc: it is 0.3 MB, over the 0.1 MB limit"):
        safety.read_input_bytes(path, max_bytes=100_000)
    monkeypatch.setattr(safety, "MAX_FILE_BYTES", 100_000)
    monkeypatch.setattr(safety.read_input_bytes, "__defaults__", (100_000,))
    with pytest.raises(SeedError, match="huge.abc.*limit"):
        read_melody(path)


def test_unknown_suffix_and_atomic_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    melody = Melody.from_pitches([60, 62, 64])
    with pytest.raises(WriteError, match=r"tune.ogg.*unknown file type"):
        write_melody(melody, tmp_path / "tune.ogg")
    with pytest.raises(WriteError, match="no-such-folder"):
        write_melody(melody, tmp_path / "no-such-folder" / "tune.mid")
    target = tmp_path / "keep.mid"
    target.write_bytes(b"the good old file")
    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(WriteError, match="keep.mid: No space left"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"the good old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mid"]


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    import os
    import stat

    from musicgen.io import atomic_write_bytes

    old_umask = os.umask(0o022)
    try:
        fresh = atomic_write_bytes(tmp_path / "new.mid", b"data")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        kept = tmp_path / "kept.abc"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        atomic_write_bytes(kept, b"new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_bytes() == b"new"
    finally:
        os.umask(old_umask)
