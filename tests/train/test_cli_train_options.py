"""`musicgen train --set FIELD=VALUE` and `--weight-decay`: a real tiny run from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import write_abc_corpus


def _train(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env_dirs = {"MUSICGEN_DATA_DIR": str(tmp_path / "data"), "MUSICGEN_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "musicgen.cli", "train", *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env_dirs, "OMP_NUM_THREADS": "1"})


def test_set_changes_the_model_size_and_is_recorded(tmp_path):
    corpus = write_abc_corpus(tmp_path / "mine", count=24)
    out = tmp_path / "run" / "model"
    done = _train(tmp_path, "--model", "transformer", "--corpus", str(corpus), "--preset", "tiny",
                  "--set", "d_model=24", "--set", "n_layers=2", "--set", "dropout=0.05",
                  "--weight-decay", "0.05", "--epochs", "1", "--batch-size", "8",
                  "--device", "cpu", "-o", str(out))
    assert done.returncode == 0, done.stderr
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["model"]["config"]["d_model"] == 24
    assert meta["model"]["config"]["n_layers"] == 2
    assert meta["model"]["config"]["dropout"] == pytest.approx(0.05)
    assert meta["training"]["overrides"] == {"d_model": 24, "n_layers": 2, "dropout": 0.05}
    assert meta["training"]["weight_decay"] == pytest.approx(0.05)
    assert meta["command"].startswith("musicgen train --model transformer --corpus ")
    assert "--set d_model=24" in meta["command"]


@pytest.mark.parametrize("bad, status, says", [
    ("d_model", 2, "expected FIELD=VALUE"),  # bad usage, from argparse or from the values
    ("colour=blue", 2, "musicgen: error: unknown transformer config field(s): colour"),
    ("d_model=wide", 2, "musicgen: error: config field d_model has the wrong type"),
    ("vocab_size=10", 2, "musicgen: error: vocab_size comes from the vocabulary and cannot be"),
    ("kind=lstm", 2, "musicgen: error: unknown transformer config field(s): kind"),
    ("preset=gpu", 2, "musicgen: error: unknown transformer config field(s): preset"),
])
def test_bad_set_is_one_clear_error(tmp_path, bad, status, says):
    corpus = write_abc_corpus(tmp_path / "mine", count=12)
    done = _train(tmp_path, "--model", "transformer", "--corpus", str(corpus), "--preset", "tiny",
                  "--set", bad, "--epochs", "1", "--device", "cpu", "-o", str(tmp_path / "m"))
    assert done.returncode == status
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "m.safetensors").exists()


def test_set_with_init_is_refused(tmp_path):
    done = _train(tmp_path, "--model", "lstm", "--init", str(tmp_path / "x.safetensors"),
                  "--set", "hidden_dim=64", "-o", str(tmp_path / "m"))
    assert done.returncode == 2  # bad usage
    assert done.stderr.startswith("musicgen: error: --set sizes a new model")


@pytest.mark.parametrize("decay", ["-1", "nan", "inf"])
def test_bad_weight_decay_is_refused(tmp_path, decay):
    corpus = write_abc_corpus(tmp_path / "mine", count=12)
    done = _train(tmp_path, "--model", "lstm", "--corpus", str(corpus), "--preset", "tiny",
                  "--weight-decay", decay, "--epochs", "1", "--device", "cpu",
                  "-o", str(tmp_path / "m"))
    assert done.returncode == 2  # bad usage
    assert "musicgen: error: " in done.stderr and "weight decay must be zero or positive" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "m.safetensors").exists()


def test_bad_options_are_refused_before_torch_or_the_corpus_load(tmp_path):
    """A typo in `--set` or `--weight-decay` is answered at once: torch (2-3 s to import) and the
    corpus reader load only once every option has been checked."""
    script = (
        "import json, sys\n"
        "from musicgen import cli\n"
        "codes = []\n"
        "for extra in (['--set', 'colour=blue'], ['--weight-decay', 'nan']):\n"
        "    try:\n"
        "        codes.append(cli.main(['train', '--model', 'transformer', '--corpus', sys.argv[1],\n"
        "                               '--preset', 'tiny', '--epochs', '1', '-o', sys.argv[2],\n"
        "                               *extra]))\n"
        "    except SystemExit as exc:\n"
        "        codes.append(exc.code)\n"
        "print(json.dumps({'codes': codes, 'torch': 'torch' in sys.modules,\n"
        "                  'music21': 'music21' in sys.modules}))\n"
    )
    corpus = write_abc_corpus(tmp_path / "mine", count=12)
    done = subprocess.run([sys.executable, "-c", script, str(corpus), str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"codes": [2, 2], "torch": False,
                                                        "music21": False}
    assert done.stderr.count("musicgen: error: ") == 2 and "Traceback" not in done.stderr
    assert not (tmp_path / "m.safetensors").exists()
