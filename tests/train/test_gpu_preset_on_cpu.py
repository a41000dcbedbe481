"""Training on a CPU fitted to 1.5 GB: token-capped batches (every preset), the gpu preset's
Transformer attention in the fused kernel; said in one sentence, recorded in the checkpoint;
explicit choices kept."""

from __future__ import annotations

import json

import pytest
import torch

from musicgen.models import build_model, model_config
from musicgen.models.config import config_from_dict, config_to_dict
from musicgen.tokens import VOCAB
from musicgen.train.config import CPU_BATCH_TOKENS, CPU_BATCH_TOKENS_GPU_PRESET, TrainConfig, fit_to_cpu
from musicgen.train.data import TuneSequences, plan_validation
from tests.support import write_abc_corpus
from tests.train.test_cli_train_options import _train


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_gpu_preset_on_a_cpu_is_fitted_and_said(kind):
    fitted, said = fit_to_cpu(TrainConfig(model=kind, preset="gpu"), on_cpu=True)
    assert fitted.batch_tokens == CPU_BATCH_TOKENS_GPU_PRESET[kind]
    assert f"batches of at most {CPU_BATCH_TOKENS_GPU_PRESET[kind]:,} tokens" in said
    if kind == "transformer":
        assert fitted.overrides == {"attention_dropout": 0.0}
        assert "no dropout on the attention weights" in said
    else:
        assert fitted.overrides == {}
    assert said.startswith("The gpu preset is sized for a GPU; on this CPU it trains with ")
    assert said.endswith("(--batch-tokens and --set attention_dropout=... choose otherwise).")


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_every_preset_on_a_cpu_gets_a_token_cap_and_keeps_its_dropout(kind):
    for preset in ("tiny", "small", "cpu"):
        fitted, said = fit_to_cpu(TrainConfig(model=kind, preset=preset), on_cpu=True)
        assert fitted.batch_tokens == CPU_BATCH_TOKENS[kind] and fitted.overrides == {}
        assert said == (f"On this CPU training runs with batches of at most "
                        f"{CPU_BATCH_TOKENS[kind]:,} tokens, which keeps it within 1.5 GB of "
                        "memory (--batch-tokens chooses otherwise).")


def test_a_gpu_and_explicit_choices_are_kept():
    config = TrainConfig(model="transformer", preset="gpu")
    assert fit_to_cpu(config, False) == (config, "")
    mine = TrainConfig(model="transformer", preset="gpu", batch_tokens=3000,
                       overrides={"attention_dropout": 0.2})
    assert fit_to_cpu(mine, True) == (mine, "")
    half = fit_to_cpu(TrainConfig(model="transformer", preset="gpu", batch_tokens=3000), True)
    assert half[0].batch_tokens == 3000 and "batches" not in half[1]
    assert fit_to_cpu(TrainConfig(model="lstm", batch_tokens=500), True)[1] == ""


def test_attention_dropout_is_its_own_field_and_old_configs_read_as_before():
    config = model_config("transformer", VOCAB.size, "tiny", dropout=0.1, attention_dropout=0.0)
    model = build_model("transformer", config, VOCAB.token_ticks())
    attn = model.blocks[0].attn
    assert attn.dropout == 0.0 and attn.resid_drop.p == pytest.approx(0.1)
    assert config_from_dict("transformer", config_to_dict(config)) == config
    old = config_to_dict(model_config("transformer", VOCAB.size, "tiny", dropout=0.1))
    del old["attention_dropout"]  # a checkpoint written before the field
    rebuilt = config_from_dict("transformer", old)
    assert rebuilt.attention_dropout is None
    assert build_model("transformer", rebuilt, VOCAB.token_ticks()).blocks[0].attn.dropout == 0.1
    with pytest.raises(Exception, match="dropout"):
        model_config("transformer", VOCAB.size, "tiny", attention_dropout=1.5)


def test_attention_without_dropout_trains_in_the_fused_kernel_and_learns_the_same_way():
    """Same weights, same batch: without attention dropout the loss and gradients are those of
    the math path with dropout 0 (the fused kernel is exact), so only the memory differs."""
    torch.manual_seed(0)
    config = model_config("transformer", VOCAB.size, "tiny", dropout=0.0, attention_dropout=0.0)
    model = build_model("transformer", config, VOCAB.token_ticks()).train()
    ids = torch.randint(1, VOCAB.size, (2, 40))
    logits, _ = model(ids, None)
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        reference, _ = model(ids, None)
    assert torch.allclose(logits, reference, atol=1e-5)


def test_validation_batches_keep_the_token_cap():
    lengths = [30, 80, 120, 40, 200, 90, 60, 150, 10, 70]
    data = TuneSequences(tuple(((tuple(range(n)),),) for n in lengths), tuple(lengths), 0)
    plan = plan_validation(data, batch_size=32, batch_tokens=200)
    assert sorted(i for batch in plan.batches for i in batch) == list(range(len(lengths)))
    assert len(plan.batches) > 1
    for batch in plan.batches:
        longest = max(len(plan.sequences[i]) - 1 for i in batch)
        assert len(batch) == 1 or longest * len(batch) <= 200
    assert len(plan_validation(data, batch_size=32).batches) == 1  # no cap: one batch


@pytest.mark.slow
def test_cli_trains_the_gpu_preset_on_a_cpu_within_its_fit(tmp_path):
    corpus = write_abc_corpus(tmp_path / "mine", count=6)
    out = tmp_path / "run" / "big"
    done = _train(tmp_path, "--model", "transformer", "--corpus", str(corpus), "--preset", "gpu",
                  "--epochs", "1", "--batch-size", "4", "--device", "cpu", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "note: The gpu preset is sized for a GPU; on this CPU it trains with batches of at " \
           "most 1,024 tokens and no dropout on the attention weights" in done.stderr
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["model"]["config"]["attention_dropout"] == 0.0
    assert meta["model"]["config"]["d_model"] == 512
    assert meta["training"]["batch_tokens"] == 1024
