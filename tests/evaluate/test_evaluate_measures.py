"""The new evaluation measures end to end: tunes read as written, the whole report on a real folder
corpus (fresh, clean, written, memory, form, copies), zero-shot scoring, and bad options."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from musicgen.cli import main
from musicgen.corpus import load_corpus
from musicgen.evaluate import FormEvalConfig, evaluate_checkpoint
from musicgen.evaluate.sampled import phrase_aligned_bars
from musicgen.evaluate.written import source_paths, written_melodies
from musicgen.melody import Melody, Meter
from tests.support import ABC_NOTES, MOTIFS, write_midi

BAR_FIGURES = [m + list(reversed(m)) for m in MOTIFS]  # 4/4 bars of eighths


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))


def repeat_folder(root: Path, tunes: int = 30, seed: int = 3) -> Path:
    """ABC tunes with a repeated 4-bar A part and an unrepeated 4-bar B part, and one MIDI file."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    books = []
    for i in range(tunes):
        bars = ["".join(ABC_NOTES[p] for p in rng.choice(BAR_FIGURES)) for _ in range(8)]
        body = f"|:{'|'.join(bars[:4])}:|{'|'.join(bars[4:7])}|C8|]"
        books.append(f"X:{i + 1}\nT:Reel {i + 1}\nM:4/4\nL:1/8\nK:C\n{body}\n")
    (root / "reels.abc").write_text("\n".join(books), encoding="utf-8")
    write_midi(root / "played.mid", [[60, 62, 64, 65, 67, 65, 64, 62] * 3])
    return root


def test_tunes_read_as_written_keep_each_written_note_once_and_are_cached(tmp_path: Path) -> None:
    folder = repeat_folder(tmp_path / "reels", tunes=6)
    corpus = load_corpus(folder)
    tunes = list(corpus.tunes)
    written = written_melodies(tunes, source_paths(folder), fingerprint=corpus.fingerprint, workers=1)
    for tune, melody in zip(tunes, written):
        assert melody is not None
        if tune.source.startswith("reels.abc"):
            assert tune.melody.note_count == 4 * 8 * 2 + 3 * 8 + 1  # as played: the A part twice
            assert melody.note_count == 4 * 8 + 3 * 8 + 1  # as written
            assert melody.notes[:32] == tune.melody.notes[:32]
        else:
            assert melody == tune.melody  # MIDI has no written repeats
    (folder / "reels.abc").unlink()  # the second call reads the cache, not the sources
    again = written_melodies(tunes, source_paths(folder), fingerprint=corpus.fingerprint, workers=1)
    assert again == written


def test_phrase_aligned_bars_end_on_the_next_phrase_boundary() -> None:
    four_bars = Melody.from_pitches([60] * 16, 12, meter=Meter(4, 4))
    assert phrase_aligned_bars(four_bars, 8, 8) == 12  # 4 + 8 -> bar 16
    assert phrase_aligned_bars(four_bars, 4, 8) == 4
    assert phrase_aligned_bars(four_bars, 8, 4) == 8
    pickup = Melody.from_pitches([67] + [60] * 12, 12, meter=Meter(4, 4), pickup_ticks=12)
    assert phrase_aligned_bars(pickup, 8, 8) == 13  # three full bars after the pickup


def check_shares(figures: dict) -> None:
    for key, value in figures.items():
        if key not in ("tunes", "mean_bars", "melodies") and value is not None:
            assert 0 <= value <= 1, key


def test_the_whole_report_on_a_folder_with_repeats(tiny_checkpoints, tmp_path: Path) -> None:
    folder = repeat_folder(tmp_path / "reels")
    corpus = load_corpus(folder)
    form = FormEvalConfig(whole_tunes=3, aabb_tunes=2, continuations=2, continuation_bars=2,
                          phrase_bars=4, max_tune_tokens=120)
    report = evaluate_checkpoint(tiny_checkpoints["lstm"], corpus, "all", samples=2, form=form,
                                 sources=source_paths(folder))
    json.dumps(report, allow_nan=False)
    assert report["tunes"] == len(corpus.tunes)
    fresh = report["fresh"]
    assert fresh["fresh_notes"] + fresh["restated_notes"] == report["notes"]
    assert 0.3 < report["restated_share"] < 0.5  # each reel restates its A part: 32 of 89 notes
    for prefix in ("", "ngram_", "ngram_memory_"):
        assert report[f"{prefix}bits_per_note"] > 0 and fresh[f"{prefix}fresh_bits_per_note"] > 0
    # memory knows the repeat (the plain n-gram here has seen most of these tunes in training)
    assert fresh["ngram_memory_restated_bits_per_note"] < fresh["ngram_restated_bits_per_note"]
    written = report["written"]
    assert written["tunes"] == report["tunes"] and written["unreadable"] == 0
    assert written["notes"] < written["played_notes"] == report["notes"]
    clean = report["clean"]
    assert clean["tunes"] + clean["tunes_with_family_in_training"] == report["tunes"]
    assert report["ngram_memory"]["escape"] > 0
    music, result = report["music"], report["form"]
    assert set(music["copies"]) == {"samples", "real"}
    assert result["whole_tunes"]["tunes"] == 3 and result["real"]["tunes"] == report["tunes"]
    aabb = result["aabb_tunes"]  # the AABB option: four 4-bar parts, each closing on a cadence
    assert aabb["tunes"] == 2 and aabb["mean_bars"] == 16 and aabb["ends_on_tonic"] == 1.0
    assert aabb["parts_end_on_tonic_or_dominant"] == 1.0
    continuations = result["continuations"]
    assert continuations["seeds"] == 2
    for key in ("cadence_off", "cadence_on"):
        assert continuations[key]["tunes"] == 2 and continuations[key]["ends_at_phrase_boundary"] == 1.0
        check_shares(continuations[key])
    for figures in (result["real"], result["whole_tunes"], aabb, *result["copies"].values()):
        check_shares(figures)


def test_zero_shot_scores_every_tune_against_another_corpus(tiny_checkpoints, tmp_path: Path) -> None:
    folder = repeat_folder(tmp_path / "reels", tunes=12)
    other = repeat_folder(tmp_path / "other", tunes=30, seed=9)
    corpus, reference = load_corpus(folder), load_corpus(other)
    report = evaluate_checkpoint(tiny_checkpoints["transformer"], corpus, "all", music=False,
                                 reference=reference)
    assert report["tunes"] == len(corpus.tunes)
    assert report["reference_corpus"] == reference.name != report["corpus"]
    assert "form" not in report and "written" not in report


@pytest.mark.parametrize("options,sentence", [
    (["--zero-shot"], "--zero-shot scores a folder against the folk corpus; give --corpus DIR too"),
    (["--whole-tunes", "-1"], "--whole-tunes must be 0 or more, got -1"),
])
def test_bad_options_are_one_sentence_and_exit_2(options, sentence, tiny_checkpoints, capsys) -> None:
    assert main(["evaluate", str(tiny_checkpoints["lstm"]), *options]) == 2
    assert capsys.readouterr().err == f"musicgen: error: {sentence}\n"
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(tiny_checkpoints["lstm"]), "--split", "train"])
    assert exc.value.code == 2 and "invalid choice: 'train'" in capsys.readouterr().err
