"""A torch model behind the engine interface: the fallback for a checkpoint the NumPy engine
cannot run, and the way callers holding a torch model (evaluation, training tools) use the one
sampler. Imports torch, so only a caller that already has torch loads this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Sequence

import numpy as np
import torch

__all__ = ["TorchEngine"]


class TorchEngine:
    """Wraps a `musicgen.models.NextTokenModel`: NumPy ids in, NumPy float32 logits out."""

    compiled = False  # torch steps (never the compiled step of `musicgen.engine.native`)

    def __init__(self, model: Any) -> None:
        self.model = model
        self.kind = model.kind
        self.vocab_size = int(model.config.vocab_size)
        self.max_context = model.max_context
        self.parameters = model.num_parameters()

    def new_state(self, batch: int) -> Any:
        return self.model.init_state(batch)

    def run(self, ids: Sequence[int], state: Any) -> tuple[np.ndarray, Any]:
        logits, state = self.model.step(torch.tensor([list(ids)], dtype=torch.long), state)
        return logits[0].detach().float().numpy(), state

    def step(self, ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        chunk = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).view(-1, 1)
        logits, state = self.model.step(chunk, state)
        return logits[:, -1].detach().float().numpy(), state

    def forward(self, ids: Sequence[int]) -> np.ndarray:
        logits, _ = self.model(torch.tensor([list(ids)], dtype=torch.long))
        return logits[0].detach().float().numpy()

    def select(self, state: Any, rows: np.ndarray) -> Any:
        return self.model.reorder_state(state, torch.from_numpy(np.asarray(rows, dtype=np.int64)))

    @contextmanager
    def running(self, threads: int) -> Iterator[None]:
        """Eval mode, no autograd and ``threads`` torch threads inside; all restored after.

        Changing torch's thread count rebuilds its pool while holding the GIL (a stall the app's
        window feels), so it changes only when it differs.
        """
        was_training, before = self.model.training, torch.get_num_threads()
        switch = bool(threads) and threads != before
        self.model.eval()
        if switch:
            torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)
            if switch:
                torch.set_num_threads(before)
