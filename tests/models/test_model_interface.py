"""Both next-token models through the one interface: shapes, loss, learning, incremental = full."""

from __future__ import annotations

import math

import pytest
import torch

from musicgen.models import (
    PAD_ID,
    PRESETS,
    LSTMConfig,
    ModelConfigError,
    TransformerConfig,
    build_model,
    config_from_dict,
    config_to_dict,
    model_config,
)

KINDS = ["lstm", "transformer"]
VOCAB = 23


def tiny(kind: str, **overrides):
    torch.manual_seed(0)
    return build_model(kind, model_config(kind, VOCAB, "tiny", **overrides))


def random_ids(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, VOCAB, (batch, length), generator=generator)


@pytest.mark.parametrize("kind", KINDS)
def test_forward_shapes_and_finite_loss(kind: str) -> None:
    model = tiny(kind)
    ids = random_ids(3, 17)
    logits, loss = model(ids)
    assert logits.shape == (3, 17, VOCAB)
    assert loss is None
    logits, loss = model(ids, ids.roll(-1, dims=1))
    assert loss.dim() == 0 and torch.isfinite(loss)
    # An untrained model is near uniform: loss close to ln(V).
    assert abs(loss.item() - math.log(VOCAB)) < 0.5


@pytest.mark.parametrize("kind", KINDS)
def test_loss_ignores_padding(kind: str) -> None:
    model = tiny(kind).eval()
    ids = random_ids(2, 10)
    targets = random_ids(2, 10, seed=2)
    padded = targets.clone()
    padded[:, 6:] = PAD_ID
    _, loss_padded = model(ids, padded)
    logits, _ = model(ids)
    manual = torch.nn.functional.cross_entropy(logits[:, :6].reshape(-1, VOCAB),
                                               targets[:, :6].reshape(-1))
    assert loss_padded.item() == pytest.approx(manual.item(), rel=1e-5)
    _, loss_all_pad = model(ids, torch.full_like(ids, PAD_ID))
    assert loss_all_pad.item() == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_model_overfits_one_batch(kind: str) -> None:
    model = tiny(kind, dropout=0.0)
    assert model.num_parameters() < 10_000
    # A short repeating pattern: perfectly predictable after the first few tokens.
    pattern = torch.tensor([3, 7, 5, 9, 11, 4])
    ids = pattern.repeat(4, 5)[:, :24]  # (4, 24)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
    first = None
    for _ in range(150):
        _, loss = model(inputs, targets)
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert first > 2.5
    assert loss.item() < 0.2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("preset", ["tiny", "cpu"])
def test_step_matches_forward(kind: str, preset: str) -> None:
    torch.manual_seed(0)
    model = build_model(kind, model_config(kind, VOCAB, preset)).eval()
    ids = random_ids(3, 30)
    with torch.no_grad():
        full, _ = model(ids)
        state = model.init_state(3)
        prefill, state = model.step(ids[:, :12], state)  # the seed, in one chunk
        pieces = [prefill]
        for t in range(12, 30):  # then token by token
            logits, state = model.step(ids[:, t : t + 1], state)
            pieces.append(logits)
    stepped = torch.cat(pieces, dim=1)
    assert stepped.shape == full.shape
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_step_from_empty_state_token_by_token(kind: str) -> None:
    model = tiny(kind).eval()
    ids = random_ids(2, 9)
    with torch.no_grad():
        full, _ = model(ids)
        state = model.init_state(2)
        pieces = []
        for t in range(9):
            logits, state = model.step(ids[:, t : t + 1], state)
            pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_reorder_state_duplicates_rows(kind: str) -> None:
    """K variations from one prefill: duplicate the row, then the streams continue independently."""
    model = tiny(kind).eval()
    seed = random_ids(1, 8)
    continuations = random_ids(3, 4, seed=5)
    with torch.no_grad():
        _, state = model.step(seed, model.init_state(1))
        state = model.reorder_state(state, torch.tensor([0, 0, 0]))
        logits, state = model.step(continuations[:, :1], state)
        logits, _ = model.step(continuations[:, 1:], state)
        for row in range(3):
            full, _ = model(torch.cat([seed[0], continuations[row]]).unsqueeze(0))
            torch.testing.assert_close(logits[row], full[0, -3:], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_reorder_state_picks_and_swaps_rows(kind: str) -> None:
    model = tiny(kind).eval()
    ids = random_ids(3, 6)
    with torch.no_grad():
        _, state = model.step(ids, model.init_state(3))
        state = model.reorder_state(state, torch.tensor([2, 0]))
        nxt = torch.tensor([[4], [5]])
        logits, _ = model.step(nxt, state)
        expected_0, _ = model(torch.cat([ids[2], nxt[0]]).unsqueeze(0))
        expected_1, _ = model(torch.cat([ids[0], nxt[1]]).unsqueeze(0))
    torch.testing.assert_close(logits[0, -1], expected_0[0, -1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits[1, -1], expected_1[0, -1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_max_context_and_parameter_count(kind: str) -> None:
    model = tiny(kind)
    if kind == "lstm":
        assert model.max_context is None
    else:
        assert model.max_context == model.config.max_len
    unique = {id(p): p.numel() for p in model.parameters()}
    assert model.num_parameters() == sum(unique.values())


def test_lstm_weight_tying_shares_the_matrix() -> None:
    model = build_model("lstm", LSTMConfig(vocab_size=VOCAB, embed_dim=8, hidden_dim=8,
                                           tie_weights=True))
    assert model.head.weight is model.embed.weight
    with pytest.raises(ModelConfigError, match="tie_weights"):
        LSTMConfig(vocab_size=VOCAB, embed_dim=8, hidden_dim=16, tie_weights=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("preset", ["tiny", "small", "cpu", "gpu"])
def test_presets_build_and_round_trip(kind: str, preset: str) -> None:
    config = model_config(kind, 150, preset)
    assert config.vocab_size == 150
    assert config_from_dict(kind, config_to_dict(config)) == config
    assert set(PRESETS[kind][preset]) <= set(config_to_dict(config))


def test_model_config_overrides_and_errors() -> None:
    assert model_config("transformer", 99, "cpu", pos_encoding="sinusoidal").pos_encoding == (
        "sinusoidal")
    with pytest.raises(ModelConfigError, match="unknown model kind"):
        model_config("gru", 10)
    with pytest.raises(ModelConfigError, match="unknown lstm preset"):
        model_config("lstm", 10, "huge")
    with pytest.raises(ModelConfigError, match="unknown"):
        model_config("lstm", 10, "cpu", n_heads=4)
    with pytest.raises(ModelConfigError, match="multiple of n_heads"):
        TransformerConfig(vocab_size=10, d_model=30, n_heads=4)
    with pytest.raises(ModelConfigError, match="wrong type"):
        config_from_dict("lstm", {"vocab_size": 10, "hidden_dim": "512"})
    with pytest.raises(ModelConfigError, match="needs a lstm config"):
        build_model("lstm", TransformerConfig(vocab_size=10))


def test_models_package_imports_without_torch() -> None:
    """The configs load without torch (the app's model card, the checkpoint reader)."""
    import subprocess
    import sys

    code = ("import sys, musicgen.models, musicgen.checkpoint; "
            "musicgen.models.model_config('lstm', 10); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
