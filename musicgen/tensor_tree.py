"""Nested state as JSON plus named tensors: how optimizer and RNG state are saved without pickle.

``flatten_tree(tree)`` walks dicts, lists, tuples, tensors, numpy arrays and JSON scalars and
returns a JSON-native *structure* in which every tensor is replaced by ``{"__tensor__": name}``,
plus the ``{name: tensor}`` map for safetensors. ``unflatten_tree`` reverses it exactly: dict keys
keep their type (an optimizer's state is keyed by int), tuples stay tuples, arrays come back as
numpy arrays.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flatten_tree", "unflatten_tree"]

_SCALARS = (str, int, float, bool, type(None))


def flatten_tree(tree: Any) -> tuple[Any, dict[str, Any]]:
    """(JSON-native structure, {name: tensor}) for a nested tree; TypeError on anything else."""
    import numpy as np
    import torch

    flat: dict[str, torch.Tensor] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, torch.Tensor):
            name = f"t{len(flat)}"
            flat[name] = node
            return {"__tensor__": name}
        if isinstance(node, np.ndarray):
            name = f"t{len(flat)}"
            flat[name] = torch.from_numpy(np.ascontiguousarray(node))
            return {"__ndarray__": name}
        if isinstance(node, np.generic):
            return node.item()
        if isinstance(node, _SCALARS):
            return node
        if isinstance(node, dict):
            for key in node:
                if not isinstance(key, _SCALARS):
                    raise TypeError(f"cannot store a dict key of type {type(key).__name__}")
            return {"__dict__": [[key, walk(value)] for key, value in node.items()]}
        if isinstance(node, tuple):
            return {"__tuple__": [walk(item) for item in node]}
        if isinstance(node, list):
            return [walk(item) for item in node]
        raise TypeError(f"cannot store a value of type {type(node).__name__}")

    return walk(tree), flat


def unflatten_tree(structure: Any, flat: dict[str, Any]) -> Any:
    """The tree ``flatten_tree`` took apart, tensors taken from ``flat`` by name."""
    if isinstance(structure, list):
        return [unflatten_tree(item, flat) for item in structure]
    if not isinstance(structure, dict):
        return structure
    if "__tensor__" in structure:
        return flat[structure["__tensor__"]]
    if "__ndarray__" in structure:
        return flat[structure["__ndarray__"]].numpy()
    if "__tuple__" in structure:
        return tuple(unflatten_tree(item, flat) for item in structure["__tuple__"])
    if "__dict__" in structure:
        return {key: unflatten_tree(value, flat) for key, value in structure["__dict__"]}
    raise ValueError(f"unknown node with keys {sorted(structure)}")
