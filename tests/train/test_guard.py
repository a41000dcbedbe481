"""Guarded fine-tuning: the hold-out, the tune-count floor, the copy guard, fine_tune end to end
(card, summary, stop and resume), and the budget clock that starts after setup."""

from __future__ import annotations

import json

import pytest

from musicgen.corpus import Corpus
from musicgen.corpus.tunes import content_key
from musicgen.errors import Cancelled, CorpusError, TrainingError
from musicgen.train import train
from musicgen.train.finetune import FineTunePlan, fine_tune, read_plan, unfinished_runs
from musicgen.train.guard import RISE_MARGIN, CopyGuard, check_tune_count, hold_out
from musicgen.train.run_folder import run_files
from tests.support import synthetic_melodies, tiny_config, write_abc_corpus


def test_hold_out_is_about_a_tenth_at_least_one_and_stable():
    melodies = synthetic_melodies(40)
    corpus = Corpus.from_melodies(melodies + melodies[:5], name="dup")  # 5 tunes twice
    held = hold_out(corpus)
    splits = [t.split for t in held.tunes]
    assert set(splits) == {"train", "val"}
    distinct_val = {content_key(t.melody) for t in held.tunes if t.split == "val"}
    assert len(distinct_val) == 4  # a tenth of 40 distinct tunes
    by_key: dict[str, set[str]] = {}
    for t in held.tunes:  # identical tunes are never on both sides
        by_key.setdefault(content_key(t.melody), set()).add(t.split)
    assert all(len(s) == 1 for s in by_key.values())
    assert [t.split for t in hold_out(corpus).tunes] == splits
    assert held.fingerprint != corpus.fingerprint
    small = hold_out(Corpus.from_melodies(melodies[:3], name="three"))
    assert sum(t.split == "val" for t in small.tunes) == 1


def test_too_few_tunes_name_the_number_needed():
    corpus = Corpus.from_melodies(synthetic_melodies(3), name="three")
    assert check_tune_count(corpus) == 3
    object.__setattr__(corpus, "tunes", corpus.tunes[:2])
    with pytest.raises(CorpusError, match="Only 2 different tunes.*at least 3"):
        check_tune_count(corpus, "my folder")


def test_the_guard_refuses_a_pass_that_copies_more_than_the_base(monkeypatch):
    guard = CopyGuard(synthetic_melodies(10))
    assert guard.seeds and guard.variations * len(guard.seeds) >= 32
    seen = []
    guard.listeners.append(seen.append)
    counts = iter([(1, 32), (2, 32), (1 + int(32 * RISE_MARGIN) + 1, 32)])
    monkeypatch.setattr(guard, "count_copies", lambda *_args: next(counts))
    guard.measure_base("base")
    assert guard.reference == pytest.approx(1 / 32)
    assert guard("epoch1", 1) is True  # one copy more: within sampling noise
    assert guard("epoch2", 2) is False and guard.rose
    assert [c.epoch for c in seen] == [0, 1, 2] and seen[-1].risen


def test_the_guard_counts_real_copies_of_training_tunes(tiny_checkpoints):
    tunes = synthetic_melodies(10)
    guard = CopyGuard(tunes, seeds=2, samples=4)
    copies, samples = guard.count_copies(tiny_checkpoints["lstm"])
    assert samples == 4 and 0 <= copies <= 4
    assert guard._copies(tunes[0])  # a training tune copies itself
    new = CopyGuard(tunes[:8])
    new.measure_real(tunes[8:])
    assert new.reference is not None and 0.0 <= new.reference <= 1.0


@pytest.fixture
def base(tiny_checkpoints):
    return str(tiny_checkpoints["lstm"])


def test_fine_tune_writes_the_model_its_card_and_figures(base, tmp_path):
    folder = write_abc_corpus(tmp_path / "tunes", 30)
    plan = FineTunePlan(name="mine", corpus=str(folder), base=base, minutes=None, epochs=2)
    result = fine_tune(plan, out_stem=tmp_path / "models" / "mine")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "mine.json", "mine.md", "mine.run", "mine.safetensors"]
    s = result.summary
    assert s["corpus"]["found"] == s["corpus"]["kept"] == 30 and s["held_out"]["tunes"] == 3
    before, after = s["held_out"]["bits_per_note_before"], s["held_out"]["bits_per_note_after"]
    assert after <= before  # the base stays the best until a pass beats it
    assert s["base"] == "lstm-tiny" and s["training"]["epochs"] == 2
    assert [c["epoch"] for c in s["copies"]["checks"]] == [0, 1, 2]
    document = json.loads((tmp_path / "models" / "mine.json").read_text())
    assert document["finetune"]["held_out"]["bits_per_note_after"] == after
    card = result.card.read_text()
    assert "lstm-tiny (before)" in card and "30 found, 30 kept" in card
    with pytest.raises(TrainingError, match="already exists"):
        fine_tune(plan, out_stem=tmp_path / "models" / "mine")


def test_a_stopped_fine_tune_keeps_a_model_and_resumes(base, tmp_path):
    folder = write_abc_corpus(tmp_path / "tunes", 30)
    plan = FineTunePlan(name="cut", corpus=str(folder), base=base, minutes=None, epochs=3)
    steps = []  # stop after the second training step
    with pytest.raises(Cancelled):
        fine_tune(plan, out_stem=tmp_path / "models" / "cut", should_stop=lambda: len(steps) > 1,
                  callbacks=[lambda p: steps.append(p) if p.event == "step" else None])
    files = run_files(tmp_path / "models" / "cut")
    assert files.best.exists() and files.card.exists()
    assert read_plan(files)["plan"] == plan
    assert [r["name"] for r in unfinished_runs(tmp_path / "models")] == ["cut"]
    result = fine_tune(plan, out_stem=files.stem, resume=True)
    assert result.stop_reason == "epochs" and result.summary["training"]["epochs"] == 3
    assert unfinished_runs(tmp_path / "models") == []


def test_a_budget_shorter_than_setup_still_trains_one_step(corpus, tmp_path):
    result = train(tiny_config("lstm", minutes=1e-4, max_epochs=50), corpus,
                   out_path=tmp_path / "m")
    assert result.steps >= 1 and result.stop_reason == "minutes"
