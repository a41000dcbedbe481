"""The checks a checkpoint's files pass before a model is built from them (torch-free).

- `read_checked`: the tensor file's bytes, refused when over `MAX_TENSOR_BYTES` (before reading)
  or when they miss the checksum in the JSON; a save killed after its JSON was written is
  finished first (`musicgen.io.atomic.settle_pending`).
- `parse_tensors`: safetensors parsing (never pickle), its errors as `CheckpointError`.
- `checked_tied`: the ``tied`` map is {name: stored name}, strings only, every source stored.
- `check_finite`: weights that are NaN or infinite are refused (such a model loads and "generates"
  noise without a word).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from musicgen.errors import CheckpointError

__all__ = ["MAX_TENSOR_BYTES", "read_checked", "parse_tensors", "checked_tied", "check_finite"]

# No musicgen model comes near this (the config limits cap weights at 1 GB; a resume state holds
# three copies): a bigger file is not ours, and is refused before it is read into memory.
MAX_TENSOR_BYTES = 4 * 10**9


def read_checked(tensors_path: Path, json_path: Path, sha256: str) -> bytes:
    """The tensor file's bytes, refused unless they match ``sha256``; a save interrupted after
    its JSON was written is finished first (`settle_pending`)."""
    from musicgen.io.atomic import settle_pending

    def fits(candidate: bytes) -> bool:
        return hashlib.sha256(candidate).hexdigest() == sha256

    try:
        if tensors_path.stat().st_size > MAX_TENSOR_BYTES:
            raise CheckpointError(f"{tensors_path} is over {MAX_TENSOR_BYTES / 1e9:.0f} GB, more "
                                  "than any musicgen model needs: pick the right file")
        data = tensors_path.read_bytes()
    except FileNotFoundError as exc:
        data = b""
        missing: Exception | None = exc
    except OSError as exc:
        raise CheckpointError(f"Cannot read checkpoint tensors {tensors_path}: "
                              f"{exc.strerror or exc}") from exc
    else:
        missing = None
    settled = settle_pending(tensors_path, (lambda _: False) if fits(data) else fits)
    data = settled if settled is not None else data
    if missing is not None and settled is None:
        raise CheckpointError(f"Checkpoint tensors {tensors_path} are missing: keep the "
                              f".safetensors file next to {json_path.name}") from missing
    if not isinstance(sha256, str) or not fits(data):
        raise CheckpointError(f"{tensors_path} does not match the checksum in {json_path.name}: "
                              "the file is truncated or modified; copy it again or retrain")
    return data


def parse_tensors(load: Any, data: bytes, tensors_path: Path) -> dict[str, Any]:
    from safetensors import SafetensorError

    try:
        return load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        detail = (str(exc).strip().splitlines() or ["unreadable"])[0][:100]
        raise CheckpointError(f"{tensors_path} is not a valid safetensors file ({detail}): "
                              "replace it with one written by musicgen") from exc


def checked_tied(section: Any, tensors: dict, tensors_path: Path, json_path: Path) -> dict:
    """The ``tied`` map ({name: stored name}, strings only, every source stored)."""
    tied = section.get("tied", {}) if isinstance(section, dict) else None
    if not isinstance(tied, dict) or not all(
        isinstance(name, str) and isinstance(source, str) and source in tensors
        for name, source in tied.items()
    ):
        raise CheckpointError(f"{json_path} lists tied tensors that {tensors_path.name} lacks: "
                              "the two files are from different checkpoints")
    return tied


def check_finite(tensors: dict[str, Any], tensors_path: Path) -> None:
    """Refuse weights that are NaN or infinite: such a model "generates" noise without a word."""
    import numpy as np

    for name, value in tensors.items():
        if isinstance(value, np.ndarray):
            bad = np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all()
        else:
            bad = value.is_floating_point() and not bool(value.isfinite().all())
        if bad:
            raise CheckpointError(f"{tensors_path} holds weights that are not numbers (NaN or "
                                  f"infinity in {name[:60]}): the model is broken; retrain it "
                                  "or pick another checkpoint")
