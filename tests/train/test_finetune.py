"""--init: fine-tuning starts from a trained model; a foreign vocabulary or model kind is refused."""

from __future__ import annotations

import json

import pytest

from musicgen.checkpoint import load_checkpoint
from musicgen.errors import CheckpointError, TrainingError
from musicgen.train import TrainProgress, train
from tests.support import tiny_config


def first_val(events: list[TrainProgress]) -> float:
    return next(e.val_bits_per_note for e in events if e.event == "epoch")


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_init_continues_from_the_trained_model(kind, corpus, tmp_path):
    base = train(tiny_config(kind, max_epochs=4), corpus, out_path=tmp_path / "base")
    fresh: list[TrainProgress] = []
    tuned: list[TrainProgress] = []
    train(tiny_config(kind, max_epochs=1, seed=9), corpus, out_path=tmp_path / "fresh",
          callbacks=[fresh.append])
    train(tiny_config(kind, max_epochs=1, seed=9, lr=1e-3), corpus, out_path=tmp_path / "tuned",
          init_checkpoint=base.checkpoint, callbacks=[tuned.append])
    assert first_val(tuned) < first_val(fresh)
    assert first_val(tuned) <= base.best_val_bits_per_note + 0.5
    _, meta = load_checkpoint(tmp_path / "tuned")
    assert meta["init_checkpoint"] == str(base.checkpoint)


def test_init_with_another_vocabulary_is_refused(corpus, tmp_path):
    base = train(tiny_config("lstm", max_epochs=1), corpus, out_path=tmp_path / "base")
    path = tmp_path / "base.json"
    doc = json.loads(path.read_text())
    tokens = doc["vocabulary"]["tokens"]
    tokens[5], tokens[6] = tokens[6], tokens[5]  # same size, different meaning: must not load
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="Cannot fine-tune from .*different vocabulary"):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m", init_checkpoint=base.checkpoint)


def test_init_with_another_model_kind_is_refused(corpus, tmp_path):
    base = train(tiny_config("lstm", max_epochs=1), corpus, out_path=tmp_path / "base")
    with pytest.raises(TrainingError, match="holds model kind 'lstm'"):
        train(tiny_config("transformer"), corpus, out_path=tmp_path / "m",
              init_checkpoint=base.checkpoint)


def test_init_from_a_missing_file_is_a_checkpoint_error(corpus, tmp_path):
    with pytest.raises(CheckpointError, match="Cannot fine-tune"):
        train(tiny_config("lstm"), corpus, out_path=tmp_path / "m",
              init_checkpoint=tmp_path / "nowhere.safetensors")
