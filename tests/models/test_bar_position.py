"""The Transformer's metrical-position embedding (bar_position): counted right, cached right, saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from musicgen.checkpoint import load_checkpoint, save_checkpoint
from musicgen.io import read_melody
from musicgen.melody import Key, Melody, Meter
from musicgen.models import build_model, model_config
from musicgen.models.transformer import MAX_BAR_TICKS
from musicgen.tokens import BAR, BOS, DUR, EOS, METER, MODE, VOCAB

DATA = Path(__file__).resolve().parents[2] / "data"


def bar_model(**overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    config = model_config("transformer", VOCAB.size, "tiny", bar_position=True, **overrides)
    return build_model("transformer", config, token_ticks=VOCAB.token_ticks()).eval()


def counted_by_hand(ids: list[int]) -> list[int]:
    """The expected bucket after each token: 0 until the first restart, then 1 + ticks since."""
    out, ticks, known = [], 0, False
    for i in ids:
        kind = VOCAB.kinds[i]
        if kind in (BOS, EOS, METER, MODE, BAR):
            ticks, known = 0, True
        elif kind == DUR:
            ticks += VOCAB.duration_of(i)
        out.append(min(ticks, MAX_BAR_TICKS) + 1 if known else 0)
    return out


def jig_ids() -> list[int]:
    return VOCAB.encode(read_melody(DATA / "kesh-jig.abc"))


def test_token_ticks_table_follows_the_vocabulary() -> None:
    table = VOCAB.token_ticks()
    assert len(table) == VOCAB.size
    assert table[VOCAB.id("D:9")] == 9 and table[VOCAB.id("D:48")] == 48
    assert table[VOCAB.id("|")] == -1 and table[VOCAB.bos_id] == -1 and table[VOCAB.id("M:6/8")] == -1
    assert table[VOCAB.id("P:60")] == 0 and table[VOCAB.id("-")] == 0 and table[VOCAB.id("z")] == 0


def test_buckets_count_ticks_since_the_bar_line_in_a_real_tune() -> None:
    ids = jig_ids()
    model = bar_model()
    buckets = model._bar_buckets(torch.tensor([ids]), torch.zeros(1, dtype=torch.long))
    assert buckets[0].tolist() == counted_by_hand(ids)
    # every bar line of the 6/8 jig closes 36 ticks: the bucket just before it is 1 + 36
    before_bars = [buckets[0, k - 1].item() for k, i in enumerate(ids) if i == VOCAB.id("|")]
    assert before_bars[1:] and set(before_bars[1:]) == {37}


@pytest.mark.parametrize("start", [0, 1, 37, MAX_BAR_TICKS + 1])
def test_one_token_steps_agree_with_the_whole_sequence_count(start: int) -> None:
    """The transition table (generation) and the cumulative sums (training) give the same buckets."""
    ids = jig_ids()[3:] + [VOCAB.id("D:48")] * 6  # runs past MAX_BAR_TICKS, then a bar line
    ids.append(VOCAB.id("|"))
    model = bar_model()
    carry = torch.tensor([start])
    whole = model._bar_buckets(torch.tensor([ids]), carry)[0].tolist()
    stepped, bucket = [], carry
    for i in ids:
        bucket = model._bar_buckets(torch.tensor([[i]]), bucket)[:, 0]
        stepped.append(bucket.item())
    assert stepped == whole
    assert MAX_BAR_TICKS + 1 in whole and whole[-1] == 1


def test_a_window_cut_mid_tune_is_unknown_until_its_first_bar_line() -> None:
    ids = jig_ids()
    cut = next(k for k, i in enumerate(ids) if i == VOCAB.id("|")) + 2  # just after a bar line
    window = ids[cut:]
    model = bar_model()
    buckets = model._bar_buckets(torch.tensor([window]), torch.zeros(1, dtype=torch.long))
    first_bar = window.index(VOCAB.id("|"))
    assert buckets[0, :first_bar].tolist() == [0] * first_bar
    assert buckets[0, first_bar].item() == 1


def test_stepping_with_the_cache_equals_forward_and_survives_reorder() -> None:
    ids = torch.tensor([jig_ids()[:60], jig_ids()[10:70]])
    model = bar_model(max_len=128)
    with torch.no_grad():
        full, _ = model(ids)
        first, state = model.step(ids[:, :7], model.init_state(2))
        logits = [first]
        for t in range(7, ids.size(1)):
            step_logits, state = model.step(ids[:, t : t + 1], state)
            logits.append(step_logits)
        torch.testing.assert_close(torch.cat(logits, 1), full, atol=1e-5, rtol=1e-5)
        swapped = model.reorder_state(state, torch.tensor([1, 0]))
        assert swapped.bar_bucket.tolist() == state.bar_bucket.flip(0).tolist()


def test_after_a_slide_the_logits_equal_forward_over_the_kept_window() -> None:
    ids = torch.tensor([jig_ids()[:90]])
    max_len = 32
    model = bar_model(max_len=max_len)
    with torch.no_grad():
        _, state = model.step(ids[:, :5], model.init_state(1))
        for t in range(5, ids.size(1)):
            logits, state = model.step(ids[:, t : t + 1], state)
            window = ids[:, t + 1 - state.length : t + 1]
            full, _ = model(window)
            torch.testing.assert_close(logits[:, 0], full[:, -1], atol=1e-5, rtol=1e-5)


def test_the_position_changes_the_prediction() -> None:
    """The embedding is wired in: the same tokens after a longer bar give other logits."""
    model = bar_model()
    with torch.no_grad():
        model.bar_embed.weight.normal_(0, 1.0)
        a, _ = model(torch.tensor([[VOCAB.id("|"), VOCAB.id("P:60"), VOCAB.id("D:6")]]))
        b, _ = model(torch.tensor([[VOCAB.id("|"), VOCAB.id("P:60"), VOCAB.id("D:12")]]))
        inert = bar_model()
        inert.set_token_ticks([0] * VOCAB.size)  # no table: every position reads "unknown"
        inert.bar_embed.weight.normal_(0, 1.0)
        c, _ = inert(torch.tensor([[VOCAB.id("|"), VOCAB.id("P:60"), VOCAB.id("D:6")]]))
    assert not torch.allclose(a[0, -1], b[0, -1])
    assert not torch.allclose(a[0, -1], c[0, -1])


def test_checkpoint_keeps_the_table_and_old_configs_still_load(tmp_path) -> None:
    model = bar_model()
    meta = {"vocabulary": {"version": VOCAB.version, "tokens": list(VOCAB.tokens)}}
    save_checkpoint(tmp_path / "bar", model, meta)
    loaded, document = load_checkpoint(tmp_path / "bar")
    assert document["model"]["config"]["bar_position"] is True
    assert loaded.token_ticks.tolist() == VOCAB.token_ticks()
    ids = torch.tensor([jig_ids()[:40]])
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids)[0], model(ids)[0])

    torch.manual_seed(0)
    plain = build_model("transformer", model_config("transformer", VOCAB.size, "tiny"))
    save_checkpoint(tmp_path / "old", plain, meta)
    doc = json.loads((tmp_path / "old.json").read_text())
    del doc["model"]["config"]["bar_position"]  # a checkpoint written before the field existed
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old, _ = load_checkpoint(tmp_path / "old")
    assert old.config.bar_position is False and not hasattr(old, "bar_embed")


def test_table_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="token_ticks needs"):
        bar_model().set_token_ticks([0, 1, 2])


def test_a_meter_of_every_length_fits_the_table() -> None:
    from musicgen.tokens import SUPPORTED_METERS

    assert max(Meter.parse(m).bar_ticks for m in SUPPORTED_METERS) == MAX_BAR_TICKS
    melody = Melody.from_pitches([60] * 8, 48, meter=Meter(4, 1), key=Key(0, "major"))
    ids = VOCAB.encode(melody)
    model = bar_model()
    buckets = model._bar_buckets(torch.tensor([ids]), torch.zeros(1, dtype=torch.long))
    assert buckets.max().item() == MAX_BAR_TICKS + 1 < model.bar_embed.num_embeddings


def test_a_model_built_and_stepped_under_inference_mode_works() -> None:
    """Inference tensors track no version counter: nothing on the step path may rely on one."""
    ids = torch.tensor([jig_ids()[:30]])
    with torch.inference_mode():
        model = bar_model()
        logits, state = model.step(ids[:, :5], model.init_state(1))
        for t in range(5, ids.size(1)):
            logits, state = model.step(ids[:, t : t + 1], state)
        full, _ = model(ids)
    torch.testing.assert_close(logits[:, 0], full[:, -1], atol=1e-5, rtol=1e-5)
