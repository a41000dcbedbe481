"""The LSTM next-token model: embedding, stacked LSTM layers, dropout, output projection.

The recurrent state (h, c) carries everything the model remembers, so generation steps one token
at a time at a constant cost, however long the melody.
"""

from __future__ import annotations

import torch
from torch import nn

from musicgen.models.base import NextTokenModel
from musicgen.models.config import LSTMConfig

__all__ = ["LSTMModel", "LSTMState"]

# (h, c), each (num_layers, B, hidden_dim): torch.nn.LSTM's own state layout.
LSTMState = tuple[torch.Tensor, torch.Tensor]
_CELL_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class LSTMModel(NextTokenModel):
    """Embedding -> LSTM x num_layers (dropout between) -> dropout -> linear to vocab logits."""

    kind = "lstm"

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__(config)
        self.config: LSTMConfig = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(
            input_size=config.embed_dim,
            hidden_size=config.hidden_dim,
            num_layers=config.num_layers,
            # nn.LSTM applies dropout between layers only (and warns when there is one layer).
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_dim, config.vocab_size)
        if config.tie_weights:
            # Same matrix reads a token in and scores it out (Press & Wolf 2017); fewer parameters.
            self.head.weight = self.embed.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.embed.weight, std=0.1)
        nn.init.zeros_(self.head.bias)
        for name, param in self.lstm.named_parameters():
            if name.startswith("bias"):
                # Forget-gate bias 1 (gates are ordered i, f, g, o): remember by default early on.
                nn.init.zeros_(param)
                hidden = self.config.hidden_dim
                param.data[hidden : 2 * hidden] = 0.5  # bias_ih + bias_hh = 1 in total

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) from a zero state, and the mean loss when targets (B, T) are given."""
        self._check_ids(ids)
        logits, _ = self._run(ids, None)
        return logits, self._loss(logits, targets)

    def _run(self, ids: torch.Tensor, state: LSTMState | None) -> tuple[torch.Tensor, LSTMState]:
        x = self.drop(self.embed(ids))  # (B, T, E)
        out, new_state = self.lstm(x, state)  # (B, T, H), ((L, B, H), (L, B, H))
        logits = self.head(self.drop(out))  # (B, T, V)
        return logits, new_state

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> LSTMState:
        """Zero (h, c) for ``batch_size`` streams: the same start ``forward`` uses."""
        device = device if device is not None else self.embed.weight.device
        shape = (self.config.num_layers, batch_size, self.config.hidden_dim)
        dtype = self.embed.weight.dtype
        return (
            torch.zeros(shape, device=device, dtype=dtype),
            torch.zeros(shape, device=device, dtype=dtype),
        )

    def step(self, ids: torch.Tensor, state: LSTMState) -> tuple[torch.Tensor, LSTMState]:
        """Consume ids (B, T>=1) after ``state``; logits (B, T, V) and the new (h, c)."""
        self._check_ids(ids)
        if ids.size(1) == 1 and not self.training:
            return self._step_one(ids, state)
        return self._run(ids, state)

    def _step_one(self, ids: torch.Tensor, state: LSTMState) -> tuple[torch.Tensor, LSTMState]:
        """One token through torch.lstm_cell per layer: same weights and maths as nn.LSTM.

        nn.LSTM on CPU goes through oneDNN, which re-lays out the weights on every call: for one
        token that costs 5-10x the arithmetic, and generation is one token at a time.
        """
        h, c = state  # (L, B, H) each
        x = self.embed(ids[:, 0])  # (B, E)
        new_h, new_c = [], []
        for layer in range(self.config.num_layers):
            weights = [getattr(self.lstm, f"{name}_l{layer}") for name in _CELL_WEIGHTS]
            h_layer, c_layer = torch.lstm_cell(x, (h[layer], c[layer]), *weights)  # (B, H)
            new_h.append(h_layer)
            new_c.append(c_layer)
            x = h_layer
        logits = self.head(x).unsqueeze(1)  # (B, 1, V)
        return logits, (torch.stack(new_h), torch.stack(new_c))

    def reorder_state(self, state: LSTMState, index: torch.Tensor) -> LSTMState:
        """Rows ``index`` of (h, c); the batch is dimension 1 of both."""
        h, c = state
        index = index.to(h.device)
        return h.index_select(1, index), c.index_select(1, index)
