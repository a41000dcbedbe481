"""SIGKILL mid-write: exports (command line and app) and the corpus cache keep a whole file.

Each process runs under `write_hook`, which announces every fsync and holds it 30 ms; the test
kills the process group inside a chosen write, or at a random moment after the first one. After
each kill every target file is whole: the previous version or the new one, each readable (MIDI,
ABC and MusicXML read back as melodies, WAV as audio, the corpus files as gzip JSON). The next
successful write into the same folder leaves no temporary file behind.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from tests.hardening.write_hook import ROOT, run_and_kill, temporaries
from tests.support import KESH_ABC, write_abc_corpus

SEED = int(os.environ.get("MUSICGEN_KILL_SEED", "20240516"))
pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MUSICGEN_DATA_DIR": str(tmp_path / "data"),
            "MUSICGEN_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}


def _whole(path: Path) -> str:
    """What `path` holds, checked whole ("absent" if it is not there); fails on a torn file."""
    if not path.exists():
        return "absent"
    if path.suffix == ".wav":
        with wave.open(str(path)) as wav:
            frames = wav.getnframes()
            assert frames > 0 and len(wav.readframes(frames)) == frames * wav.getsampwidth() * \
                wav.getnchannels(), f"{path} is torn"
        return f"wav:{frames}"
    if path.name.endswith(".json.gz"):
        json.loads(gzip.decompress(path.read_bytes()))
        return "json.gz"
    from musicgen.io import read_melody

    return f"melody:{read_melody(path).note_count}"


def test_cli_exports_survive_sigkill(tmp_path: Path, tiny_checkpoints: dict[str, Path]) -> None:
    env = _env(tmp_path)
    seed = tmp_path / "kesh.abc"
    seed.write_text(KESH_ABC)
    out = tmp_path / "exports"
    out.mkdir()
    rng = random.Random(SEED)
    history = []
    for turn, suffix in enumerate([".mid", ".abc", ".musicxml", ".wav", ".mid"]):
        target = out / f"tune{suffix}"
        args = ["cli", "generate", str(seed), "--model", str(tiny_checkpoints["lstm"]),
                "--bars", "4", "--rng-seed", str(turn), "-o", str(target)]
        if not target.exists():  # a previous version to keep
            done = subprocess.run([sys.executable, "-m", "musicgen.cli", *args[1:]], cwd=ROOT,
                                  env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        before = target.read_bytes()
        how = run_and_kill(args[:-4] + ["--rng-seed", str(turn + 100), "-o", str(target)], env,
                           tmp_path / "marker", rng,
                           at_write=1 if turn < 4 else None, after_first_write_s=0.02)
        state = _whole(target)
        history.append(f"{target.name}: {how}: {'previous' if target.read_bytes() == before else 'new'}"
                       f" file, whole ({state})")
    done = subprocess.run([sys.executable, "-m", "musicgen.cli", "generate", str(seed), "--model",
                           str(tiny_checkpoints["lstm"]), "--bars", "2", "-o", str(out / "tune.mid")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert temporaries(out) == [], history
    assert all("killed inside" in h or "killed" in h for h in history), history


def test_app_exports_survive_sigkill(tmp_path: Path) -> None:
    """The export task the app's export dialog runs, killed at random writes of its loop."""
    env = _env(tmp_path)
    seed = tmp_path / "kesh.abc"
    seed.write_text(KESH_ABC)
    out = tmp_path / "app-exports"
    out.mkdir()
    rng = random.Random(SEED + 1)
    history = []
    # two fsyncs per file, four files per round: inside the first round and in later ones
    moments = [rng.randint(1, 8) for _ in range(3)] + [rng.randint(9, 40) for _ in range(2)]
    for at_write in rng.sample(moments, len(moments)):
        how = run_and_kill(["app-export", str(seed), str(out)], env, tmp_path / "marker", rng,
                           at_write=at_write)
        states = {p.name: _whole(p) for p in sorted(out.glob("tune.*"))}
        history.append(f"{how}: {states}")
        assert "killed inside" in how, history
    assert len(states) == 4, history  # every format was written at least once before a kill
    from gui.export_tasks import write_plan
    from musicgen.io import read_melody

    write_plan([(out / "tune.mid", read_melody(seed))])
    assert temporaries(out) == [], history


def test_corpus_cache_survives_sigkill(tmp_path: Path) -> None:
    """`musicgen prepare` killed while it writes the parse cache and the prepared corpus: the
    previous files stay whole, and the next run prepares the changed corpus."""
    env = _env(tmp_path)
    corpus = write_abc_corpus(tmp_path / "corpus", count=12)
    prepare = ["cli", "prepare", "--corpus", str(corpus)]
    done = subprocess.run([sys.executable, "-m", "musicgen.cli", *prepare[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    files = lambda: sorted(p for p in tmp_path.rglob("*.json.gz"))  # noqa: E731
    first = {p: p.read_bytes() for p in files()}
    assert len(first) == 2, first  # the parse cache of the book, the prepared corpus
    rng = random.Random(SEED + 2)
    book = corpus / "book.abc"
    history = []
    for turn in range(4):
        book.write_text(book.read_text() + f"\nX:{100 + turn}\nT:Added {turn}\nM:4/4\nL:1/8\nK:C\n"
                        "CDEF GABc|c8|]\n")
        how = run_and_kill(prepare, env, tmp_path / "marker", rng, at_write=rng.randint(1, 4))
        history.append(f"{how}: " + ", ".join(f"{p.name}={_whole(p)}" for p in files()))
    prepared = [p for p in first if "corpora" in p.parts]
    assert prepared and all(_whole(p) == "json.gz" for p in prepared), history
    done = subprocess.run([sys.executable, "-m", "musicgen.cli", *prepare[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from musicgen.corpus.codec import read_gzip_json

    assert len(read_gzip_json(prepared[0])["tunes"]) == 12 + 4, history
    assert temporaries(tmp_path / "data") == [] and temporaries(tmp_path / "cache") == [], history
