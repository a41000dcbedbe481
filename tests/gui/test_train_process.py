"""The app trains in a process of its own (`gui.train_tasks.run_fine_tune`): the app's process
never imports torch for it, the child's events, copy checks and result come back, a failure in the
child comes back as the project's own one-sentence error, and stopping keeps the best model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from musicgen.errors import Cancelled, CorpusError
from tests.support import write_abc_corpus

ROOT = Path(__file__).resolve().parents[2]

_CHILD = textwrap.dedent("""
    import json, sys
    from gui.train_tasks import TrainRelay, read_tunes, run_fine_tune
    from musicgen.train.finetune import FineTunePlan

    folder, base = sys.argv[1], sys.argv[2]
    report = read_tunes([folder])
    events, checks = [], []
    relay = TrainRelay()
    relay.train_event.connect(lambda p: events.append(p.event))
    relay.copy_checked.connect(lambda c: checks.append(c.epoch))
    plan = FineTunePlan(name="own-process", corpus=folder, base=base, minutes=None, epochs=2)
    result = run_fine_tune(plan.to_dict(), relay, False, report.corpus)
    print(json.dumps({"torch_here": "torch" in sys.modules, "events": events, "checks": checks,
                      "checkpoint": str(result.checkpoint), "stop_reason": result.stop_reason}))
""")


def test_training_runs_in_a_process_of_its_own(tmp_path, tiny_checkpoints):
    folder = write_abc_corpus(tmp_path / "tunes", count=12)
    env = {**__import__("os").environ, "MUSICGEN_DATA_DIR": str(tmp_path / "data"),
           "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(tiny_checkpoints["lstm"])],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["torch_here"] is False  # the app's process stayed torch-free
    assert out["events"][0] == "init" and out["events"].count("epoch") == 2
    assert out["events"][-1] == "done"
    assert out["checks"] == [0, 1, 2]  # the base model's copy figure, then one per pass
    assert out["stop_reason"] == "epochs"
    from musicgen.checkpoint import load_checkpoint

    _model, metadata = load_checkpoint(out["checkpoint"])
    assert metadata["finetune"]["training"]["epochs"] == 2


def test_a_failure_in_the_training_process_is_one_sentence(tmp_path, monkeypatch, tiny_checkpoints):
    from gui.train_tasks import TrainRelay, run_fine_tune
    from musicgen.train.finetune import FineTunePlan

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    plan = FineTunePlan(name="nowhere", corpus=str(tmp_path / "no-such-folder"),
                        base=str(tiny_checkpoints["lstm"]), minutes=None, epochs=1)
    with pytest.raises(CorpusError, match=r"no-such-folder does not exist"):
        run_fine_tune(plan.to_dict(), TrainRelay())


def test_stopping_the_training_process_keeps_the_best_model(tmp_path, monkeypatch,
                                                             tiny_checkpoints):
    from gui.train_tasks import TrainRelay, run_fine_tune
    from musicgen.library import user_model_path
    from musicgen.train.finetune import FineTunePlan

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    folder = write_abc_corpus(tmp_path / "tunes", count=12)
    relay, seen = TrainRelay(), []
    relay.train_event.connect(lambda p: seen.append(p.event))
    plan = FineTunePlan(name="stopped", corpus=str(folder), base=str(tiny_checkpoints["lstm"]),
                        minutes=None, epochs=50, patience=0)
    with pytest.raises(Cancelled):
        run_fine_tune(plan.to_dict(), relay, should_stop=lambda: "epoch" in seen)
    from musicgen.checkpoint import load_checkpoint

    _model, metadata = load_checkpoint(user_model_path("stopped"))
    assert metadata["finetune"]["training"]["stop_reason"] == "stopped"
