"""`musicgen info`: the summary of real files, --json, tune books, MIDI tracks, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def info_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["info", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", ["kesh-jig.abc", "kesh-jig.mid", "kesh-jig.musicxml"])
def test_info_json_for_each_format(capsys: pytest.CaptureFixture[str], name: str) -> None:
    summary = info_json(capsys, str(DATA / name))
    assert summary["title"] == "The Kesh"
    assert summary["meter"] == "6/8" and summary["key"] == "G major"
    assert summary["tempo_bpm"] == pytest.approx(165.0)
    assert summary["notes"] == 188 and summary["bars"] == 33
    if name.endswith(".mid"):
        assert summary["tracks"][0]["notes"] == 188
    else:
        assert summary["tunes"] == ["The Kesh"]


def test_info_tune_book(capsys: pytest.CaptureFixture[str]) -> None:
    book = str(DATA / "tunebook.abc")
    summary = info_json(capsys, book, "--tune", "2")
    assert summary["title"] == "The Silver Spear" and summary["key"] == "D major"
    assert summary["tunes"] == ["The Kesh", "The Silver Spear", "Si Bheag, Si Mhor"]
    assert main(["info", book]) == 0
    text = capsys.readouterr().out
    assert "Title:  The Kesh" in text and "Meter:  6/8" in text and "3. Si Bheag, Si Mhor" in text


def test_info_midi_track_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    for channel, pitches in ((0, [60, 62, 64, 65]), (1, [48, 50])):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=f"Line {channel + 1}")])
        for p in pitches:
            track += [mido.Message("note_on", note=p, velocity=80, channel=channel),
                      mido.Message("note_off", note=p, channel=channel, time=480)]
        midi.tracks.append(track)
    path = tmp_path / "two.mid"
    midi.save(path)
    summary = info_json(capsys, str(path), "--track", "2")
    assert summary["notes"] == 2
    assert [t["name"] for t in summary["tracks"]] == ["Line 1", "Line 2"]


@pytest.mark.parametrize("content,args", [
    (b"", []), (b"\x89PNG\r\n\x1a\nxxxx", []), (b"X:1\nT:t\nK:C\n", []),
    (b"X:1\nT:t\nK:C\nCDEF|\n", ["--tune", "5"])])
def test_info_bad_input_is_one_line_exit_1(tmp_path: Path, content: bytes, args: list[str]) -> None:
    path = tmp_path / "bad.abc"
    path.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "musicgen.cli", "info", str(path), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("musicgen: error: Cannot read ") and "bad.abc" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_info_counts_bars_as_a_musician_does(capsys: pytest.CaptureFixture[str]) -> None:
    """A pickup is said in words beside the full bars (not bar 33 and '6 ticks')."""
    assert main(["info", str(DATA / "kesh-jig.abc")]) == 0
    text = capsys.readouterr().out
    assert "Bars:   32 and a pickup (an eighth)\n" in text
    assert "ticks" not in text
    assert main(["info", str(DATA / "kesh-jig.abc"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["bars"], summary["pickup_ticks"]) == (33, 6)  # the JSON keeps the numbers
