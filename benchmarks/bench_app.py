"""Benchmark the desktop app: time to a shown window, and the longest main-thread stall while a
model loads and while variations are generated (a 5 ms QTimer heartbeat measures the gaps).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_app.py [--model lstm|transformer|PATH] [--smoke]

Prints JSON lines. Targets (issue 5): window shown < 1 s; stall during generation < 50 ms.
Uses the shipped checkpoints; when they are missing, trains a tiny model first (and says so).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_STARTUP = """
import time, sys
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
w = MainWindow()
w.show()
app.processEvents()
print(time.perf_counter() - t0, 'torch' in sys.modules)
"""


def bench_startup(runs: int = 3) -> dict:
    """Process start to a shown, painted window (interpreter start included), best and worst."""
    walls, in_process = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _STARTUP], cwd=ROOT, capture_output=True,
                             text=True, check=True)
        walls.append(time.perf_counter() - start)
        seconds, torch_loaded = out.stdout.split()
        in_process.append(float(seconds))
    return {"bench": "app_startup", "process_to_window_s_best": round(min(walls), 3),
            "process_to_window_s_worst": round(max(walls), 3),
            "imports_to_window_s_best": round(min(in_process), 3),
            "torch_loaded_at_start": torch_loaded == "True", "target_s": 1.0, "runs": runs}


class Heartbeat:
    """Records the longest gap between 5 ms timer ticks on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.reset()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.max_gap = 0.0
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        if now - self.last > self.max_gap and os.environ.get("BENCH_APP_TRACE"):
            print(f"  gap {1000 * (now - self.last):.1f} ms at {now:.3f}", file=sys.stderr)
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1


def _wait(app, signal_owner_flag: list, timeout_s: float = 600.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not signal_owner_flag and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)


_TRAIN = """
import sys
sys.path.insert(0, ".")
from tests.support import training_melodies  # the tests' small corpus
from musicgen.corpus import Corpus
from musicgen.train import train
from musicgen.train.config import TrainConfig
config = TrainConfig(model=sys.argv[1], preset="tiny", batch_size=8, max_epochs=2, device="cpu",
                     seed=3, patience=0)
train(config, Corpus.from_melodies(training_melodies(), name="bench"), out_path=sys.argv[2])
"""


# A folder of ready ``{kind}-tiny`` checkpoints to copy instead of training (the test suite sets
# it for the smoke runs that only need some tiny model, and trains one here in bench_app's own).
TINY_MODELS_ENV = "MUSICGEN_BENCH_TINY_MODELS"


def _tiny_checkpoint(folder: Path, kind: str) -> Path:
    """Train in another process, so torch is first imported by the app's own model loading."""
    path = folder / f"{kind}-tiny.safetensors"
    ready = os.environ.get(TINY_MODELS_ENV)
    if ready:
        for suffix in (".safetensors", ".json"):
            shutil.copyfile((Path(ready) / path.name).with_suffix(suffix), path.with_suffix(suffix))
        return path
    subprocess.run([sys.executable, "-c", _TRAIN, kind, str(path)], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def _model_path(model: str, folder: Path, tiny: bool) -> tuple[str, str]:
    """(checkpoint path, where it came from): the shipped or named model, else a tiny one."""
    from musicgen.errors import CheckpointError
    from musicgen.library import MODEL_NAMES, resolve_checkpoint

    if tiny:
        return str(_tiny_checkpoint(folder, model)), "tiny model trained by the benchmark (--smoke)"
    try:
        return str(resolve_checkpoint(model)), "shipped checkpoint"
    except CheckpointError:
        if model not in MODEL_NAMES:
            raise
        return str(_tiny_checkpoint(folder, model)), "tiny model trained by the benchmark"


def bench_stall(model: str, variations: int, bars: int, smoke: bool = False) -> list[dict]:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    window = MainWindow(AppSettings(tmp / "settings.ini"))
    window.show()
    model, note = _model_path(model, tmp, smoke)
    heart = Heartbeat()
    heart.timer.start()
    done: list = []
    seeded = window.seed.seed_changed.connect(lambda *_: done.append(1))
    window.start(preload_model=False)
    _wait(app, done)
    window.seed.seed_changed.disconnect(seeded)
    rows = []
    for phase in ("load_model", "generate", "generate_again"):
        done.clear()
        heart.reset()
        start = time.perf_counter()
        if phase == "load_model":
            job = window.models.add_checkpoint(model)  # loads it (torch too) and selects it
        else:
            window.ui.sampling.replace_values(variations=variations, bars=bars, rng_seed=1,
                                              new_seed_each_time=False)
            job = window.generation.generate()
        job.finished.connect(lambda *_: done.append(1))
        if os.environ.get("BENCH_APP_TRACE"):
            job.finished.connect(lambda *_: print(f"  finished at {time.perf_counter():.3f}",
                                                  file=sys.stderr))
        job.failed.connect(lambda exc: done.append(exc))
        _wait(app, done)
        if done and done[0] != 1:
            raise SystemExit(f"{phase} failed: {done[0]}")
        rows.append({"bench": "app_main_thread_stall", "phase": phase, "model": Path(model).name,
                     "model_source": note, "variations": variations, "bars": bars,
                     "seconds": round(time.perf_counter() - start, 3),
                     "max_stall_ms": round(heart.max_gap * 1000, 1), "heartbeats": heart.ticks,
                     "target_ms": 50 if phase != "load_model" else None, "smoke": smoke})
    window.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--variations", type=int, default=8)
    parser.add_argument("--bars", type=int, default=32)
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: one start-up run, a tiny model, 2 variations x 2 bars")
    args = parser.parse_args()
    if args.smoke:
        args.variations, args.bars = 2, 2
    print(json.dumps({**bench_startup(1 if args.smoke else 3), "smoke": args.smoke}), flush=True)
    for row in bench_stall(args.model, args.variations, args.bars, args.smoke):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
