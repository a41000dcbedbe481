"""Checkpoints: save/load round trip for both models, and every kind of bad checkpoint refused."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
import torch

from musicgen.checkpoint import (
    checkpoint_paths,
    load_checkpoint,
    load_tensor_state,
    read_checkpoint_metadata,
    save_checkpoint,
    save_tensor_state,
)
from musicgen.errors import CheckpointError
from musicgen.models import build_model, model_config

KINDS = ["lstm", "transformer"]
TOKENS = ["<pad>", "<bos>", "<eos>"] + [f"n{i}" for i in range(14)]
VOCAB = len(TOKENS)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def metadata(**extra) -> dict:
    return {
        "vocabulary": {"version": 1, "tokens": list(TOKENS)},
        "training": {"preset": "tiny", "lr": 3e-3},
        "corpus": {"fingerprint": "abc123", "tunes": 12},
        "metrics": {"val_bits_per_note": 3.25},
        "wall_time_s": 1.5,
        "command": ["musicgen", "train", "--model", "lstm"],
        **extra,
    }


def trained(kind: str) -> torch.nn.Module:
    """A tiny model after a few real optimizer steps (weights away from their initial values)."""
    torch.manual_seed(0)
    model = build_model(kind, model_config(kind, VOCAB, "tiny"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    ids = torch.randint(3, VOCAB, (4, 12))
    for _ in range(3):
        _, loss = model(ids[:, :-1], ids[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@pytest.fixture(params=KINDS)
def saved(request, tmp_path: Path) -> tuple[torch.nn.Module, Path]:
    model = trained(request.param)
    stem = tmp_path / f"{request.param}-model"
    save_checkpoint(stem, model, metadata())
    return model, stem


@pytest.mark.parametrize("suffix", ["", ".safetensors", ".json"])
def test_round_trip_gives_identical_logits(saved, suffix: str) -> None:
    model, stem = saved
    loaded, document = load_checkpoint(f"{stem}{suffix}", expected_tokens=TOKENS,
                                       expected_vocab_version=1)
    ids = torch.randint(1, VOCAB, (2, 10))
    with torch.no_grad():
        assert torch.equal(model(ids)[0], loaded(ids)[0])
    assert loaded.kind == model.kind and loaded.config == model.config
    assert not loaded.training
    assert document["metrics"] == {"val_bits_per_note": 3.25}
    assert document["command"][:2] == ["musicgen", "train"]
    # The tied output matrix is stored once and re-tied on load.
    assert document["tensors"]["tied"]
    head = loaded.head.weight
    assert head is (loaded.embed.weight if model.kind == "lstm" else loaded.tok_embed.weight)


def test_files_and_metadata_written(saved) -> None:
    model, stem = saved
    tensors_path, json_path = checkpoint_paths(stem)
    assert tensors_path.exists() and json_path.exists()
    assert not list(stem.parent.glob("*.tmp"))  # no temporary files left behind
    umask = os.umask(0)
    os.umask(umask)
    for path in (tensors_path, json_path):  # readable like any file (mkstemp would give 0600)
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    document = read_checkpoint_metadata(json_path)
    assert document["format"] == "musicgen-checkpoint" and document["format_version"] == 1
    assert document["model"]["kind"] == model.kind
    assert document["model"]["parameters"] == model.num_parameters()
    assert document["vocabulary"]["tokens"] == TOKENS
    assert document["tensors"]["sha256"] == hashlib.sha256(tensors_path.read_bytes()).hexdigest()


def test_saving_again_replaces_both_files(saved) -> None:
    model, stem = saved
    save_checkpoint(stem, model, metadata(metrics={"val_bits_per_note": 2.0}))
    assert read_checkpoint_metadata(stem)["metrics"]["val_bits_per_note"] == 2.0
    load_checkpoint(stem)


def refused(path, match: str, **kwargs) -> CheckpointError:
    with pytest.raises(CheckpointError, match=match) as info:
        load_checkpoint(path, **kwargs)
    assert str(path).split(".")[0].split("/")[-1] in str(info.value)  # names the file
    return info.value


def test_missing_checkpoint_refused(tmp_path: Path) -> None:
    refused(tmp_path / "nothing", "does not exist")


def test_missing_tensor_file_refused(saved) -> None:
    _, stem = saved
    checkpoint_paths(stem)[0].unlink()
    refused(stem, "missing")


def test_truncated_tensor_file_refused(saved) -> None:
    _, stem = saved
    tensors_path = checkpoint_paths(stem)[0]
    tensors_path.write_bytes(tensors_path.read_bytes()[:-100])
    refused(stem, "truncated or modified")


def test_tampered_byte_refused(saved) -> None:
    _, stem = saved
    tensors_path = checkpoint_paths(stem)[0]
    data = bytearray(tensors_path.read_bytes())
    data[-5] ^= 0x01
    tensors_path.write_bytes(bytes(data))
    refused(stem, "truncated or modified")


def edit_json(stem: Path, change) -> None:
    json_path = checkpoint_paths(stem)[1]
    document = json.loads(json_path.read_text())
    change(document)
    json_path.write_text(json.dumps(document))


def test_json_edited_to_another_config_refused(saved) -> None:
    model, stem = saved
    field = "num_layers" if model.kind == "lstm" else "d_ff"

    def grow(document: dict) -> None:
        document["model"]["config"][field] *= 2

    edit_json(stem, grow)
    refused(stem, "does not fit the model")


def test_json_edited_to_an_impossible_config_refused(saved) -> None:
    _, stem = saved
    edit_json(stem, lambda document: document["model"]["config"].update(vocab_size=-3))
    refused(stem, "impossible model")


def test_json_edited_to_the_other_kind_refused(saved) -> None:
    model, stem = saved
    other = "transformer" if model.kind == "lstm" else "lstm"
    edit_json(stem, lambda document: document["model"].update(kind=other))
    refused(stem, "impossible model")


def test_wrong_vocabulary_refused(saved) -> None:
    _, stem = saved
    other = list(TOKENS)
    other[5] = "n99"
    error = refused(stem, "different vocabulary", expected_tokens=other)
    assert "token 5" in str(error)
    refused(stem, "different vocabulary", expected_tokens=TOKENS[:-1])


def test_wrong_vocabulary_version_refused(saved) -> None:
    _, stem = saved
    error = refused(stem, "vocabulary version 1 but this musicgen uses version 2",
                    expected_vocab_version=2)
    assert "retrain" in str(error)


def test_pickle_renamed_safetensors_refused_without_unpickling(saved, tmp_path: Path) -> None:
    """Even with a matching checksum, a pickle is parsed as safetensors (and fails), never run."""
    _, stem = saved
    marker = tmp_path / "pickle-ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    data = pickle.dumps({"weights": Payload()})
    tensors_path = checkpoint_paths(stem)[0]
    tensors_path.write_bytes(data)
    refused(stem, "truncated or modified")  # the checksum catches it first
    edit_json(stem, lambda d: d["tensors"].update(sha256=hashlib.sha256(data).hexdigest()))
    refused(stem, "not a valid safetensors file")
    assert not marker.exists()


def test_torch_save_file_refused(saved) -> None:
    model, stem = saved
    tensors_path = checkpoint_paths(stem)[0]
    torch.save(model.state_dict(), tensors_path)
    data = tensors_path.read_bytes()
    edit_json(stem, lambda d: d["tensors"].update(sha256=hashlib.sha256(data).hexdigest()))
    refused(stem, "not a valid safetensors file")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "not a musicgen-checkpoint file"),
        ('{"format": "something-else"}', "not a musicgen-checkpoint file"),
        ('{"format": "musicgen-checkpoint", "format_version": 99}', "format version 99"),
        ('{"format": "musicgen-checkpoint", "format_version": 1}', "lacks the required field"),
    ],
)
def test_garbage_json_refused(saved, content: str, match: str) -> None:
    _, stem = saved
    checkpoint_paths(stem)[1].write_text(content)
    refused(stem, match)
    with pytest.raises(CheckpointError, match=match):
        read_checkpoint_metadata(stem)


def test_save_refuses_bad_metadata(tmp_path: Path) -> None:
    model = trained("lstm")
    with pytest.raises(CheckpointError, match="needs vocabulary"):
        save_checkpoint(tmp_path / "m", model, {"metrics": {}})
    with pytest.raises(CheckpointError, match="vocab_size"):
        save_checkpoint(tmp_path / "m", model, metadata(vocabulary={"version": 1,
                                                                     "tokens": ["a"]}))
    with pytest.raises(CheckpointError, match="may not set"):
        save_checkpoint(tmp_path / "m", model, metadata(model="x"))
    with pytest.raises(CheckpointError, match="not JSON"):
        save_checkpoint(tmp_path / "m", model, metadata(metrics={"when": object()}))
    assert not list(tmp_path.iterdir())


def test_tensor_state_round_trip_restores_optimizer(tmp_path: Path) -> None:
    """Resume without pickle: optimizer and RNG state survive save_tensor_state exactly."""
    import random

    import numpy as np

    model = trained("transformer")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    ids = torch.randint(3, VOCAB, (2, 8))
    model(ids, ids)[1].backward()
    optimizer.step()
    state = {
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
        "numpy_rng": np.random.default_rng(5).bit_generator.state,
        "array": np.arange(6, dtype=np.int64).reshape(2, 3),
    }
    save_tensor_state(tmp_path / "last.optim", state, {"step": 7, "epoch": 1})
    restored, meta = load_tensor_state(tmp_path / "last.optim.json")
    assert meta == {"step": 7, "epoch": 1}
    assert restored["python_rng"] == state["python_rng"]
    assert restored["numpy_rng"] == state["numpy_rng"]
    assert np.array_equal(restored["array"], state["array"])
    assert torch.equal(restored["torch_rng"], state["torch_rng"])
    fresh = torch.optim.AdamW(model.parameters(), lr=1e-2)
    fresh.load_state_dict(restored["optimizer"])
    for key, value in optimizer.state_dict()["state"].items():
        for name, tensor in value.items():
            assert torch.equal(fresh.state_dict()["state"][key][name], tensor)
    assert fresh.state_dict()["param_groups"] == optimizer.state_dict()["param_groups"]


def test_tensor_state_refuses_tampering_and_unknown_values(tmp_path: Path) -> None:
    save_tensor_state(tmp_path / "s", {"w": torch.ones(4)}, {})
    tensors_path = checkpoint_paths(tmp_path / "s")[0]
    tensors_path.write_bytes(tensors_path.read_bytes()[:-3])
    with pytest.raises(CheckpointError, match="truncated or modified"):
        load_tensor_state(tmp_path / "s")
    with pytest.raises(CheckpointError, match="cannot store a value of type"):
        save_tensor_state(tmp_path / "t", {"f": object()}, {})
    (tmp_path / "model.json").write_text('{"format": "musicgen-checkpoint", "format_version": 1}')
    with pytest.raises(CheckpointError, match="not a musicgen-tensor-state file"):
        load_tensor_state(tmp_path / "model")


def test_saving_copies_only_what_safetensors_cannot_take_as_it_is():
    """A big model's tensors are handed over as they are (no second copy of its weights and
    optimizer state while saving); views, shared storage and a tied weight's second name are
    copied, so safetensors never sees two names on one buffer."""
    import torch

    from musicgen.checkpoint import owned_cpu

    taken: set[int] = set()
    whole = torch.arange(12.0)
    assert owned_cpu(whole, taken).data_ptr() == whole.data_ptr()
    again = owned_cpu(whole, taken)  # the same storage a second time: a copy
    assert again.data_ptr() != whole.data_ptr() and torch.equal(again, whole)
    block = torch.arange(24.0).reshape(4, 6)
    view = owned_cpu(block[1:3], taken)  # part of a buffer
    assert view.untyped_storage().nbytes() == 12 * 4 and torch.equal(view, block[1:3])
    column = owned_cpu(block[:, 2], set())  # not contiguous
    assert column.is_contiguous() and torch.equal(column, block[:, 2])
