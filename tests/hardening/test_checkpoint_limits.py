"""Crafted checkpoints: absurd sizes, hostile JSON, malformed fields, NaN weights, torn saves.

Each is refused in well under a second, before any tensor is allocated, with a `CheckpointError`
that names the file; an interrupted save never costs the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import struct
import time
from pathlib import Path

import pytest
import torch

from musicgen.checkpoint import (checkpoint_paths, load_checkpoint, load_tensor_state,
                                 read_checkpoint_arrays, read_checkpoint_metadata, save_checkpoint,
                                 save_tensor_state)
from musicgen.errors import CheckpointError, WriteError
from musicgen.models import build_model, model_config
from musicgen.safe_json import JSONLimitError, loads

TOKENS = ["<pad>", "<bos>", "<eos>"] + [f"n{i}" for i in range(14)]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _save(tmp_path: Path, kind: str = "transformer") -> Path:
    torch.manual_seed(0)
    model = build_model(kind, model_config(kind, len(TOKENS), "tiny"))
    path = tmp_path / f"{kind}.safetensors"
    save_checkpoint(path, model, {"vocabulary": {"version": 1, "tokens": TOKENS}})
    return path


def _edit(path: Path, change) -> None:
    _, json_path = checkpoint_paths(path)
    document = json.loads(json_path.read_text())
    change(document)
    json_path.write_text(json.dumps(document))


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("kind,field,value", [
    ("transformer", "max_len", 10**9),
    ("transformer", "d_model", 2**20),
    ("transformer", "n_layers", 10**5),
    ("transformer", "d_ff", 2**40),
    ("lstm", "hidden_dim", 2**20),
    ("lstm", "num_layers", 10**5),
    ("lstm", "vocab_size", 10**12),
])
def test_absurd_sizes_are_refused_before_allocation(tmp_path: Path, kind: str, field: str,
                                                    value: int) -> None:
    path = _save(tmp_path, kind)
    _edit(path, lambda d: d["model"]["config"].__setitem__(field, value))
    before, start = _max_rss_mb(), time.monotonic()
    for loader in (load_checkpoint, read_checkpoint_arrays):
        with pytest.raises(CheckpointError, match=rf"{kind}.json (describes an impossible model "
                                                  rf"\(.*over the limit|lists a vocabulary)"):
            loader(path)
    assert time.monotonic() - start < 5 and _max_rss_mb() - before < 200


def test_sizes_within_each_limit_but_too_many_parameters_in_all(tmp_path: Path) -> None:
    path = _save(tmp_path)
    _edit(path, lambda d: d["model"]["config"].update(d_model=8192, n_layers=64, d_ff=32768,
                                                      n_heads=8))
    with pytest.raises(CheckpointError, match=r"about \d[\d,]* million parameters, over the limit"):
        load_checkpoint(path)


@pytest.mark.parametrize("text,problem", [
    ("[" * 100_000 + "]" * 100_000, "nests deeper than 64 levels"),
    ('{"format": ' + "7" * 5000 + "}", "number 5000 digits long"),
    ('{"x": 1e999}', "too large to represent"),
    ('{"x": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', None),
])
def test_json_limits(text: str, problem: str | None) -> None:
    if problem is None:  # brackets inside a string do not nest
        assert loads(text)["x"].startswith("[[[")
        return
    with pytest.raises(JSONLimitError, match=problem):
        loads(text)


@pytest.mark.parametrize("injected", ["[" * 100_000 + "]" * 100_000, "9" * 5000])
def test_hostile_json_in_a_checkpoint_is_one_sentence(tmp_path: Path, injected: str) -> None:
    path = _save(tmp_path)
    _, json_path = checkpoint_paths(path)
    text = json_path.read_text().replace('"wall_time_s"', f'"junk": {injected}, "wall_time_s"', 1)
    text = text if "junk" in text else text[:-2] + f', "junk": {injected}}}\n'
    json_path.write_text(text)
    with pytest.raises(CheckpointError, match=r"transformer.json is not a file musicgen wrote "
                                              r"\(it (nests|holds a number)"):
        read_checkpoint_metadata(path)


@pytest.mark.parametrize("tied", [["embed"], {"head.weight": ["tok_embed.weight"]},
                                  {"head.weight": {"a": 1}}, {"head.weight": "missing.weight"}, 7])
def test_a_malformed_tied_field_is_refused(tmp_path: Path, tied: object) -> None:
    path = _save(tmp_path)
    _edit(path, lambda d: d["tensors"].__setitem__("tied", tied))
    for loader in (load_checkpoint, read_checkpoint_arrays):
        with pytest.raises(CheckpointError, match="transformer.json lists tied tensors"):
            loader(path)


@pytest.mark.parametrize("fill", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path: Path, fill: float) -> None:
    path = _save(tmp_path, "lstm")
    tensors_path, _ = checkpoint_paths(path)
    data = tensors_path.read_bytes()
    header_len = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + header_len])
    start, end = (8 + header_len + o for o in header["embed.weight"]["data_offsets"])
    data = data[:start] + struct.pack("<f", fill) * ((end - start) // 4) + data[end:]
    tensors_path.write_bytes(data)
    _edit(path, lambda d: d["tensors"].__setitem__("sha256", hashlib.sha256(data).hexdigest()))
    for loader in (load_checkpoint, read_checkpoint_arrays):
        with pytest.raises(CheckpointError, match=r"lstm.safetensors holds weights that are not "
                                                  r"numbers \(NaN or infinity in embed.weight\)"):
            loader(path)


def test_an_oversized_tensor_file_is_refused_before_it_is_read(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from musicgen import checkpoint_checks

    path = _save(tmp_path)
    monkeypatch.setattr(checkpoint_checks, "MAX_TENSOR_BYTES", 100)
    with pytest.raises(CheckpointError, match="transformer.safetensors is over"):
        load_checkpoint(path)


# --- saves that a kill interrupts --------------------------------------------------------------
def test_a_save_killed_after_its_json_is_finished_by_the_next_load(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The new JSON is in place, its tensors still pending: the load completes the swap."""
    path = _save(tmp_path)
    torch.manual_seed(1)
    newer = build_model("transformer", model_config("transformer", len(TOKENS), "tiny"))
    real_replace = os.replace

    def die_on_the_last_step(src: str, dst: str) -> None:
        if re.search(r"\.pending-\d+$", str(src)):
            raise KeyboardInterrupt  # stands for SIGKILL between the commit and the swap
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", die_on_the_last_step)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, newer, {"vocabulary": {"version": 1, "tokens": TOKENS}})
    monkeypatch.setattr(os, "replace", real_replace)
    assert list(tmp_path.glob("*.pending-*"))
    model, _ = load_checkpoint(path)
    assert torch.equal(model.tok_embed.weight, newer.tok_embed.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transformer.json", "transformer.safetensors"]


def test_a_save_killed_before_its_json_keeps_the_old_checkpoint(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(tmp_path)
    old, _ = load_checkpoint(path)
    torch.manual_seed(2)
    newer = build_model("transformer", model_config("transformer", len(TOKENS), "tiny"))
    import musicgen.io.atomic as atomic

    real_write = atomic.atomic_write_bytes

    def disk_full_on_the_json(target, data):
        if str(target).endswith(".json"):
            raise WriteError(f"Cannot write {target}: No space left on device.")
        return real_write(target, data)

    monkeypatch.setattr(atomic, "atomic_write_bytes", disk_full_on_the_json)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(path, newer, {"vocabulary": {"version": 1, "tokens": TOKENS}})
    monkeypatch.undo()
    model, _ = load_checkpoint(path)
    assert torch.equal(model.tok_embed.weight, old.tok_embed.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transformer.json", "transformer.safetensors"]


def test_leftovers_of_dead_writers_are_swept(tmp_path: Path) -> None:
    """Temporary and pending files of a process that no longer exists go at the next write."""
    path = _save(tmp_path)
    dead = 2**22 + 12345  # above the default pid_max: no process has it
    (tmp_path / f".transformer.json.{dead}.abcd1234.tmp").write_bytes(b"half")
    (tmp_path / f"transformer.safetensors.pending-{dead}").write_bytes(b"stale")
    (tmp_path / f".other.mid.{os.getpid()}.live.tmp").write_bytes(b"ours, in flight")
    load_checkpoint(path)  # a load clears stale pending data
    save_tensor_state(tmp_path / "state", {"w": torch.ones(2)}, {"step": 1})
    assert load_tensor_state(tmp_path / "state")[1] == {"step": 1}
    names = sorted(p.name for p in tmp_path.iterdir())
    assert f".other.mid.{os.getpid()}.live.tmp" in names
    assert not [n for n in names if str(dead) in n]
