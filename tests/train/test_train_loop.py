"""Training end to end on a tiny corpus: loss falls, files appear, checkpoints load, settings checked."""

from __future__ import annotations

import json
import math

import pytest

from musicgen.checkpoint import load_checkpoint
from musicgen.corpus import Corpus
from musicgen.errors import CorpusError, TrainingError
from musicgen.melody import Meter
from musicgen.tokens import VOCAB
from musicgen.train import TrainConfig, TrainProgress, train
from tests.support import synthetic_melodies, tiny_config

KINDS = ["lstm", "transformer"]


@pytest.mark.parametrize("kind", KINDS)
def test_loss_falls_and_files_are_written(kind, corpus, tmp_path):
    events: list[TrainProgress] = []
    result = train(tiny_config(kind, max_epochs=4), corpus, out_path=tmp_path / "m.safetensors",
                   callbacks=[events.append])
    steps = [e for e in events if e.event == "step"]
    epochs = [e for e in events if e.event == "epoch"]
    assert len(epochs) == 4 and events[-1].event == "done"
    assert all(math.isfinite(e.loss) for e in steps)
    vals = [e.val_bits_per_note for e in epochs]
    assert vals[-1] < vals[0] - 0.5, vals
    assert sum(e.loss for e in steps[-3:]) < sum(e.loss for e in steps[:3])
    assert result.steps == len(steps) == steps[-1].step
    assert result.best_val_bits_per_note == min(vals)
    assert 0.0 <= result.padding_fraction < 0.5
    # The user's folder holds the model they named; everything else is in one run folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.run", "m.safetensors"]
    for name in ("last.safetensors", "last.json", "state.safetensors", "state.json",
                 "metrics.jsonl", "loss.png"):
        assert (tmp_path / "m.run" / name).stat().st_size > 0, name
    assert (tmp_path / "m.run" / "loss.png").read_bytes()[:4] == b"\x89PNG"
    rows = [json.loads(line) for line in (tmp_path / "m.run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["event"] == "step"] == list(range(1, result.steps + 1))


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_loads_with_its_metadata(kind, corpus, tmp_path):
    result = train(tiny_config(kind, max_epochs=2), corpus, out_path=tmp_path / "m")
    model, meta = load_checkpoint(result.checkpoint, expected_tokens=VOCAB.tokens)
    assert model.kind == kind
    assert meta["vocabulary"]["tokens"] == list(VOCAB.tokens)
    assert meta["model"]["kind"] == kind
    assert meta["training"]["preset"] == "tiny"
    assert meta["corpus"]["fingerprint"] == corpus.fingerprint
    assert sum(meta["corpus"]["tunes"].values()) == len(corpus.tunes)
    assert meta["metrics"]["val_bits_per_note"] == pytest.approx(result.best_val_bits_per_note)
    assert meta["metrics"]["steps"] >= 1 and meta["torch_version"] and meta["hardware"]
    last, last_meta = load_checkpoint(result.last_checkpoint)
    assert last_meta["metrics"]["steps"] == result.steps


def test_bits_per_note_matches_a_direct_computation(corpus, tmp_path):
    """The validation figure is the sum of -log2 p of every token after BOS over the notes."""
    import torch

    result = train(tiny_config("lstm", max_epochs=1, max_seq_len=None), corpus,
                   out_path=tmp_path / "m")
    model, _ = load_checkpoint(result.checkpoint)
    model.eval()
    bits = notes = 0.0
    with torch.no_grad():
        for tune in corpus.split("val"):
            ids = torch.tensor([VOCAB.encode(tune.melody)])
            logits, _ = model(ids[:, :-1])
            logp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:, None])
            bits -= float(logp.sum()) / math.log(2)
            notes += VOCAB.note_count(ids[0].tolist())
    assert result.best_val_bits_per_note == pytest.approx(bits / notes, rel=1e-4)


def test_seeded_runs_are_identical_on_cpu(corpus, tmp_path):
    a = train(tiny_config("transformer"), corpus, out_path=tmp_path / "a")
    b = train(tiny_config("transformer"), corpus, out_path=tmp_path / "b")
    assert a.best_val_bits_per_note == b.best_val_bits_per_note
    c = train(tiny_config("transformer", seed=4), corpus, out_path=tmp_path / "c")
    assert c.best_val_bits_per_note != a.best_val_bits_per_note


def test_early_stopping_and_batch_tokens(corpus, tmp_path):
    result = train(tiny_config("lstm", max_epochs=30, patience=1, lr=0.3, batch_tokens=200),
                   corpus, out_path=tmp_path / "m")
    assert result.stop_reason == "early-stopping"
    assert result.epochs < 30


def test_minutes_budget_stops_and_validates(corpus, tmp_path):
    result = train(tiny_config("lstm", max_epochs=10_000, minutes=0.05), corpus,
                   out_path=tmp_path / "m")
    assert result.stop_reason == "minutes"
    assert math.isfinite(result.best_val_bits_per_note)
    assert 2.0 < result.wall_time_s < 15.0


def test_corpus_too_small_is_a_clear_error():
    with pytest.raises(CorpusError, match="at least 3"):
        Corpus.from_melodies(synthetic_melodies(2), name="two")


def test_corpus_without_encodable_training_tunes(tmp_path):
    odd = [m.replace(meter=Meter(11, 16), pickup_ticks=0) for m in synthetic_melodies(12)]
    melodies = [m if i < 2 else odd[i] for i, m in enumerate(synthetic_melodies(12))]
    corpus = Corpus.from_melodies(melodies, name="odd")
    with pytest.raises(CorpusError, match="no (train|val) tunes the vocabulary can encode"):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m")


def test_bad_settings_are_training_errors():
    with pytest.raises(TrainingError, match="unknown model kind"):
        TrainConfig(model="gru")
    with pytest.raises(TrainingError, match="learning rate"):
        TrainConfig(lr=-1.0)

