"""Training: learn a next-note model from a corpus, or fine-tune one on a user's tunes (torch).

API map (the package imports its modules on first use, so ``musicgen.train.config`` stays torch-free):
  config   TrainConfig: every knob, JSON-native, saved in the checkpoints; learning-rate schedule
  data     tunes -> id sequences, length-bucketed batches, crop windows
  start    build a run: model (new, or fine-tuned from --init), encoded splits, checkpoint metadata
  loop     train(config, corpus, out_path=...) -> TrainResult: AdamW, validation, early stopping
  state    resume state (optimizer, RNG, position in the epoch) as safetensors + JSON
  dist     torchrun / DistributedDataParallel (gloo on CPU, NCCL on GPUs)
  report   TrainProgress events, TrainResult, the metrics JSONL log and the loss plot
  run_folder  where a run keeps its files: the model named, its card, one ``<name>.run`` folder
  guard    guarded fine-tuning: the hold-out, the tune-count floor, the copy guard (torch-free)
  finetune fine_tune(plan): a user's tunes -> a model in the library with its card (the app's call)
  memory   return_freed_memory: glibc gives freed activation memory back (CLI and app)
  card     the model card of a fine-tune (Markdown beside the checkpoint, summary in its JSON)
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainConfig", "TrainProgress", "TrainResult", "train"]

_HOMES = {"TrainConfig": "config", "TrainProgress": "report", "TrainResult": "report", "train": "loop"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"musicgen.train.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'musicgen.train' has no attribute {name!r}")
