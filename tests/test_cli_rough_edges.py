"""The command line as a musician meets it (issue 15): `info --tune N` shows that tune, help and
README agree, `prepare` says how long is left and resumes after Ctrl+C, and `evaluate --compare`
scores two models on the very same tunes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen.cli import build_parser, main
from tests.support import write_abc_corpus

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def help_text(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return " ".join(sub.choices[command].format_help().split())


def test_info_tune_shows_that_tune_not_the_whole_book(capsys):
    book = str(DATA / "tunebook.abc")
    assert main(["info", book, "--tune", "2"]) == 0
    text = capsys.readouterr().out
    assert "Title:  The Silver Spear" in text and "Tune:   2 of 3 in this book" in text
    assert "The Kesh" not in text and "Si Bheag" not in text and "Tunes (" not in text
    assert main(["info", book]) == 0  # without --tune: the list, as before
    assert "Tunes (3):" in capsys.readouterr().out


def test_info_on_a_checkpoint_lists_the_fields_train_set_changes(tiny_checkpoints, capsys):
    assert "`musicgen info` on a checkpoint lists the fields" in help_text("train")
    assert main(["info", str(tiny_checkpoints["transformer"])]) == 0
    fields_line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Fields:"))
    fields = dict(pair.split("=", 1) for pair in fields_line[len("Fields:"):].strip().split(", "))
    from musicgen.models.config import TransformerConfig  # the fields --set may change

    assert set(fields) - {"vocab_size"} and set(fields) <= set(TransformerConfig.__dataclass_fields__)


def test_model_help_calls_the_transformer_the_better_model_as_the_readme_does():
    text = help_text("generate")
    assert "lstm (default" in text and "better shipped model" in text
    assert re.search(r"transformer \(the better shipped model", text)
    assert "lstm (default: the better" not in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "The Transformer is much the better model" in readme
    assert "evaluate --compare" in " ".join(help_text("evaluate").split()) or "--compare CKPT" in help_text("evaluate")
    assert "--compare" in readme


def _as_from_a_terminal() -> None:
    """In the child before exec: Ctrl+C as a terminal delivers it. A test process can carry
    SIGINT ignored or blocked (both survive exec) from something that ran earlier in it; then
    the command never saw the signal and finished (exit 0), seen in full-suite runs only."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_state(pid: int) -> str:
    status = Path(f"/proc/{pid}/status")
    return " ".join(line for line in status.read_text().splitlines()
                    if line.startswith(("SigBlk", "SigIgn", "SigCgt"))) if status.exists() else ""


def test_prepare_says_how_long_is_left_and_resumes_after_ctrl_c(tmp_path):
    folder = write_abc_corpus(tmp_path / "tunes", count=300)  # enough that Ctrl+C lands while tunes are parsed
    env = dict(os.environ, MUSICGEN_DATA_DIR=str(tmp_path / "data"),
               MUSICGEN_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "musicgen.cli", "prepare", "--corpus", str(folder), "--workers", "1"]
    run = subprocess.Popen(command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=_as_from_a_terminal)
    lines, signals = [], ""
    for line in run.stderr:  # progress lines (stderr is not a terminal here)
        lines.append(line.strip())
        if "left" in line:
            signals = _signal_state(run.pid)
            run.send_signal(signal.SIGINT)
            break
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, (lines, err, signals)
    assert re.fullmatch(r"parsing tunes: \d+ of 300 tunes, about \d+:\d\d left", lines[-1])
    assert "the tunes parsed so far are kept: run the same command again to resume" in err

    again = subprocess.run(command, cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr
    first = again.stderr.splitlines()[0]
    done = int(re.fullmatch(r"resuming: (\d+) of 300 tunes parsed before", first).group(1))
    assert 0 < done < 300
    assert "tunes 300" in again.stdout


def test_evaluate_compare_scores_two_models_on_the_same_tunes(tiny_checkpoints, tmp_path, monkeypatch,
                                                              capsys):
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = str(write_abc_corpus(tmp_path / "tunes", count=30))
    lstm, transformer = str(tiny_checkpoints["lstm"]), str(tiny_checkpoints["transformer"])
    quick = ["--corpus", folder, "--no-music", "--no-written", "--ngram-max-order", "3"]
    alone = {}
    for name, path in (("lstm", lstm), ("transformer", transformer)):
        assert main(["evaluate", path, *quick, "--json"]) == 0
        alone[name] = json.loads(capsys.readouterr().out)["bits_per_note"]

    assert main(["evaluate", lstm, "--compare", transformer, *quick, "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    first, second = both["reports"]
    assert first["tunes"] == second["tunes"] and first["corpus_fingerprint"] == second["corpus_fingerprint"]
    row = both["comparison"]["rows"][0]
    assert row["label"] == "all notes"
    assert row["first"] == pytest.approx(alone["lstm"]) and row["second"] == pytest.approx(alone["transformer"])
    assert row["difference"] == pytest.approx(alone["transformer"] - alone["lstm"])

    assert main(["evaluate", lstm, "--compare", transformer, *quick]) == 0
    text = capsys.readouterr().out
    table = text[text.index("comparison on the same"):]
    assert f"{first['tunes']:,} test tunes" in table and "lstm-tiny minus" not in table
    # the tiny models trained on another corpus ("figures"): said, since these may not be held out
    assert "note: lstm-tiny was trained on another corpus" in table
    line = next(ln for ln in table.splitlines() if ln.startswith("all notes"))
    assert f"{alone['lstm']:.3f}" in line and f"{alone['transformer']:.3f}" in line
    assert f"{alone['transformer'] - alone['lstm']:+.3f}" in line


def test_evaluate_compare_refuses_a_model_that_is_not_there(tiny_checkpoints, tmp_path, capsys):
    assert main(["evaluate", str(tiny_checkpoints["lstm"]), "--compare", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("musicgen: error: ") and len(err.strip().splitlines()) == 1


def test_evaluate_compare_uses_the_tunes_a_fine_tune_held_out(tiny_checkpoints, tmp_path, monkeypatch,
                                                               capsys):
    import shutil

    from musicgen.corpus import load_corpus
    from musicgen.train.guard import hold_out

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_abc_corpus(tmp_path / "tunes", count=30)
    corpus = load_corpus(folder)
    tuned = tmp_path / "tuned.safetensors"  # as the app's fine-tune records its corpus
    shutil.copy(tiny_checkpoints["lstm"], tuned)
    meta = json.loads(Path(tiny_checkpoints["lstm"]).with_suffix(".json").read_text(encoding="utf-8"))
    meta["corpus"].update(name=corpus.name, fingerprint=f"{corpus.fingerprint}:holdout-0.1")
    tuned.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")

    assert main(["evaluate", str(tuned), "--compare", str(tiny_checkpoints["transformer"]),
                 "--corpus", str(folder), "--no-music", "--no-written", "--ngram-max-order", "3"]) == 0
    text = capsys.readouterr().out
    held = hold_out(corpus, 0.1).split("val")
    assert f"comparison on the same {len(held)} held-out tunes" in text
    assert "note:" not in text[text.index("comparison on the same"):]
