"""Checkpoints: a model's tensors in ``<stem>.safetensors`` and everything else in ``<stem>.json``.

A checkpoint is data, never code: nothing here unpickles. The JSON holds the format name and
version, the model kind and config, the vocabulary (version and token list), training config, corpus
fingerprint, metrics, wall time and command line, and the sha256 of the tensor file, which loading
checks before parsing it. The two files are written as one commit (`io.atomic.atomic_write_pair`:
the new tensors wait beside the old until the JSON is replaced), so a kill at any moment leaves
the previous checkpoint whole or the new one, never tensors that miss their JSON's checksum.
Every failure a user can meet raises ``CheckpointError`` with one sentence naming the file.

Files from elsewhere are untrusted: the JSON is read with size, depth and number limits
(`safe_json`), the model config is bounded before anything is allocated (`models.config`), and
the tensors are checked for size, checksum, tied names and finite values (`checkpoint_checks`).

``save_tensor_state`` / ``load_tensor_state`` store any nested state (an optimizer's, RNG states)
the same way, for resuming training without pickle.

torch is imported inside the functions that need it: ``read_checkpoint_metadata`` (the app's model
card) and ``read_checkpoint_arrays`` (the inference engine's NumPy weights) work without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicgen.checkpoint_checks import check_finite as _check_finite
from musicgen.checkpoint_checks import checked_tied as _checked_tied
from musicgen.checkpoint_checks import parse_tensors as _parse
from musicgen.checkpoint_checks import read_checked as _read_checked
from musicgen.errors import CheckpointError
from musicgen.tensor_tree import flatten_tree, unflatten_tree

if TYPE_CHECKING:
    import numpy as np
    import torch

    from musicgen.models.base import NextTokenModel

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TENSOR_STATE_FORMAT",
    "checkpoint_paths",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint_arrays",
    "read_checkpoint_metadata",
    "save_tensor_state",
    "load_tensor_state",
]

FORMAT_NAME = "musicgen-checkpoint"
FORMAT_VERSION = 1
TENSOR_STATE_FORMAT = "musicgen-tensor-state"
_KNOWN_VERSIONS = (1,)
# Keys save_checkpoint writes itself; the caller's metadata may not use them.
_RESERVED = ("format", "format_version", "model", "tensors")


def checkpoint_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(tensor file, JSON file) for a checkpoint given as its .safetensors, .json or stem path."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


# ----------------------------------------------------------------------------------------- saving


def save_checkpoint(path: str | os.PathLike[str], model: "NextTokenModel", metadata: dict) -> None:
    """Write ``model`` and ``metadata`` (which must hold ``vocabulary: {version, tokens}``)."""
    from musicgen.models import config_to_dict

    tensors_path, json_path = checkpoint_paths(path)
    _check_metadata(metadata, model.config.vocab_size)
    tensors, tied = _untie(model.state_dict())
    data = _serialize(tensors)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model": {
            "kind": model.kind,
            "config": config_to_dict(model.config),
            "parameters": model.num_parameters(),
        },
        "tensors": {
            "file": tensors_path.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "tied": tied,
        },
        **metadata,
    }
    text = _dump_json(document, json_path)  # before writing anything: refuse bad metadata whole
    _write_pair(tensors_path, data, json_path, text)


def _check_metadata(metadata: dict, vocab_size: int) -> None:
    reserved = [key for key in _RESERVED if key in metadata]
    if reserved:
        raise CheckpointError(f"checkpoint metadata may not set {', '.join(reserved)}: they are "
                              "written by save_checkpoint itself")
    vocabulary = metadata.get("vocabulary")
    if (
        not isinstance(vocabulary, dict)
        or not isinstance(vocabulary.get("version"), int)
        or not isinstance(vocabulary.get("tokens"), list)
        or not all(isinstance(token, str) for token in vocabulary["tokens"])
    ):
        raise CheckpointError("checkpoint metadata needs vocabulary = {version: int, tokens: "
                              "[str, ...]} so the model can be checked against its vocabulary")
    if len(vocabulary["tokens"]) != vocab_size:
        raise CheckpointError(f"the vocabulary has {len(vocabulary['tokens'])} tokens but the "
                              f"model was built for vocab_size {vocab_size}")


def owned_cpu(tensor: "torch.Tensor", taken: set[int]) -> "torch.Tensor":
    """``tensor`` on the CPU, owning all of its storage, to hand to safetensors: copied only when
    it is on another device, a view, or shares its storage with one already taken (``taken``
    holds their storage addresses). Copying every tensor, as before, held two or three copies
    of a big model's weights and optimizer state at once while saving (the gpu preset's 23
    million parameters: 280 MB a copy)."""
    t = tensor.detach()
    if t.device.type != "cpu":
        t = t.to("cpu")  # a copy of its own
    else:
        storage = t.untyped_storage()
        whole = (t.is_contiguous() and t.storage_offset() == 0
                 and storage.nbytes() == t.numel() * t.element_size())
        if not whole or storage.data_ptr() in taken:
            t = t.clone() if t.is_contiguous() else t.contiguous()
    taken.add(t.untyped_storage().data_ptr())
    return t


def _untie(state: dict[str, "torch.Tensor"]) -> tuple[dict[str, "torch.Tensor"], dict[str, str]]:
    """Store each shared tensor once (safetensors refuses shared storage); map the others to it."""
    tensors: dict[str, torch.Tensor] = {}
    tied: dict[str, str] = {}
    seen: dict[tuple, str] = {}
    taken: set[int] = set()
    for name, tensor in state.items():
        key = (tensor.device, tensor.untyped_storage().data_ptr(), tensor.storage_offset(),
               tuple(tensor.shape), tensor.stride(), tensor.dtype)
        if key in seen:
            tied[name] = seen[key]
            continue
        seen[key] = name
        # Views into one buffer (cuDNN's flat LSTM weights) would be refused: those are copied.
        tensors[name] = owned_cpu(tensor, taken)
    return tensors, tied


def _serialize(tensors: dict[str, "torch.Tensor"]) -> bytes:
    from safetensors.torch import save

    return save(tensors)


def _dump_json(document: dict, path: Path) -> bytes:
    try:
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"Cannot write {path}: the metadata is not JSON ({exc})") from exc


def _write_pair(tensors_path: Path, data: bytes, json_path: Path, text: bytes) -> None:
    """Tensors and JSON as one commit (`atomic_write_pair`): a kill at any moment leaves the old
    checkpoint or the new one, never tensors that miss their JSON's checksum."""
    from musicgen.errors import WriteError
    from musicgen.io.atomic import atomic_write_pair

    try:
        tensors_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_pair(tensors_path, data, json_path, text)
    except (OSError, WriteError) as exc:
        raise CheckpointError(str(exc).rstrip(".")) from exc



def read_checkpoint_metadata(path: str | os.PathLike[str]) -> dict:
    """The checkpoint's JSON document, validated (no torch needed; the tensors are not read)."""
    _, json_path = checkpoint_paths(path)
    document = _read_document(json_path, FORMAT_NAME)
    for dotted in ("model.kind", "model.config", "tensors.sha256", "vocabulary.version",
                   "vocabulary.tokens"):
        _require(document, dotted, json_path)
    return document


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    expected_tokens: list[str] | None = None,
    expected_vocab_version: int | None = None,
    map_location: "str | torch.device" = "cpu",
) -> tuple["NextTokenModel", dict]:
    """The model (in eval mode, on ``map_location``) and its metadata, after checking everything."""
    from musicgen.models import ModelConfigError, build_model, config_from_dict

    tensors_path, json_path = checkpoint_paths(path)
    document = read_checkpoint_metadata(json_path)
    kind = document["model"]["kind"]
    try:
        config = config_from_dict(kind, document["model"]["config"])
    except ModelConfigError as exc:
        raise CheckpointError(f"{json_path} describes an impossible model ({exc}): the file was "
                              "edited or damaged; restore it or retrain") from exc
    _check_vocabulary(document["vocabulary"], json_path, config.vocab_size, expected_tokens,
                      expected_vocab_version)
    tensors = _read_tensors(tensors_path, json_path, document["tensors"]["sha256"])
    tied = _checked_tied(document["tensors"], tensors, tensors_path, json_path)
    _check_finite(tensors, tensors_path)
    model = build_model(kind, config)
    _load_state(model, tensors, tied, tensors_path, json_path)
    model.to(map_location)
    model.eval()
    return model, document


def _read_document(json_path: Path, format_name: str) -> dict:
    if not json_path.exists():
        raise CheckpointError(f"Checkpoint {json_path} does not exist: check the path, or train "
                              "a model first")
    from musicgen.safe_json import JSONLimitError, read_json

    try:
        document = read_json(json_path)
    except OSError as exc:
        raise CheckpointError(f"Cannot read checkpoint {json_path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"Checkpoint {json_path} is not valid JSON (line {exc.lineno}): "
                              "the file is damaged; restore it or retrain") from exc
    except (JSONLimitError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)[:80]
        raise CheckpointError(f"Checkpoint {json_path} is not a file musicgen wrote ({reason}): "
                              "restore it or retrain") from exc
    if not isinstance(document, dict) or document.get("format") != format_name:
        raise CheckpointError(f"{json_path} is not a {format_name} file: pick the .json "
                              "written next to the .safetensors by musicgen")
    version = document.get("format_version")
    if version not in _KNOWN_VERSIONS:
        raise CheckpointError(f"{json_path} has format version {version!r} but this musicgen "
                              f"reads version {FORMAT_VERSION}: upgrade musicgen or retrain")
    return document


def _require(document: dict, dotted: str, json_path: Path) -> Any:
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise CheckpointError(f"Checkpoint {json_path} lacks the required field {dotted}: "
                                  "the file is incomplete or was edited; restore it or retrain")
        value = value[part]
    return value


def _check_vocabulary(
    vocabulary: dict,
    json_path: Path,
    vocab_size: int,
    expected_tokens: list[str] | None,
    expected_version: int | None,
) -> None:
    version, tokens = vocabulary["version"], vocabulary["tokens"]
    if expected_version is not None and version != expected_version:
        raise CheckpointError(f"{json_path} was made for vocabulary version {version} but this "
                              f"musicgen uses version {expected_version}: retrain or use a "
                              "matching checkpoint")
    if not isinstance(tokens, list) or len(tokens) != vocab_size:
        raise CheckpointError(f"{json_path} lists a vocabulary that does not fit its model "
                              f"(vocab_size {vocab_size}): the file was edited; restore it")
    if expected_tokens is not None and list(expected_tokens) != tokens:
        raise CheckpointError(f"{json_path} was trained with a different vocabulary "
                              f"({_first_difference(tokens, list(expected_tokens))}): retrain "
                              "or use a matching checkpoint")


def _first_difference(saved: list[str], expected: list[str]) -> str:
    for index, (a, b) in enumerate(zip(saved, expected)):
        if a != b:
            return f"token {index} is {a!r} there and {b!r} here"
    return f"{len(saved)} tokens there, {len(expected)} here"


def _read_tensors(tensors_path: Path, json_path: Path, sha256: str) -> dict[str, "torch.Tensor"]:
    """Tensors from a file whose bytes match ``sha256``, parsed by safetensors (never pickle)."""
    from safetensors.torch import load

    return _parse(load, _read_checked(tensors_path, json_path, sha256), tensors_path)


def read_checkpoint_arrays(
    path: str | os.PathLike[str], *, expected_tokens: list[str] | None = None
) -> tuple[dict[str, "np.ndarray"], dict]:
    """Every tensor as a NumPy array (tied names filled in) and the validated JSON document.

    The torch-free twin of `load_checkpoint` for the inference engine (`musicgen.engine`): the
    same checks of the document, the vocabulary and the checksum; the tensors' names and shapes
    are the engine's to check.
    """
    from safetensors.numpy import load

    tensors_path, json_path = checkpoint_paths(path)
    document = read_checkpoint_metadata(json_path)
    from musicgen.models import ModelConfigError, config_from_dict

    try:  # the same bounds as load_checkpoint: the engine sizes its caches from the config
        vocab_size = config_from_dict(document["model"]["kind"], document["model"]["config"]).vocab_size
    except ModelConfigError as exc:
        raise CheckpointError(f"{json_path} describes an impossible model ({exc}): the file was "
                              "edited or damaged; restore it or retrain") from exc
    _check_vocabulary(document["vocabulary"], json_path, vocab_size, expected_tokens, None)
    arrays = _parse(load, _read_checked(tensors_path, json_path, document["tensors"]["sha256"]),
                    tensors_path)
    tied = _checked_tied(document["tensors"], arrays, tensors_path, json_path)
    _check_finite(arrays, tensors_path)
    arrays.update({name: arrays[source] for name, source in tied.items()})
    return arrays, document


def _load_state(
    model: "NextTokenModel",
    tensors: dict[str, "torch.Tensor"],
    tied: dict[str, str],
    tensors_path: Path,
    json_path: Path,
) -> None:
    """Fill ``model`` after checking every name, shape and dtype against its config."""
    state = dict(tensors)
    for name, source in tied.items():
        state[name] = tensors[source]
    expected = model.state_dict()
    problems = [f"missing {name}" for name in expected if name not in state]
    problems += [f"unexpected {name}" for name in state if name not in expected]
    problems += [
        f"{name} is {tuple(state[name].shape)} not {tuple(tensor.shape)}"
        for name, tensor in expected.items()
        if name in state
        and (state[name].shape != tensor.shape or state[name].dtype != tensor.dtype)
    ]
    if problems:
        raise CheckpointError(f"{tensors_path} does not fit the model described in "
                              f"{json_path.name} ({'; '.join(problems[:3])}): the two files are "
                              "from different checkpoints")
    model.load_state_dict(state, strict=True)


# ------------------------------------------------------------------- generic state (optimizer, RNG)


def save_tensor_state(path: str | os.PathLike[str], tensors: Any, meta: dict) -> None:
    """Store a nested structure of tensors and plain values (an optimizer's state_dict, say).

    Tensors go to ``<stem>.safetensors``, the structure and ``meta`` to ``<stem>.json``; both
    atomic. ``load_tensor_state`` gives back the same structure (int keys and tuples kept).
    """
    tensors_path, json_path = checkpoint_paths(path)
    try:
        structure, flat = flatten_tree(tensors)
    except TypeError as exc:
        raise CheckpointError(f"Cannot write {json_path}: {exc}") from exc
    taken: set[int] = set()
    data = _serialize({name: owned_cpu(t, taken) for name, t in flat.items()})
    document = {
        "format": TENSOR_STATE_FORMAT,
        "format_version": FORMAT_VERSION,
        "tensors": {"file": tensors_path.name, "sha256": hashlib.sha256(data).hexdigest()},
        "structure": structure,
        "meta": meta,
    }
    text = _dump_json(document, json_path)  # before writing anything: refuse bad metadata whole
    _write_pair(tensors_path, data, json_path, text)


def load_tensor_state(path: str | os.PathLike[str]) -> tuple[Any, dict]:
    """(the nested structure with its tensors on the CPU, meta) as saved by save_tensor_state."""
    tensors_path, json_path = checkpoint_paths(path)
    document = _read_document(json_path, TENSOR_STATE_FORMAT)
    sha256 = _require(document, "tensors.sha256", json_path)
    structure = _require(document, "structure", json_path)
    flat = _read_tensors(tensors_path, json_path, sha256)
    try:
        return unflatten_tree(structure, flat), document.get("meta", {})
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{json_path} does not match {tensors_path.name} ({exc}): the "
                              "files are from different saves; delete them to start over") from exc
