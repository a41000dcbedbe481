"""The LSTM next-token model in NumPy: the same maths as `musicgen.models.lstm`, one token a call.

Rearranged once at load so a step makes few NumPy calls:

- the first layer's input projection of every token is precomputed (``W_ih0 @ embed + b``, kept
  as a (V, 4H) table: a row gather is fast), so the first layer costs one lookup plus ``W_hh0 @ h``;
- a later layer's two matrices are one, ``[W_ih | W_hh]`` (4H, 2H), and its input and its own
  last output sit one above the other in the state's ``h``, so its gates are one product;
- the gates are reordered i, f, o, g and the three sigmoid gates' rows halved, so one ``tanh``
  over all four gates gives ``sigmoid(z) = (1 + tanh(z / 2)) / 2`` for i, f, o and ``tanh`` for g;
- streams are columns (torch's (4H, H) matrices times (H, B) states): with 8 streams OpenBLAS
  multiplies (1024 x 256) @ (256 x 8) 1.2-1.3x faster than (8 x 256) @ (256 x 1024);
- the matrices sit in one huge-page block (`ops.pack`).

Where the compiled step is built (`musicgen.engine.native`), ``step`` is one call to it, on the
same folded matrices laid out as panels (a second block, 3.7 MB for the shipped model) and on
the same state arrays; ``run`` (a seed) stays NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from musicgen.engine import native
from musicgen.engine.base import EngineUnsupported, NumpyEngine, count_parameters, require
from musicgen.engine.ops import pack

__all__ = ["LSTMEngine", "LSTMState"]


@dataclass
class LSTMState:
    """Hidden and cell state of B streams: ``h`` (num_layers * H, B), layer n in rows
    n*H..(n+1)*H, and ``c`` (num_layers, H, B). A step updates both in place (callers copy with
    ``select``, as the engine interface says)."""

    h: np.ndarray
    c: np.ndarray
    work: dict = field(default_factory=dict, repr=False, compare=False)  # step buffers by B

    def select(self, rows: np.ndarray) -> "LSTMState":
        """A state whose stream i is stream ``rows[i]`` of this one (a copy)."""
        return LSTMState(self.h[:, rows], self.c[:, :, rows])


class _Work:
    """A step's gate buffers for B streams, and fixed views of the four gates (i, f, o, g)."""

    def __init__(self, hidden: int, batch: int) -> None:
        self.gates = np.empty((4 * hidden, batch), np.float32)
        self.scratch = np.empty((4 * hidden, batch), np.float32)
        self.sig = self.gates[:3 * hidden]
        self.i, self.f, self.o, self.g = (self.gates[k * hidden:(k + 1) * hidden] for k in range(4))


def _gate_order(matrix: np.ndarray, hidden: int) -> np.ndarray:
    """torch's gate blocks i, f, g, o (along axis 0) as i, f, o, g, the sigmoid gates halved."""
    i, f, g, o = (matrix[k * hidden:(k + 1) * hidden] for k in range(4))
    return np.concatenate([i * 0.5, f * 0.5, o * 0.5, g])


class LSTMEngine(NumpyEngine):
    """Embedding -> LSTM layers -> linear head, evaluated with NumPy (see the module docstring)."""

    kind = "lstm"
    max_context = None

    def __init__(self, config: dict, arrays: dict[str, np.ndarray], *,
                 compiled: bool = True) -> None:
        self.vocab_size, hidden = int(config["vocab_size"]), int(config["hidden_dim"])
        self.layers, self.hidden = int(config["num_layers"]), hidden
        # Sums and products in float64, rounded once; reordering and halving are exact in float32.
        def f64(name: str) -> np.ndarray:
            return arrays[name].astype(np.float64)

        def bias(n: int) -> np.ndarray:
            return f64(f"lstm.bias_ih_l{n}") + f64(f"lstm.bias_hh_l{n}")

        table = f64("lstm.weight_ih_l0") @ f64("embed.weight").T + bias(0)[:, None]  # (4H, V)
        matrices = [_gate_order(table, hidden).T,
                    _gate_order(arrays["lstm.weight_hh_l0"], hidden)]
        for n in range(1, self.layers):  # [W_ih | W_hh] (4H, 2H), then the bias (4H, 1)
            matrices.append(_gate_order(np.hstack([arrays[f"lstm.weight_ih_l{n}"],
                                                   arrays[f"lstm.weight_hh_l{n}"]]), hidden))
            matrices.append(_gate_order(bias(n), hidden)[:, None])
        matrices += [arrays["head.weight"].T, arrays["head.bias"]]  # (H, V), (V,)
        packed = pack([np.asarray(m, np.float32) for m in matrices])
        self._table, self._w_hh0 = packed[0], packed[1]
        self._w_cat, self._bias = packed[2:-2:2], packed[3:-2:2]
        self._head, self._head_bias = packed[-2], packed[-1]
        self.parameters = count_parameters(arrays)
        self._lib = native.library() if compiled else None
        if self._lib is not None:
            self._compile()

    def _compile(self) -> None:
        """The compiled step's matrices as panels (in, out), and its int64 descriptor."""
        recurrent = [self._w_hh0] + list(self._w_cat)  # (4H, in) each
        self._panels = pack([native.panels(m.T) for m in recurrent] + [native.panels(self._head)])
        fields = [self.vocab_size, self.hidden, self.layers, native.pointer(self._table),
                  native.pointer(self._panels[-1]), native.pointer(self._head_bias)]
        for n in range(self.layers):
            fields += [native.pointer(self._panels[n]),
                       native.pointer(self._bias[n - 1]) if n else 0]
        self._descriptor = np.array(fields, np.int64)
        self._descriptor_at = native.pointer(self._descriptor)
        self._padded_vocab = native.padded(self.vocab_size)

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
        return LSTMState(np.zeros((self.layers * self.hidden, batch), np.float32),
                         np.zeros((self.layers, self.hidden, batch), np.float32))

    def step(self, ids: np.ndarray, state: LSTMState) -> tuple[np.ndarray, LSTMState]:
        """One token per stream, ids (B,): next-token logits (B, V); the state updated in place."""
        if self._lib is not None:
            return self._compiled_step(ids, state), state
        hidden, h, c = self.hidden, state.h, state.c
        work = state.work.get(len(ids))
        if work is None:
            work = state.work[len(ids)] = _Work(hidden, len(ids))
        np.matmul(self._w_hh0, h[:hidden], out=work.gates)
        work.gates += self._table[ids].T  # layer 0's input projection, bias in (rows: a fast gather)
        _cell(work, c[0], h[:hidden])
        for n in range(1, self.layers):
            np.matmul(self._w_cat[n - 1], h[(n - 1) * hidden:(n + 1) * hidden], out=work.gates)
            work.gates += self._bias[n - 1]
            _cell(work, c[n], h[n * hidden:(n + 1) * hidden])
        logits = h[(self.layers - 1) * hidden:].T @ self._head  # (B, V)
        logits += self._head_bias
        return logits, state

    def _compiled_step(self, ids: np.ndarray, state: LSTMState) -> np.ndarray:
        batch = len(ids)
        kept = state.work.get(("compiled", batch))
        if (kept is None or kept[3][0] is not state.h or kept[3][1] is not state.c
                or kept[3][3] is not self):  # buffers sized for another engine: not these
            kept = state.work[("compiled", batch)] = self._compiled_buffers(state, batch)
        feed, pointers, logits, _ = kept
        feed[:] = ids  # the ids into a buffer whose address is known (see `native.pointer`)
        if self._lib.mg_lstm_step(self._descriptor_at, batch, *pointers):
            raise IndexError(f"an id outside the vocabulary of {self.vocab_size}: {feed.tolist()}")
        return logits[:, :self.vocab_size].copy()  # the buffer is the next step's

    def _compiled_buffers(self, state: LSTMState, batch: int) -> tuple:
        shapes = {"h": ((self.layers * self.hidden, batch), state.h),
                  "c": ((self.layers, self.hidden, batch), state.c)}
        for name, (shape, array) in shapes.items():  # the C step trusts them: checked once
            if array.shape != shape or array.dtype != np.float32:
                raise ValueError(f"{batch} ids for a state whose {name} is {array.dtype} "
                                 f"{array.shape}, not float32 {shape}")
        # a row selection may leave the arrays strided: the compiled step reads them in C order
        state.h, state.c = np.ascontiguousarray(state.h), np.ascontiguousarray(state.c)
        feed = np.zeros(batch, np.int64)
        work = np.empty(batch * (native.padded(4 * self.hidden) + self._padded_vocab), np.float32)
        logits = np.empty((batch, self._padded_vocab), np.float32)
        pointers = tuple(native.pointer(a) for a in (feed, state.h, state.c, work, logits))
        # every array kept (the C step writes to them all), and the state's checked each step
        return feed, pointers, logits, (state.h, state.c, work, self)

    def run(self, ids: Sequence[int], state: LSTMState) -> tuple[np.ndarray, LSTMState]:
        """Consume a chunk of ids (one stream) after ``state``: logits (T, V) and the new state.

        Layer by layer over the whole chunk (a seed): each layer's input projection is one
        matrix product for all T tokens, and its recurrent matrix stays in cache for its T steps.
        """
        hidden = self.hidden
        state = state.select(np.zeros(1, np.int64))  # a copy: the caller's state stays as it was
        work = _Work(hidden, 1)
        # a token's projection is a row, contiguous (as a column of a (4H, T) array it was strided:
        # a 411-token seed took 47 ms instead of 44)
        inputs = self._table[np.asarray(ids, dtype=np.int64)]  # (T, 4H), layer 0's projection
        for n in range(self.layers):
            if n:
                w_ih = self._w_cat[n - 1][:, :hidden]
                inputs = outputs @ w_ih.T  # (T, 4H): all T at once
                inputs += self._bias[n - 1][:, 0]
            w_hh = self._w_hh0 if n == 0 else self._w_cat[n - 1][:, hidden:]
            h, c = state.h[n * hidden:(n + 1) * hidden], state.c[n]  # (H, 1) each, updated
            outputs = np.empty((len(ids), hidden), np.float32)
            for t in range(len(ids)):
                np.add(inputs[t, :, None], np.matmul(w_hh, h, out=work.scratch), out=work.gates)
                _cell(work, c, h)
                outputs[t] = h[:, 0]
        logits = outputs @ self._head
        logits += self._head_bias
        return logits, state

    def forward(self, ids: Sequence[int]) -> np.ndarray:
        """Logits (T, V) for every position of one sequence from the zero state (no cache)."""
        return self.run(ids, self.new_state(1))[0]


def _cell(work: _Work, c: np.ndarray, h: np.ndarray) -> None:
    """h and c (H, B), in place, after one step from the pre-activations in ``work.gates``."""
    np.tanh(work.gates, out=work.gates)
    work.sig += 1.0
    work.sig *= 0.5  # i, f, o = sigmoid
    c *= work.f
    work.g *= work.i
    c += work.g
    np.tanh(c, out=h)
    h *= work.o
