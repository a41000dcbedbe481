"""`musicgen prepare` on a folder of tunes, as a user runs it: a report, and no empty headings."""

from __future__ import annotations

import json

from musicgen.cli import main
from tests.support import write_abc_corpus


def test_prepare_a_folder_prints_its_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_abc_corpus(tmp_path / "mine", count=12)
    assert main(["prepare", "--corpus", str(folder), "--stats", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "tunes 12" in out and "dropped: 0 unreadable" in out
    assert "dropped tunes" not in out  # nothing was dropped: no empty heading
    assert main(["prepare", "--corpus", str(folder), "--json", "--workers", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tunes"] == 12 and report["failed"] == 0


def test_dropped_tunes_are_listed_with_their_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_abc_corpus(tmp_path / "mine", count=6)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    assert main(["prepare", "--corpus", str(folder), "--stats", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "dropped tunes by reason:" in out and "broken.mid" in out


def test_prepare_with_the_family_split_writes_its_own_file(tmp_path, monkeypatch, capsys):
    from musicgen.corpus import prepared_path

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_abc_corpus(tmp_path / "mine", count=12)
    assert main(["prepare", "--corpus", str(folder), "--split-version", "2", "--workers", "1"]) == 0
    assert prepared_path(folder, 2).is_file() and not prepared_path(folder, 1).exists()
    assert str(prepared_path(folder, 2)) in capsys.readouterr().out
