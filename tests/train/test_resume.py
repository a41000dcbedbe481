"""Interrupted runs resume where they stopped: same steps, same losses as an uninterrupted run."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from musicgen.errors import Cancelled, TrainingError
from musicgen.train import train
from tests.support import step_losses, tiny_config, write_abc_corpus

KINDS = ["lstm", "transformer"]


def stop_after(calls: int):
    count = 0

    def should_stop() -> bool:
        nonlocal count
        count += 1
        return count > calls

    return should_stop


@pytest.mark.parametrize("kind", KINDS)
def test_stop_then_resume_equals_uninterrupted_run(kind, corpus, tmp_path):
    # Dropout on, so resuming must restore the torch RNG too, not only weights and optimizer.
    config = tiny_config(kind, overrides={"dropout": 0.2})
    full = train(config, corpus, out_path=tmp_path / "full")
    with pytest.raises(Cancelled, match="--resume"):
        train(config, corpus, out_path=tmp_path / "cut", should_stop=stop_after(7))
    state = json.loads((tmp_path / "cut.run" / "state.json").read_text())
    assert state["meta"]["position"]["step"] == 7
    assert (tmp_path / "cut.run" / "last.safetensors").exists()
    assert (tmp_path / "cut.safetensors").exists()  # stopped before a validation: still a model
    resumed = train(config, corpus, out_path=tmp_path / "cut", resume=True)
    assert resumed.steps == full.steps
    assert resumed.epochs == full.epochs
    cut, ref = step_losses(tmp_path / "cut"), step_losses(tmp_path / "full")
    assert sorted(cut) == sorted(ref) == list(range(1, full.steps + 1))
    for step in ref:
        assert cut[step] == pytest.approx(ref[step], rel=1e-5, abs=1e-6), step
    assert all(math.isfinite(v) for v in cut.values())
    assert resumed.best_val_bits_per_note == pytest.approx(full.best_val_bits_per_note, rel=1e-5)


def test_resume_refuses_missing_state_changed_options_and_finished_runs(corpus, tmp_path):
    with pytest.raises(TrainingError, match="does not exist"):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "none", resume=True)
    with pytest.raises(Cancelled):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m", should_stop=stop_after(2))
    with pytest.raises(TrainingError, match="different batch_size"):
        train(tiny_config("lstm", batch_size=4), corpus, out_path=tmp_path / "m", resume=True)
    train(tiny_config("lstm"), corpus, out_path=tmp_path / "m", resume=True)
    with pytest.raises(TrainingError, match="already finished"):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m", resume=True)


def test_torn_state_is_refused(corpus, tmp_path):
    """A kill between writing the state's tensors and its JSON must not mix two steps."""
    with pytest.raises(Cancelled):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m", should_stop=stop_after(3))
    path = tmp_path / "m.run" / "state.json"
    meta = json.loads(path.read_text())
    meta["meta"]["position"]["step"] = 2
    path.write_text(json.dumps(meta))
    with pytest.raises(TrainingError, match="Cannot resume"):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m", resume=True)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "musicgen.cli", "train", *args]


def test_sigkill_mid_run_then_resume_from_the_command_line(tmp_path):
    from musicgen.cli import build_parser
    from musicgen.commands.train import config_from_args
    from musicgen.corpus import load_corpus

    env = {**os.environ, "MUSICGEN_DATA_DIR": str(tmp_path / "data"),
           "MUSICGEN_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    os.environ.update({k: env[k] for k in ("MUSICGEN_DATA_DIR", "MUSICGEN_CACHE_DIR")})
    folder = write_abc_corpus(tmp_path / "tunes")
    corpus = load_corpus(folder)  # prepared once here; the subprocesses load the cache
    argv = ["--model", "lstm", "--corpus", str(folder), "--preset", "tiny", "--epochs", "12",
            "--batch-size", "4", "--lr", "0.01", "--seed", "5", "--patience", "0",
            "--device", "cpu", "--save-every-steps", "5", "-o", str(tmp_path / "run" / "m")]
    proc = subprocess.Popen(_cli(*argv), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    state = tmp_path / "run" / "m.run" / "state.json"
    deadline = time.monotonic() + 60
    while not state.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    killed_at = json.loads(state.read_text())["meta"]["position"]["step"]
    done = subprocess.run(_cli(*argv, "--resume"), env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "bits/note" in done.stdout
    # The same run without interruption, in this process: same steps, same losses.
    config = config_from_args(build_parser().parse_args(["train", *argv]))
    ref = train(config, corpus, out_path=tmp_path / "ref")
    final = json.loads(state.read_text())["meta"]["position"]
    assert 0 < killed_at < final["step"] == ref.steps
    got, want = step_losses(tmp_path / "run" / "m"), step_losses(tmp_path / "ref")
    assert sorted(got) == sorted(want)
    assert max(abs(got[s] - want[s]) for s in want) < 1e-5
