"""SIGKILL `musicgen train` at random moments and inside checkpoint writes: nothing is lost.

The run trains a tiny LSTM into the user's models folder (so the user-model folder is covered
too) and is killed ten times: at random moments after it starts writing, and, every other time,
inside the Nth fsync of a checkpoint, resume-state or corpus write (`write_hook` announces each
one and holds it 30 ms). After each kill every checkpoint present loads and the resume state is
whole (so ``--resume`` can continue); each next run continues with ``--resume``. At the end a
``--resume`` runs to completion (told to stop after the epoch it is in, to keep the test short),
the best and last checkpoints load, the models folder lists the model, and no temporary file is
left anywhere. File names are not hard-coded: every checkpoint
JSON found is checked.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.hardening.write_hook import ROOT, run_and_kill, temporaries
from tests.support import write_abc_corpus

KILLS = 10
SEED = int(os.environ.get("MUSICGEN_KILL_SEED", "20240516"))
pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MUSICGEN_DATA_DIR": str(tmp_path / "data"),
            "MUSICGEN_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT)}


def _checkpoint_jsons(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.json")):
        try:
            kind = json.loads(path.read_text()).get("format")
        except (OSError, ValueError, AttributeError) as exc:
            raise AssertionError(f"{path} is torn: {exc}") from exc
        if kind == "musicgen-checkpoint":
            found.append(path)
    return found


def _check_whole(models: Path) -> list[str]:
    """Every checkpoint loads; the resume state, when there is one, loads. What was checked."""
    from musicgen.checkpoint import load_checkpoint
    from musicgen.train.state import load_state

    checked = []
    for path in _checkpoint_jsons(models):
        load_checkpoint(path)
        checked.append(path.relative_to(models).as_posix())
    for state in models.rglob("state.safetensors"):
        load_state(state)
        checked.append(state.relative_to(models).as_posix())
    return checked


def test_sigkill_during_training_never_loses_a_checkpoint(tmp_path: Path) -> None:
    env = _env(tmp_path)
    corpus = write_abc_corpus(tmp_path / "corpus", count=24)
    subprocess.run([sys.executable, "-m", "musicgen.cli", "prepare", "--corpus", str(corpus)],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    out = models / "tiny"
    train = ["cli", "train", "--model", "lstm", "--corpus", str(corpus), "--preset", "tiny",
             "--epochs", "40", "--batch-size", "8", "--save-every-steps", "2", "--patience", "0",
             "--device", "cpu", "-o", str(out)]
    rng = random.Random(SEED)
    history = []
    for kill in range(KILLS):
        resume = ["--resume"] if (out.with_suffix(".run") / "state.safetensors").exists() else []
        if kill % 2:
            how = run_and_kill(train + resume, env, tmp_path / "marker", rng,
                               at_write=rng.randint(1, 12))
        else:
            how = run_and_kill(train + resume, env, tmp_path / "marker", rng,
                               after_first_write_s=rng.uniform(0.0, 2.5))
        assert not how.startswith("finished"), f"kill {kill}: the run ended before it ({how})"
        history.append(f"kill {kill} ({'resume' if resume else 'fresh'}): {how}: "
                       f"{', '.join(_check_whole(models)) or 'nothing saved yet'}")
    print("\n".join(history))  # shown with -s: where each kill landed
    assert sum("write" in h for h in history) >= KILLS, history
    finish = [sys.executable, "-m", "musicgen.cli", *train[1:], "--epochs", "1", "--resume"]
    done = subprocess.run(finish, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{done.stderr[-2000:]}\n" + "\n".join(history)
    checked = _check_whole(models)
    assert "tiny.json" in checked and "tiny.run/last.json" in checked, checked
    assert temporaries(models) == [], "\n".join(history)

    from musicgen.library import available_models

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unreadable model in the folder would warn
        assert [card.name for card in available_models(models)] == ["tiny"]
