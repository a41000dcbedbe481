"""Two CPU processes on gloo (torchrun) train exactly like one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen.checkpoint import load_checkpoint
from musicgen.train import train
from tests.support import step_losses, tiny_config

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(WORKER), str(out)]
    log = out / "torchrun.log"
    with log.open("w") as sink:
        code = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                              stderr=subprocess.STDOUT, timeout=240).returncode
    assert code == 0, log.read_text()[-3000:]
    return out


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_two_gloo_processes_match_one_process(kind, ddp_run, corpus, tmp_path):
    single = train(tiny_config(kind), corpus, out_path=tmp_path / "m")
    got, want = step_losses(ddp_run / kind / "m"), step_losses(tmp_path / "m")
    # One metrics line per step: only rank 0 writes files.
    lines = (ddp_run / kind / "m.run" / "metrics.jsonl").read_text().splitlines()
    assert sum(1 for line in lines if json.loads(line)["event"] == "step") == single.steps
    assert sorted(got) == sorted(want) == list(range(1, single.steps + 1))
    for step in want:
        assert got[step] == pytest.approx(want[step], rel=1e-4), step
    _, meta = load_checkpoint(ddp_run / kind / "m")
    assert meta["metrics"]["steps"] == single.steps
    assert meta["metrics"]["val_bits_per_note"] == pytest.approx(
        single.best_val_bits_per_note, rel=1e-4)
    leftovers = sorted(p.name for p in (ddp_run / kind).iterdir())
    assert leftovers == sorted(p.name for p in tmp_path.iterdir())
