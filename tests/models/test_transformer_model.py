"""Transformer specifics: attention maps, sliding past max_len, cache forks, position encodings."""

from __future__ import annotations

import math

import pytest
import torch

from musicgen.models import build_model, model_config
from musicgen.models.transformer import sinusoidal_table

VOCAB = 19


def transformer(**overrides):
    torch.manual_seed(0)
    config = model_config("transformer", VOCAB, "tiny", **overrides)
    return build_model("transformer", config).eval()


def test_attention_weights_are_causal_distributions() -> None:
    model = transformer(n_layers=2)
    ids = torch.randint(1, VOCAB, (1, 12))
    weights = model.attention_weights(ids)
    assert weights.shape == (2, model.config.n_heads, 12, 12)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, model.config.n_heads, 12))
    assert torch.all(weights.triu(diagonal=1) == 0)
    assert torch.all(weights >= 0)
    assert torch.all(weights[:, :, 0, 0] == 1)  # the first token can only see itself


def test_attention_weights_path_matches_forward() -> None:
    """The explicit softmax(QK^T/sqrt(d)) path and SDPA compute the same attention."""
    model = transformer(n_layers=2)
    ids = torch.randint(1, VOCAB, (1, 10))
    x = model._embed(ids, 0)
    for block in model.blocks:
        explicit, _ = block.attn.explicit(block.ln1(x))
        torch.testing.assert_close(explicit, block.attn(block.ln1(x)), atol=1e-6, rtol=1e-5)
        x = block(x)


def test_attention_weights_refuses_batches() -> None:
    with pytest.raises(ValueError, match="one sequence"):
        transformer().attention_weights(torch.ones(2, 4, dtype=torch.long))


def test_forward_refuses_more_than_max_len() -> None:
    model = transformer(max_len=8)
    with pytest.raises(ValueError, match="exceed the context"):
        model(torch.ones(1, 9, dtype=torch.long))


@pytest.mark.parametrize("prefill", [3, 20])
def test_stepping_past_max_len_slides_and_stays_finite(prefill: int) -> None:
    """Generation can go on forever; after a slide the logits equal forward over the kept window."""
    max_len = 8
    model = transformer(max_len=max_len)
    ids = torch.randint(1, VOCAB, (2, 40), generator=torch.Generator().manual_seed(3))
    history = ids[:, :prefill]
    with torch.no_grad():
        logits, state = model.step(history, model.init_state(2))  # 20 > max_len: taken in pieces
        assert logits.shape == (2, prefill, VOCAB)
        for t in range(prefill, 40):
            logits, state = model.step(ids[:, t : t + 1], state)
            assert torch.isfinite(logits).all()
            assert state.length <= max_len
            # The cache holds the most recent tokens, and the model sees exactly them.
            window = ids[:, t + 1 - state.length : t + 1]
            torch.testing.assert_close(state.tokens[:, : state.length], window)
            full, _ = model(window)
            torch.testing.assert_close(logits[:, 0], full[:, -1], atol=1e-5, rtol=1e-5)


def test_stepping_twice_from_one_state_forks_safely() -> None:
    """The cache is written in place, yet an old state stays valid when stepped from again."""
    model = transformer()
    seed = torch.randint(1, VOCAB, (1, 6))
    with torch.no_grad():
        _, state = model.step(seed, model.init_state(1))
        first, first_state = model.step(torch.tensor([[3]]), state)
        second, _ = model.step(torch.tensor([[4]]), state)  # same parent state, other token
        after_first, _ = model.step(torch.tensor([[5]]), first_state)
        expected_second, _ = model(torch.cat([seed, torch.tensor([[4]])], dim=1))
        expected_after_first, _ = model(torch.cat([seed, torch.tensor([[3, 5]])], dim=1))
    torch.testing.assert_close(second[:, -1], expected_second[:, -1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(after_first[:, -1], expected_after_first[:, -1], atol=1e-5,
                               rtol=1e-5)


@pytest.mark.parametrize("pos_encoding", ["learned", "sinusoidal"])
def test_both_positional_encodings_step_like_forward(pos_encoding: str) -> None:
    model = transformer(pos_encoding=pos_encoding)
    ids = torch.randint(1, VOCAB, (2, 15))
    with torch.no_grad():
        full, _ = model(ids)
        first, state = model.step(ids[:, :5], model.init_state(2))
        rest, _ = model.step(ids[:, 5:], state)  # a multi-token chunk on top of a cache
    torch.testing.assert_close(torch.cat([first, rest], dim=1), full, atol=1e-5, rtol=1e-5)
    names = {name for name, _ in model.state_dict().items()}
    assert ("pos_embed.weight" in names) == (pos_encoding == "learned")


def test_sinusoidal_table_values() -> None:
    table = sinusoidal_table(50, 8)
    assert table.shape == (50, 8)
    assert table[0, 0] == 0 and table[0, 1] == 1
    assert table[7, 2].item() == pytest.approx(math.sin(7 / 10000 ** (2 / 8)), abs=1e-6)
    assert table[7, 3].item() == pytest.approx(math.cos(7 / 10000 ** (2 / 8)), abs=1e-6)


def test_output_projection_is_tied_to_embedding() -> None:
    model = transformer()
    assert model.head.weight is model.tok_embed.weight
