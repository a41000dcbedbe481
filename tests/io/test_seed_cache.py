"""The command line's seed cache: a second reading of an ABC or MusicXML file is the first one's,
without music21; anything changed, damaged or foreign is read afresh."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen.io import read_melody_with_report, seed_cache
from musicgen.io import reader as reader_module

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _music21_file(*parts: str) -> Path:
    import music21

    return Path(music21.__file__).parent.joinpath("corpus", *parts)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "seeds"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the real parser is asked to read (it still reads them)."""
    calls: list[str] = []
    real = reader_module._read_bytes

    def counted(data, fmt, path, *args):
        calls.append(path.name)
        return real(data, fmt, path, *args)
    monkeypatch.setattr(reader_module, "_read_bytes", counted)
    return calls


@pytest.mark.parametrize("path, tune, track", [
    (DATA / "kesh-jig.abc", None, None),
    (DATA / "kesh-jig.musicxml", None, None),
    (_music21_file("airdsAirs", "book1.abc"), 3, None),  # a tune of a real book
    (_music21_file("bach", "bwv66.6.mxl"), None, 2),  # compressed MusicXML, its second part
])
def test_a_second_reading_is_the_first_without_parsing(cache, parses, path, tune, track):
    fresh = read_melody_with_report(path, tune=tune, track=track, cache=True)
    assert parses == [path.name] and len(list(cache.glob("*.json"))) == 1
    again = read_melody_with_report(path, tune=tune, track=track, cache=True)
    assert parses == [path.name]  # not parsed again
    assert again == fresh  # the melody (notes, key, meter, form, title...) and the report
    assert again == read_melody_with_report(path, tune=tune, track=track)  # what no cache reads


def test_midi_and_uncached_reads_keep_nothing(cache, parses):
    read_melody_with_report(DATA / "kesh-jig.mid", cache=True)
    read_melody_with_report(DATA / "kesh-jig.abc")
    assert not cache.exists()
    assert parses == ["kesh-jig.mid", "kesh-jig.abc"]


def test_another_tune_file_or_reading_is_another_entry(cache, parses, tmp_path):
    book = _music21_file("airdsAirs", "book1.abc")
    first = read_melody_with_report(book, tune=1, cache=True)[0]
    second = read_melody_with_report(book, tune=2, cache=True)[0]
    assert first != second and first.title != second.title
    played = read_melody_with_report(DATA / "kesh-jig.abc", cache=True)[0]
    written = read_melody_with_report(DATA / "kesh-jig.abc", expand_repeats=False, cache=True)[0]
    assert len(written.notes) < len(played.notes)  # the Kesh's repeats, written once
    copy = tmp_path / "kesh.abc"
    copy.write_bytes((DATA / "kesh-jig.abc").read_bytes())
    before = read_melody_with_report(copy, cache=True)[0]
    copy.write_text(copy.read_text().replace("T:", "T:Changed ", 1))
    after = read_melody_with_report(copy, cache=True)[0]
    assert after.title == "Changed " + before.title
    assert len(parses) == 6 and len(list(cache.glob("*.json"))) == 6


def test_a_changed_reader_is_read_afresh(cache, parses, monkeypatch):
    """The key holds the reader's fingerprint (its code, music21's version): another reader
    never gets this one's readings."""
    read_melody_with_report(DATA / "kesh-jig.abc", cache=True)
    monkeypatch.setattr(seed_cache, "_READER", ["another reader"])
    read_melody_with_report(DATA / "kesh-jig.abc", cache=True)
    assert len(parses) == 2 and len(list(cache.glob("*.json"))) == 2


def test_a_file_that_cannot_be_read_keeps_nothing(cache, tmp_path):
    from musicgen.errors import SeedError

    bad = tmp_path / "bad.abc"
    bad.write_text("X:1\nT:No body\nK:G\n")
    with pytest.raises(SeedError):
        read_melody_with_report(bad, cache=True)
    assert not list(cache.glob("*.json"))
    with pytest.raises(SeedError):  # and the same sentence again, from the reader
        read_melody_with_report(bad, cache=True)


def test_a_damaged_or_foreign_entry_is_read_afresh(cache, parses):
    path = DATA / "kesh-jig.abc"
    fresh = read_melody_with_report(path, cache=True)
    (entry,) = cache.glob("*.json")
    good = json.loads(entry.read_text())
    for damaged in ("{not json", json.dumps({"melody": {"__type__": "Popen", "args": ["true"]},
                                             "report": good["report"]}),
                    json.dumps({"melody": {**good["melody"], "meter": "6/8"},
                                "report": good["report"]}),  # a field of the wrong shape
                    json.dumps({**good, "report": good["melody"]}),  # the wrong class
                    json.dumps({"melody": {**good["melody"], "notes": [
                        ["D", *good["melody"]["notes"][0][1:]], *good["melody"]["notes"][1:]]},
                        "report": good["report"]}),  # a pitch edited into a letter
                    json.dumps({**good, "report": {**good["report"], "warnings": "none"}})):
        entry.write_text(damaged)
        assert read_melody_with_report(path, cache=True) == fresh
        assert json.loads(entry.read_text()) == good  # rewritten
    assert len(parses) == 7


def test_the_cache_keeps_at_most_its_limit(cache, monkeypatch, tmp_path):
    monkeypatch.setattr(seed_cache, "MAX_ENTRIES", 3)
    text = (DATA / "kesh-jig.abc").read_text()
    for n in range(5):
        path = tmp_path / f"tune{n}.abc"
        path.write_text(text.replace("T:", f"T:{n} ", 1))
        read_melody_with_report(path, cache=True)
    assert len(list(cache.glob("*.json"))) == 3


def test_an_unwritable_cache_folder_still_reads(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(blocked))
    melody, _ = read_melody_with_report(DATA / "kesh-jig.abc", cache=True)
    assert melody.title == "The Kesh"


def test_generate_from_an_abc_seed_a_second_time_imports_no_music21(tmp_path):
    """The command a user repeats: the same MIDI out both times, music21 only the first."""
    env = {**__import__("os").environ, "MUSICGEN_CACHE_DIR": str(tmp_path / "cache")}
    outputs, imported = [], []
    for n in range(2):
        out = tmp_path / f"out{n}.mid"
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "musicgen.cli", "generate",
                              str(DATA / "kesh-jig.abc"), "--bars", "2", "--rng-seed", "7",
                              "-o", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        imported.append(any(line.startswith("import time:") and line.rsplit("|", 1)[-1].strip()
                            .split(".")[0] == "music21" for line in run.stderr.splitlines()))
        outputs.append(out.read_bytes())
    assert imported == [True, False]
    assert outputs[0] == outputs[1]
