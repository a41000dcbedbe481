"""ONNX Runtime behind the engine interface, for benchmarks/bench_engine.py only (not shipped).

Each model is exported as one *step*: ids (B, 1) plus the state in, logits (B, V) plus the new
state out. The LSTM's state is (h, c); the Transformer's is every layer's keys and values, which
the graph returns grown by one position (concatenation: ONNX has no in-place cache write), with
the position and the metrical-position bucket as inputs. The maths is the torch models' own
weights written out explicitly (`torch.lstm_cell` and SDPA do not export as such); equality with
torch is measured by the benchmark, not assumed.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["OrtEngine", "have_onnxruntime"]


def have_onnxruntime() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class _LSTMStep(nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.m = model

    def forward(self, ids: torch.Tensor, h: torch.Tensor, c: torch.Tensor):  # (B,1), (L,B,H) x2
        x = self.m.embed(ids[:, 0])
        hs, cs = [], []
        for n in range(self.m.config.num_layers):
            w = [getattr(self.m.lstm, f"{k}_l{n}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            gates = x @ w[0].T + w[2] + h[n] @ w[1].T + w[3]
            i, f, g, o = gates.chunk(4, dim=1)
            c_n = torch.sigmoid(f) * c[n] + torch.sigmoid(i) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(c_n)
            hs.append(x)
            cs.append(c_n)
        return self.m.head(x), torch.stack(hs), torch.stack(cs)


class _TransformerStep(nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.m = model

    def forward(self, ids, position, bucket, keys, values):  # keys/values (L, B, nh, P, hs)
        m, c = self.m, self.m.config
        pos = m.pos_embed(position) if c.pos_encoding == "learned" else m.pos_table[position]
        x = m.tok_embed(ids[:, 0]) + pos  # (B, C)
        if c.bar_position:
            ticks = m.token_ticks[ids[:, 0]]
            after = torch.clamp(bucket + ticks, max=193)
            bucket = torch.where(ticks < 0, torch.ones_like(bucket),
                                 torch.where(bucket > 0, after, 0 * bucket))
            x = x + m.bar_embed(bucket)
        new_k, new_v = [], []
        hs = c.d_model // c.n_heads
        for n, block in enumerate(m.blocks):
            qkv = block.attn.qkv(block.ln1(x)).view(-1, 3, c.n_heads, hs)
            q, k, v = qkv[:, 0, :, None], qkv[:, 1, :, None], qkv[:, 2, :, None]  # (B, nh, 1, hs)
            k, v = torch.cat([keys[n], k], dim=2), torch.cat([values[n], v], dim=2)
            weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hs), dim=-1)
            x = x + block.attn.proj((weights @ v).reshape(-1, c.d_model))
            x = x + block.mlp.proj(F.gelu(block.mlp.fc(block.ln2(x))))
            new_k.append(k)
            new_v.append(v)
        return m.head(m.ln_f(x)), bucket, torch.stack(new_k), torch.stack(new_v)


class OrtEngine:
    """An exported step run by onnxruntime on one thread (the engine interface of musicgen.engine)."""

    def __init__(self, model: Any, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.kind, self.config = model.kind, model.config
        self.vocab_size = model.config.vocab_size
        self._inputs = {i.name for i in self.session.get_inputs()}  # unused ones are dropped

    @classmethod
    def export(cls, model: Any, folder: Path) -> "OrtEngine":
        path = folder / f"{model.kind}-step.onnx"
        with torch.no_grad():
            if model.kind == "lstm":
                h = torch.zeros(model.config.num_layers, 2, model.config.hidden_dim)
                torch.onnx.export(_LSTMStep(model), (torch.zeros(2, 1, dtype=torch.long), h, h), path,
                                  input_names=["ids", "h", "c"], output_names=["logits", "h2", "c2"],
                                  dynamic_axes={"ids": [0], "h": [1], "c": [1]}, dynamo=False)
            else:
                c = model.config
                kv = torch.zeros(c.n_layers, 2, c.n_heads, 3, c.d_model // c.n_heads)
                args = (torch.zeros(2, 1, dtype=torch.long), torch.tensor(3), torch.zeros(2, dtype=torch.long), kv, kv)
                torch.onnx.export(_TransformerStep(model), args, path,
                                  input_names=["ids", "position", "bucket", "keys", "values"],
                                  output_names=["logits", "bucket2", "keys2", "values2"],
                                  dynamic_axes={"ids": [0], "bucket": [0], "keys": [1, 3], "values": [1, 3]},
                                  dynamo=False)
        model.eval()  # the exporter leaves the model in training mode (dropout on)
        return cls(model, path)

    def new_state(self, batch: int) -> dict:
        c = self.config
        if self.kind == "lstm":
            zeros = np.zeros((c.num_layers, batch, c.hidden_dim), np.float32)
            return {"h": zeros, "c": zeros}
        kv = np.zeros((c.n_layers, batch, c.n_heads, 0, c.d_model // c.n_heads), np.float32)
        return {"keys": kv, "values": kv, "bucket": np.zeros(batch, np.int64), "position": 0}

    def step(self, ids: np.ndarray, state: dict) -> tuple[np.ndarray, dict]:
        feed = {"ids": np.ascontiguousarray(ids, dtype=np.int64).reshape(-1, 1)}
        if self.kind == "lstm":
            logits, h, c = self.session.run(None, {**feed, "h": state["h"], "c": state["c"]})
            return logits, {"h": h, "c": c}
        feed.update(position=np.array(state["position"], np.int64), bucket=state["bucket"],
                    keys=state["keys"], values=state["values"])
        logits, bucket, keys, values = self.session.run(
            None, {k: v for k, v in feed.items() if k in self._inputs})
        return logits, {"keys": keys, "values": values, "bucket": bucket,
                        "position": state["position"] + 1}

    def run(self, ids: Sequence[int], state: dict) -> tuple[np.ndarray, dict]:
        rows = []
        for token in ids:  # the seed one token at a time (only steps are compared)
            logits, state = self.step(np.array([token]), state)
            rows.append(logits)
        return np.concatenate(rows), state

    def select(self, state: dict, rows: np.ndarray) -> dict:
        axis = {"h": 1, "c": 1, "keys": 1, "values": 1, "bucket": 0}
        return {k: (np.take(v, rows, axis=axis[k]) if k in axis else v) for k, v in state.items()}

    def running(self, threads: int) -> Any:
        return nullcontext()
