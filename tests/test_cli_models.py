"""`musicgen models` lists the library, `musicgen info CKPT` summarises a checkpoint, and the
library renames and deletes a user's model with its card and run folder."""

from __future__ import annotations

import json
import shutil

import pytest

from musicgen import library
from musicgen.cli import main
from musicgen.errors import CheckpointError


@pytest.fixture
def library_dirs(tmp_path, monkeypatch, tiny_checkpoints):
    """A shipped folder with lstm-folk (the tiny LSTM) and a user folder with 'mine' (+ its card
    and run folder)."""
    shipped, models = tmp_path / "shipped", tmp_path / "data" / "models"
    for folder, name, kind in ((shipped, "lstm-folk", "lstm"), (models, "mine", "transformer")):
        folder.mkdir(parents=True)
        for suffix in (".safetensors", ".json"):
            shutil.copy(tiny_checkpoints[kind].with_suffix(suffix), folder / f"{name}{suffix}")
    (models / "mine.md").write_text("# mine\n")
    (models / "mine.run").mkdir()
    (models / "mine.run" / "metrics.jsonl").write_text("")
    monkeypatch.setattr(library, "DEFAULT_CHECKPOINT_DIR", shipped)
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    return shipped, models


def test_models_lists_shipped_and_user_models(library_dirs, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAME", "KIND"]
    assert lines[1].startswith("lstm-folk") and "figures validation split" in lines[1]
    assert lines[2].startswith("mine") and lines[2].endswith("(yours)")
    assert f"Your models folder: {library_dirs[1]}" in out
    assert main(["models", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["name"], r["where"], r["kind"]) for r in rows] == [
        ("lstm-folk", "shipped", "lstm"), ("mine", "yours", "transformer")]


def test_info_summarises_a_checkpoint_by_name_or_path(library_dirs, capsys):
    shipped, models = library_dirs
    assert main(["info", "mine"]) == 0
    out = capsys.readouterr().out
    assert "Kind:    transformer" in out and "Fields:  vocab_size=" in out
    assert "Corpus:  figures" in out and "Bits/note:" in out
    assert main(["info", str(shipped / "lstm-folk.json"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "lstm" and summary["fields"]["hidden_dim"] == 16
    assert summary["parameters"] > 0 and summary["file_bytes"] > 0
    assert summary["figures"]["measured_on"] == "the figures validation split"


def test_rename_and_delete_move_the_card_and_run_folder_too(library_dirs):
    _, models = library_dirs
    new = library.rename_model("mine", "my tunes")
    assert new == models / "my tunes.safetensors"
    assert sorted(p.name for p in models.iterdir()) == [
        "my tunes.json", "my tunes.md", "my tunes.run", "my tunes.safetensors"]
    assert json.loads((models / "my tunes.json").read_text())["tensors"]["file"] == new.name
    assert library.resolve_checkpoint("my tunes") == new
    with pytest.raises(CheckpointError, match="shipped model"):
        library.rename_model("my tunes", "lstm")
    with pytest.raises(CheckpointError, match="cannot name a model"):
        library.rename_model("my tunes", "../escape")
    with pytest.raises(CheckpointError, match="shipped model"):
        library.delete_model("lstm-folk")
    with pytest.raises(CheckpointError, match="no model of yours"):
        library.delete_model("nothing")
    library.delete_model("my tunes")
    assert list(models.iterdir()) == []
