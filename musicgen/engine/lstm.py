"""The LSTM next-token model in NumPy: the same maths as `musicgen.models.lstm`, one token a call.

Rearranged once at load so a step makes few NumPy calls:

- the first layer's input projection of every token is precomputed (``embed @ W_ih0.T + b``, a
  (V, 4H) table), so the first layer costs one row lookup plus ``h @ W_hh0``;
- the gates are reordered i, f, o, g and the three sigmoid gates' rows halved, so one ``tanh``
  over all four gates gives ``sigmoid(z) = (1 + tanh(z / 2)) / 2`` for i, f, o and ``tanh`` for g.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from musicgen.engine.base import EngineUnsupported, NumpyEngine, count_parameters, require
from musicgen.engine.ops import Dense

__all__ = ["LSTMEngine", "LSTMState"]


@dataclass
class LSTMState:
    """Hidden and cell state, each (num_layers, B, H); a step replaces the arrays, never edits them."""

    h: np.ndarray
    c: np.ndarray

    def select(self, rows: np.ndarray) -> "LSTMState":
        """A state whose row i is row ``rows[i]`` of this one."""
        return LSTMState(self.h[:, rows], self.c[:, rows])


def _gate_order(matrix: np.ndarray, hidden: int) -> np.ndarray:
    """torch's gate blocks i, f, g, o (along axis 0) as i, f, o, g, the sigmoid gates halved."""
    i, f, g, o = (matrix[k * hidden:(k + 1) * hidden] for k in range(4))
    return np.concatenate([i * 0.5, f * 0.5, o * 0.5, g])


class LSTMEngine(NumpyEngine):
    """Embedding -> LSTM layers -> linear head, evaluated with NumPy (see the module docstring)."""

    kind = "lstm"
    max_context = None

    def __init__(self, config: dict, arrays: dict[str, np.ndarray]) -> None:
        self.vocab_size, hidden = int(config["vocab_size"]), int(config["hidden_dim"])
        self.layers, self.hidden = int(config["num_layers"]), hidden
        f64 = {name: array.astype(np.float64) for name, array in arrays.items()}
        table = f64["embed.weight"] @ f64["lstm.weight_ih_l0"].T
        table += f64["lstm.bias_ih_l0"] + f64["lstm.bias_hh_l0"]
        self._table = _f32(_gate_order(table.T, hidden).T)  # (V, 4H)
        self._w_hh = [Dense(_gate_order(f64[f"lstm.weight_hh_l{n}"], hidden).T)
                      for n in range(self.layers)]  # each (H, 4H)
        self._w_ih = [Dense(_gate_order(f64[f"lstm.weight_ih_l{n}"], hidden).T,
                            _gate_order(f64[f"lstm.bias_ih_l{n}"] + f64[f"lstm.bias_hh_l{n}"], hidden))
                      for n in range(1, self.layers)]  # layers 1..: (H, 4H), bias (4H,)
        self._head = Dense(arrays["head.weight"].T, arrays["head.bias"])  # (H, V)
        self.parameters = count_parameters(arrays)

    @classmethod
    def check(cls, config: dict, arrays: dict[str, np.ndarray]) -> None:
        """Refuse (`EngineUnsupported`) any tensor or size this engine does not implement."""
        v, e, h, layers = (config.get(k) for k in ("vocab_size", "embed_dim", "hidden_dim",
                                                     "num_layers"))
        shapes = {"embed.weight": (v, e), "head.weight": (v, h), "head.bias": (v,)}
        for n in range(layers if isinstance(layers, int) else 0):
            shapes[f"lstm.weight_ih_l{n}"] = (4 * h, e if n == 0 else h)
            shapes[f"lstm.weight_hh_l{n}"] = (4 * h, h)
            shapes[f"lstm.bias_ih_l{n}"] = shapes[f"lstm.bias_hh_l{n}"] = (4 * h,)
        require(arrays, shapes)
        if not (isinstance(layers, int) and layers >= 1):
            raise EngineUnsupported(f"an LSTM of {layers!r} layers")

    # ------------------------------------------------------------------------------- stepping
    def new_state(self, batch: int) -> LSTMState:
        """Zero state for ``batch`` streams (what ``forward`` starts from)."""
        shape = (self.layers, batch, self.hidden)
        return LSTMState(np.zeros(shape, np.float32), np.zeros(shape, np.float32))

    def step(self, ids: np.ndarray, state: LSTMState) -> tuple[np.ndarray, LSTMState]:
        """One token per row, ids (B,): next-token logits (B, V) and the new state."""
        h_all, c_all = np.empty_like(state.h), np.empty_like(state.c)
        gates = self._table[ids]  # (B, 4H): layer 0's input projection, bias included
        x = None
        for n in range(self.layers):
            if n:
                gates = self._w_ih[n - 1](x)
            gates += self._w_hh[n](state.h[n])
            x = self._cell(gates, state.c[n], h_all[n], c_all[n])
        return self._head(x), LSTMState(h_all, c_all)

    def _cell(self, gates: np.ndarray, c: np.ndarray, h_out: np.ndarray, c_out: np.ndarray) -> np.ndarray:
        """h and c after one step from the pre-activations (B, 4H) in i, f, o, g order."""
        hidden = self.hidden
        np.tanh(gates, out=gates)
        sig = gates[:, :3 * hidden]
        sig += 1.0
        sig *= 0.5  # i, f, o = sigmoid
        np.multiply(gates[:, hidden:2 * hidden], c, out=c_out)  # f * c
        g = gates[:, 3 * hidden:]
        g *= gates[:, :hidden]  # i * g
        c_out += g
        np.tanh(c_out, out=h_out)
        h_out *= gates[:, 2 * hidden:3 * hidden]  # o * tanh(c)
        return h_out

    def run(self, ids: Sequence[int], state: LSTMState) -> tuple[np.ndarray, LSTMState]:
        """Consume a chunk of ids (one stream) after ``state``: logits (T, V) and the new state.

        Layer by layer over the whole chunk (a seed): each layer's input projection is one
        matrix product for all T tokens, and its recurrent matrix stays in cache for its T steps.
        """
        h_all, c_all = np.empty_like(state.h), np.empty_like(state.c)
        inputs = self._table[np.asarray(ids, dtype=np.int64)]  # (T, 4H), layer 0's projection
        for n in range(self.layers):
            outputs = self._run_layer(n, inputs, state, (h_all, c_all))
            if n + 1 < self.layers:
                inputs = self._w_ih[n](outputs)  # layer n + 1's projection, all T at once
        return self._head(outputs), LSTMState(h_all, c_all)

    def _run_layer(self, n: int, inputs: np.ndarray, state: LSTMState,
                   out: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Layer n over projected inputs (T, 4H) from the state's row 0: its outputs (T, H); its
        last h and c go into ``out`` (h_all, c_all)."""
        outputs = np.empty((len(inputs), self.hidden), np.float32)
        h, c = state.h[n], state.c[n]  # (1, H) each
        w_hh = self._w_hh[n]
        for t in range(len(inputs)):
            gates = inputs[t:t + 1] + w_hh(h)
            c_next = np.empty_like(c)
            h = self._cell(gates, c, outputs[t:t + 1], c_next)
            c = c_next
        out[0][n], out[1][n] = h, c
        return outputs

    def forward(self, ids: Sequence[int]) -> np.ndarray:
        """Logits (T, V) for every position of one sequence from the zero state (no cache)."""
        return self.run(ids, self.new_state(1))[0]


def _f32(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)
