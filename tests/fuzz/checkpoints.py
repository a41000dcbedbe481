"""Fuzzing the checkpoint loaders: crafted JSON documents and tensor files, in a bounded child.

An input is a pair (JSON bytes, safetensors bytes) derived from a real checkpoint of each model
kind (built untrained, so no training is needed):

- document edits: a field (a config size, a tied name, the vocabulary, the checksum...) set to a
  hostile value (10^9, 2^20, -1, NaN, a string, a list, a 5,000-digit integer, a 100,000-deep
  nest), removed, or joined by an unknown one; or the JSON text mutated as bytes;
- tensor edits: every weight of a tensor set to NaN or infinity, header tampering (the 8-byte
  header length, a dtype, a shape), bit flips, truncation; the checksum in the JSON then usually
  follows, so the loader's later checks are reached, not only the checksum;
- arbitrary bytes for either file.

`load_outcome` runs `load_checkpoint`, `read_checkpoint_arrays` and `read_checkpoint_metadata` on
the pair in a child under a wall-clock and memory limit. Acceptable: the model loads with finite
weights, or a `CheckpointError` names the file in one line. Failures: ``foreign``,
``bad_sentence``, ``nonfinite_loaded`` (NaN weights accepted), ``timeout``, ``memory``, ``crash``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import random
import struct
import time
from pathlib import Path

from hypothesis import strategies as st

from musicgen.errors import CheckpointError, MusicGenError
from musicgen.io.bounded import ReaderBug, ReadBudget, TooComplexError, run_bounded
from tests.fuzz.mutations import mutate

__all__ = ["CHECKPOINT_BUDGET", "CHECKPOINT_FAILURES", "checkpoint_input", "load_outcome"]

CHECKPOINT_BUDGET = ReadBudget(seconds=20.0, memory_mb=1024)
CHECKPOINT_FAILURES = ("foreign", "bad_sentence", "nonfinite_loaded", "timeout", "memory", "crash")
STEM = "fuzz-model"
HOSTILE = (10**9, 2**20, 10**5, -1, 0, 1.5, True, None, "x", [], {}, float("nan"), float("inf"),
           "__DEEP__", "__DIGITS__", ["a"] * 3, {"head.weight": ["embed.weight"]},
           {"head.weight": "nothing"}, {"x": 1}, 2**63, -(2**63), 1e308, "../../etc/passwd")
DEEP = "[" * 100_000 + "]" * 100_000
DIGITS = "7" * 5000


@functools.lru_cache(maxsize=None)
def base_checkpoint(kind: str) -> tuple[dict, bytes]:
    """(JSON document, tensor bytes) of an untrained tiny model of `kind`."""
    import tempfile

    from musicgen.checkpoint import checkpoint_paths, save_checkpoint
    from musicgen.models import build_model, model_config
    from musicgen.tokens import VOCAB, VOCAB_VERSION

    model = build_model(kind, model_config(kind, len(VOCAB.tokens), "tiny"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / STEM
        save_checkpoint(path, model, {"vocabulary": {"version": VOCAB_VERSION,
                                                     "tokens": list(VOCAB.tokens)}})
        tensors, document = checkpoint_paths(path)
        return json.loads(document.read_text()), tensors.read_bytes()


def _paths(document: dict) -> list[tuple]:
    out: list[tuple] = []

    def walk(node: object, prefix: tuple) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                out.append(prefix + (key,))
                walk(value, prefix + (key,))
        elif isinstance(node, list) and len(node) < 20:
            for i, value in enumerate(node):
                out.append(prefix + (i,))
                walk(value, prefix + (i,))

    walk(document, ())
    return out


def _edit_document(rng: random.Random, document: dict) -> str:
    """The document with one to three fields made hostile, as JSON text."""
    doc = json.loads(json.dumps(document))
    for _ in range(rng.randint(1, 3)):
        paths = _paths(doc)
        weights = [4 if p[:2] in (("model", "config"), ("tensors", "tied")) else 1 for p in paths]
        path = rng.choices(paths, weights)[0]
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.25 and isinstance(parent, dict):
            parent[f"unknown_{rng.randrange(100)}"] = copy.deepcopy(rng.choice(HOSTILE))
        else:  # a copy: the same list placed twice would let a later edit make a cycle
            parent[path[-1]] = copy.deepcopy(rng.choice(HOSTILE))
    text = json.dumps(doc)  # NaN and Infinity come out as JSON's non-standard literals
    return text.replace('"__DEEP__"', DEEP, 1).replace('"__DIGITS__"', DIGITS, 1)


def _edit_tensors(rng: random.Random, data: bytes) -> bytes:
    """Weights made non-finite, the header tampered with, or the bytes mutated."""
    header_len = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8: 8 + header_len])
    names = [n for n in header if n != "__metadata__"]
    action = rng.random()
    if action < 0.35:  # every weight of one float tensor: NaN or infinity
        entry = header[rng.choice(names)]
        start, end = (8 + header_len + o for o in entry["data_offsets"])
        fill = struct.pack("<f", rng.choice((float("nan"), float("inf"), float("-inf"))))
        return data[:start] + fill * ((end - start) // 4) + data[end:]
    if action < 0.6:  # a dtype, a shape or an offset in the header
        entry = header[rng.choice(names)]
        field = rng.choice(("dtype", "shape", "data_offsets"))
        entry[field] = rng.choice({"dtype": ["F16", "I64", "BOOL", "Q9"],
                                   "shape": [[10**9], [], [-1, 2], [2**31, 2**31]],
                                   "data_offsets": [[0, 2**40], [5, 1], [0, 0]]}[field])
        raw = json.dumps(header).encode()
        return struct.pack("<Q", len(raw)) + raw + data[8 + header_len:]
    if action < 0.7:
        return struct.pack("<Q", rng.choice((0, 7, 2**32, 2**63))) + data[8:]
    return mutate(data, "midi", rng, rng.randint(1, 3))


def checkpoint_input() -> st.SearchStrategy[tuple[bytes, bytes]]:
    """One (JSON bytes, tensor bytes) pair for the loaders."""
    base_checkpoint("lstm"), base_checkpoint("transformer")  # built now, outside generation
    return _checkpoint_input()


@st.composite
def _checkpoint_input(draw: st.DrawFn) -> tuple[bytes, bytes]:
    kind = draw(st.sampled_from(("lstm", "transformer")))
    document, tensors = base_checkpoint(kind)
    rng = random.Random(draw(st.integers(0, 2**64 - 1)))
    target = draw(st.sampled_from(("document", "document", "tensors", "tensors", "json-bytes",
                                   "arbitrary")))
    doc = json.loads(json.dumps(document))
    if target == "arbitrary":
        return draw(st.binary(max_size=2048)), draw(st.binary(max_size=2048))
    if target == "tensors":
        tensors = _edit_tensors(rng, tensors)
        if rng.random() < 0.9:  # the checksum follows, so the later checks are reached
            doc["tensors"]["sha256"] = hashlib.sha256(tensors).hexdigest()
        return json.dumps(doc).encode(), tensors
    if target == "json-bytes":
        return mutate(json.dumps(doc).encode(), "abc", rng, rng.randint(1, 3)), tensors
    return _edit_document(rng, doc).encode(), tensors


def _load_all(folder: str) -> str:
    """Runs in the child: the three loaders; a loaded model must hold finite weights."""
    import os

    import numpy as np
    import torch

    from musicgen.checkpoint import load_checkpoint, read_checkpoint_arrays, read_checkpoint_metadata

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    path = Path(folder) / f"{STEM}.safetensors"
    outcomes = []
    for loader in (read_checkpoint_metadata, read_checkpoint_arrays, load_checkpoint):
        try:
            value = loader(path)
        except CheckpointError as exc:
            outcomes.append(f"error:{exc}")
            continue
        if loader is load_checkpoint:
            finite = all(bool(torch.isfinite(p).all()) for p in value[0].parameters())
        elif loader is read_checkpoint_arrays:
            finite = all(np.isfinite(a).all() for a in value[0].values()
                         if np.issubdtype(a.dtype, np.floating))
        else:
            finite = True
        outcomes.append("loaded" if finite else "nonfinite")
    return "|".join(outcomes)


def load_outcome(pair: tuple[bytes, bytes], folder: Path,
                 budget: ReadBudget = CHECKPOINT_BUDGET) -> tuple[str, str]:
    """(outcome kind, detail) for one input pair written into `folder`."""
    document, tensors = pair
    (folder / f"{STEM}.json").write_bytes(document)
    (folder / f"{STEM}.safetensors").write_bytes(tensors)
    start = time.monotonic()
    try:
        summary = run_bounded(STEM, _load_all, str(folder), budget=budget)
    except TooComplexError as exc:
        return {"time": "timeout", "memory": "memory"}.get(exc.limit, "crash"), str(exc)
    except MusicGenError as exc:
        cause = exc.__cause__
        detail = f"{cause}\n{cause.trace}" if isinstance(cause, ReaderBug) else str(exc)
        return "foreign", detail
    seconds = time.monotonic() - start
    parts = summary.split("|")
    if "nonfinite" in parts:
        return "nonfinite_loaded", summary
    for part in parts:
        if part.startswith("error:"):
            message = part[len("error:"):]
            if STEM not in message or "\n" in message or len(message) > 400:
                return "bad_sentence", message
    kind = "loaded" if parts[-1] == "loaded" else "checkpoint_error"
    return kind, f"{seconds:.2f} s: {summary[:300]}"
