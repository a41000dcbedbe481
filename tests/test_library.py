"""The one resolver from a model name or a path to its checkpoint, used by every command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen import library
from musicgen.cli import main
from musicgen.errors import CheckpointError
from musicgen.library import available_models, resolve_checkpoint
from tests.support import write_abc_corpus

ROOT = Path(__file__).resolve().parents[1]


def copy_checkpoint(source: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".safetensors", ".json"):
        shutil.copy(source.with_suffix(suffix), folder / f"{name}{suffix}")
    return folder / f"{name}.safetensors"


@pytest.fixture
def library_dirs(tmp_path, monkeypatch, tiny_checkpoints):
    """A shipped folder holding lstm-folk (the tiny LSTM) and a user models folder holding 'mine'."""
    shipped = tmp_path / "shipped"
    copy_checkpoint(tiny_checkpoints["lstm"], shipped, "lstm-folk")
    monkeypatch.setattr(library, "DEFAULT_CHECKPOINT_DIR", shipped)
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    copy_checkpoint(tiny_checkpoints["transformer"], tmp_path / "data" / "models", "mine")
    return shipped, tmp_path / "data" / "models"


def test_every_spelling_resolves_to_the_same_file(library_dirs, tmp_path):
    shipped, models = library_dirs
    tensors = shipped / "lstm-folk.safetensors"
    assert resolve_checkpoint("lstm") == tensors
    assert resolve_checkpoint("lstm-folk") == tensors  # a shipped model's own name
    assert resolve_checkpoint(str(tensors)) == tensors
    assert resolve_checkpoint(str(tensors.with_suffix(".json"))) == tensors
    assert resolve_checkpoint(str(tensors.with_suffix(""))) == tensors  # the stem
    assert resolve_checkpoint("mine") == models / "mine.safetensors"  # a user model by name
    assert resolve_checkpoint("mine.safetensors") == models / "mine.safetensors"


def test_a_missing_shipped_model_says_how_to_make_one(library_dirs):
    with pytest.raises(CheckpointError, match="musicgen train --model transformer"):
        resolve_checkpoint("transformer")


def test_an_unknown_name_resolves_as_a_path_that_loading_reports(library_dirs, tmp_path):
    assert resolve_checkpoint(str(tmp_path / "nothing")) == tmp_path / "nothing.safetensors"


def test_the_library_lists_shipped_then_user_models(library_dirs):
    names = [card.name for card in available_models()]
    assert names == ["lstm-folk", "mine"]


def test_evaluate_and_generate_accept_the_same_names(library_dirs, tmp_path, capsys):
    """`musicgen evaluate lstm` used to fail while `generate --model lstm` worked."""
    abc = ROOT / "data" / "kesh-jig.abc"
    for name in ("lstm", "mine"):
        out = tmp_path / f"{name}.mid"
        assert main(["generate", str(abc), "--model", name, "--bars", "2", "--rng-seed", "1",
                     "-o", str(out)]) == 0
        assert out.stat().st_size > 0
    corpus = write_abc_corpus(tmp_path / "corpus", count=12)
    capsys.readouterr()
    assert main(["evaluate", "lstm", "--corpus", str(corpus), "--no-music", "--json",
                 "--ngram-max-order", "3"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["bits_per_note"] > 0


def test_resolving_does_not_import_torch():
    code = ("import sys; from musicgen.library import resolve_checkpoint, available_models; "
            "available_models(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert out.stdout.strip() == "False"
