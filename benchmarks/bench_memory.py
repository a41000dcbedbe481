"""Peak memory of the app and the command line: generating, opening the largest files the readers
accept, preparing the corpus, and training with every shipped preset.

    .venv/bin/python benchmarks/bench_memory.py [--smoke] [--only SCENARIO,...]

Each scenario runs as its own process; this script polls the process and its children (every
100 ms) and reports the peak of their summed proportional set size (PSS: pages shared between a
process and its forked readers count once), and the highest resident set of any one of them
(`VmHWM`, tracked by the kernel, so a short spike between polls still counts). Limits (issue 16):
1 GB for the app and the CLI, 1.5 GB for training. Prints JSON lines.

Scenarios: ``cli_generate`` / ``app_generate`` (the shipped LSTM and Transformer, 8 variations of
32 bars); ``app_first_generate`` (what a user's first minute costs: the window started as
``musicgen-gui`` starts it, the default model and example tune loaded, one Generate with the
default settings; limit 400 MB, issue 17; it fails if torch was imported); ``cli_open`` / ``app_open`` (a 19.5 MB ABC tune book, a MIDI file of 40,000 notes and a
MusicXML score of 5,000 notes: the largest of each that read within the default budget; then a
19.5 MB MusicXML score that the budget stops); ``cli_prepare`` / ``app_prepare`` (the folk corpus,
with the user's parse cache copied in when there is one; the app in a data folder of its own, so
it prepares too) and ``cli_prepare_cold`` (a 1,000-tune folder parsed from scratch in worker
processes);
``train_<kind>_<preset>`` (20 seconds of training on the prepared corpus). ``--smoke`` (seconds;
the test suite runs it) measures one small case of each kind with tiny models and inputs.
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
APP_LIMIT_MB, TRAIN_LIMIT_MB = 1024, 1536
FIRST_GENERATION_LIMIT_MB = 400  # issue 17: the app after start-up and a first generation
_POLL_S = 0.02
_PSS_EVERY = 5  # smaps_rollup costs a walk of every mapping: PSS each 5th poll, VmHWM always

_APP = """
import sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
from gui.settings import AppSettings
task, args = sys.argv[1], sys.argv[2:]
win = MainWindow(AppSettings(args[0]), corpus=args[1])
win.show()
done = []
def wait(*signals, seconds=1800):
    for signal in signals:
        signal.connect(lambda *a: done.append(a))
    end = time.monotonic() + seconds
    while not done and time.monotonic() < end:
        app.processEvents(); time.sleep(0.005)
    assert done, f"nothing happened in {seconds} s"
    for signal in signals:
        signal.disconnect()
    done.clear()
failed = [win.generation.generation_failed, win.dialogs.error_shown]
if task == "generate":
    seed, models, variations, bars = args[2], args[3].split(","), int(args[4]), int(args[5])
    win.seeds.open_path(seed); wait(win.seed.seed_changed)
    win.ui.sampling.replace_values(variations=variations, bars=bars, new_seed_each_time=False)
    for model in models:
        win.models.add_checkpoint(model); wait(win.ui.model_panel.model_chosen, *failed)
        win.generation.generate(); wait(win.generation.generation_finished, *failed)
        assert win.ui.variations.count() >= variations, win.dialogs.last_error
elif task == "open":  # each file becomes the seed, or fails with a sentence (the hostile one)
    for path in args[2:]:
        win.seeds.open_path(path); wait(win.seed.seed_changed, win.seeds.load_failed)
elif task == "prepare":
    win.seeds.load_corpus(); wait(win.seeds.corpus_loaded)
elif task == "first":  # as a user's first minute: start, then Generate with every default
    ready = {"model": False, "seed": False}
    win.models.model_ready.connect(lambda *a: ready.__setitem__("model", True))
    win.seed.seed_changed.connect(lambda *a: ready.__setitem__("seed", True))
    win.start(None)  # the default model preloaded, the example tune as the seed
    end = time.monotonic() + 600
    while not all(ready.values()) and time.monotonic() < end:
        app.processEvents(); time.sleep(0.005)
    assert all(ready.values()), ready
    win.generation.generate(); wait(win.generation.generation_finished, *failed)
    assert win.ui.variations.count() >= 1, win.dialogs.last_error
    assert "torch" not in sys.modules, "the app imported torch"
win.close()
"""


# --- measuring --------------------------------------------------------------------------------
def _tree(pid: int) -> list[int]:
    pids, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                frontier += [int(p) for p in task.read_text().split()]
            except OSError:
                pass
    return pids


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def measure(name: str, cmd: list[str], env: dict[str, str], limit_mb: int, expect_exit: int = 0,
            **extra: object) -> dict:
    """Run `cmd`, polling its process tree; the figures as one JSON-ready row."""
    start = time.monotonic()
    log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a progress bar would fill it
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
                            text=True)
    peak_pss = peak_hwm = polls = 0
    processes = set()
    while proc.poll() is None:
        pids = _tree(proc.pid)
        processes.update(pids)
        if polls % _PSS_EVERY == 0:
            peak_pss = max(peak_pss, sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
        polls += 1
        peak_hwm = max([peak_hwm] + [_field_kb(f"/proc/{p}/status", "VmHWM:") for p in pids])
        time.sleep(_POLL_S)
    log.seek(0)
    stderr = log.read()
    log.close()
    if proc.returncode != expect_exit:
        raise RuntimeError(f"{name} ended with {proc.returncode}: {stderr[-2000:]}")
    if expect_exit:
        extra["message"] = (stderr.strip().splitlines() or [""])[-1][:200]
    return {"bench": "memory", "scenario": name, "peak_pss_mb": round(peak_pss / 1024, 1),
            "peak_process_rss_mb": round(peak_hwm / 1024, 1), "processes": len(processes),
            "limit_mb": limit_mb, "within_limit": peak_pss / 1024 <= limit_mb,
            "seconds": round(time.monotonic() - start, 1), **extra}


# --- inputs -----------------------------------------------------------------------------------
def _abc_book(path: Path, megabytes: float) -> Path:
    tune = "X:{n}\nT:Reel {n}\nM:4/4\nL:1/8\nK:D\n|:DFAF dFAF|GBdB AFDF|EFGA BAGF|EDCE D4:|\n\n"
    count = int(megabytes * 1e6 / len(tune.format(n=100000)))
    path.write_text("".join(tune.format(n=i + 1) for i in range(count)))
    return path


def _midi(path: Path, notes: int) -> Path:
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for i in range(notes):
        pitch = 60 + (i * 7) % 24
        track.append(mido.Message("note_on", note=pitch, velocity=80))
        track.append(mido.Message("note_off", note=pitch, time=240))
    midi.save(str(path))
    return path


def _musicxml(path: Path, measures: int) -> Path:
    note = ("<note><pitch><step>{}</step><octave>5</octave></pitch><duration>1</duration>"
            "<type>quarter</type></note>")
    head = ('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
            '<score-part id="P1"><part-name>x</part-name></score-part></part-list><part id="P1">')
    attributes = ("<attributes><divisions>1</divisions><key><fifths>0</fifths></key><time>"
                  "<beats>4</beats><beat-type>4</beat-type></time></attributes>")
    body = [f'<measure number="{m + 1}">{attributes if m == 0 else ""}'
            + "".join(note.format("CDEFGAB"[(m + i) % 7]) for i in range(4)) + "</measure>"
            for m in range(measures)]
    path.write_text(head + "".join(body) + "</part></score-partwise>")
    return path


def _folder_corpus(folder: Path, tunes: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    figures = ["DFAF", "GBdB", "AFDF", "EFGA", "BAGF", "EDCE", "dcBA", "GFED"]
    book = []
    for n in range(tunes):
        bars = "|".join(figures[(n * 3 + i * 5) % len(figures)] + figures[(n + i) % len(figures)]
                        for i in range(8))
        book.append(f"X:{n + 1}\nT:Tune {n + 1}\nM:4/4\nL:1/8\nK:D\n|{bars}|D8|]\n")
    (folder / "tunes.abc").write_text("\n".join(book))
    return folder


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "MUSICGEN_DATA_DIR": str(folder / "data"), "QT_QPA_PLATFORM": "offscreen",
            "MUSICGEN_CACHE_DIR": str(folder / "cache"), "PYTHONPATH": str(ROOT)}


def _warm_folk_cache(folder: Path) -> bool:
    """Copy the user's parse cache of the folk corpus in (a cold parse takes ~15 min here)."""
    from musicgen.userdirs import cache_dir

    parsed = cache_dir() / "parsed"
    if os.environ.get("MUSICGEN_CACHE_DIR") or not parsed.is_dir():
        return False
    shutil.copytree(parsed, folder / "cache" / "parsed", dirs_exist_ok=True)
    return True


# --- the scenarios ----------------------------------------------------------------------------
def run(smoke: bool, only: set[str] | None, folder: Path) -> list[dict]:
    env = _env(folder)
    cli = [sys.executable, "-m", "musicgen.cli"]
    app = [sys.executable, "-c", _APP]
    settings = str(folder / "settings.ini")
    seed = ROOT / "data" / "kesh-jig.abc"
    models = ["lstm", "transformer"]
    variations, bars = (2, 4) if smoke else (8, 32)
    if smoke:
        models = [str(_tiny_model(folder, env, "lstm"))]
    files = [_abc_book(folder / "book.abc", 0.05 if smoke else 19.5),
             _midi(folder / "notes.mid", 200 if smoke else 40_000),
             _musicxml(folder / "score.musicxml", 50 if smoke else 1_250)]
    # ~440 bytes a measure: a score near the 20 MB cap, far past what the time budget admits
    hostile = _musicxml(folder / "hostile.musicxml", 250 if smoke else 44_000)
    corpus = "folk"
    warm = False
    if smoke or os.environ.get("MUSICGEN_BENCH_COLD_CORPUS"):
        corpus = str(_folder_corpus(folder / "corpus", 12 if smoke else 1_000))
    else:
        warm = _warm_folk_cache(folder)
    rows = []
    scenarios = {
        "cli_generate": lambda: [measure(f"cli_generate_{Path(m).stem}", cli + [
            "generate", str(seed), "--model", m, "--variations", str(variations), "--bars",
            str(bars), "-o", str(folder / "out.mid")], env, APP_LIMIT_MB,
            variations=variations, bars=bars) for m in models],
        "app_generate": lambda: [measure("app_generate", app + [
            "generate", settings, corpus, str(seed), ",".join(models), str(variations), str(bars)],
            env, APP_LIMIT_MB, models=len(models), variations=variations, bars=bars)],
        "app_first_generate": lambda: [measure("app_first_generate", app + [
            "first", settings, corpus], env, FIRST_GENERATION_LIMIT_MB)],
        "cli_open": lambda: [measure(f"cli_open_{p.suffix[1:]}", cli + ["info", str(p)], env,
                                     APP_LIMIT_MB, file_mb=round(p.stat().st_size / 1e6, 2))
                             for p in files] + [measure(
            "cli_open_hostile", cli + ["info", str(hostile)], env, APP_LIMIT_MB,
            expect_exit=0 if smoke else 1, file_mb=round(hostile.stat().st_size / 1e6, 2))],
        "app_open": lambda: [measure("app_open", app + ["open", settings, corpus]
                                     + [str(p) for p in files + [hostile]], env, APP_LIMIT_MB,
                                     files=len(files) + 1)],
        "cli_prepare": lambda: [measure("cli_prepare", cli + ["prepare", "--corpus", corpus], env,
                                        APP_LIMIT_MB, corpus=Path(corpus).name, warm_cache=warm)],
        "app_prepare": lambda: [measure("app_prepare", app + ["prepare", settings, corpus],
                                        {**env, "MUSICGEN_DATA_DIR": str(folder / "app-data")},
                                        APP_LIMIT_MB, corpus=Path(corpus).name, warm_cache=warm)],
        "cli_prepare_cold": lambda: [] if smoke else [measure(
            "cli_prepare_cold", cli + ["prepare", "--corpus", str(_folder_corpus(
                folder / "cold-corpus", 1_000))], env, APP_LIMIT_MB, tunes=1_000)],
    }
    presets = ["tiny"] if smoke else ["tiny", "small", "cpu", "gpu"]
    for kind in ("lstm",) if smoke else ("lstm", "transformer"):
        for preset in presets:
            budget = ["--epochs", "1"] if smoke else ["--minutes", "0.34"]
            scenarios[f"train_{kind}_{preset}"] = (lambda k=kind, p=preset, b=budget: [measure(
                f"train_{k}_{p}", cli + ["train", "--model", k, "--preset", p, "--corpus", corpus,
                                         "--device", "cpu", *b, "-o", str(folder / f"{k}-{p}")],
                env, TRAIN_LIMIT_MB, preset=p)])
    for name, scenario in scenarios.items():
        if only is None or name in only or name.split("_")[0] in only:
            for row in scenario():
                rows.append({**row, "smoke": smoke})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def _tiny_model(folder: Path, env: dict[str, str], kind: str) -> Path:
    corpus = _folder_corpus(folder / "tiny-corpus", 12)
    out = folder / f"tiny-{kind}"
    subprocess.run([sys.executable, "-m", "musicgen.cli", "train", "--model", kind, "--preset",
                    "tiny", "--corpus", str(corpus), "--epochs", "1", "--device", "cpu", "-o",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
    return out.with_suffix(".safetensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny inputs and models (seconds)")
    parser.add_argument("--only", help="comma-separated scenarios or kinds (cli, app, train...)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        rows = run(args.smoke, set(args.only.split(",")) if args.only else None, Path(tmp))
    print(json.dumps({"bench": "memory_summary", "scenarios": len(rows), "smoke": args.smoke,
                      "all_within_limits": all(r["within_limit"] for r in rows),
                      "worst": max(rows, key=lambda r: r["peak_pss_mb"] / r["limit_mb"])["scenario"]
                      if rows else None}), flush=True)


if __name__ == "__main__":
    main()
