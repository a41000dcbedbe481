"""Where a training run keeps its files: the model the user named, its card, and one run folder.

For ``-o ~/my-lstm`` (or a model named ``my-lstm`` in the app) a run writes::

    my-lstm.safetensors, my-lstm.json   the best checkpoint: the model the user asked for
    my-lstm.md                          its card (fine-tuning writes it; `musicgen.library`)
    my-lstm.run/                        everything else, which only training reads again:
        last.safetensors, last.json     the weights after the latest step
        state.safetensors, state.json   the resume state (`state.py`)
        metrics.jsonl, loss.png         the metrics log and the loss plot (`report.py`)
        plan.json                       a fine-tune's plan and the base model's figures (`finetune.py`)

So the user's folder holds only loadable checkpoints beside their cards (a file picker or
`musicgen.library` lists nothing else), and a run is renamed, moved or deleted as one folder.
Torch-free.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RUN_SUFFIX", "RunFiles", "run_files"]

RUN_SUFFIX = ".run"
_CHECKPOINT_SUFFIXES = (".safetensors", ".json")


@dataclass(frozen=True)
class RunFiles:
    """The paths of one run, from its checkpoint stem (``folder/name`` without a suffix)."""

    stem: Path

    @property
    def name(self) -> str:
        return self.stem.name

    @property
    def best(self) -> Path:
        """The best checkpoint's tensor file (its JSON sits beside it)."""
        return self.stem.with_name(self.stem.name + ".safetensors")

    @property
    def card(self) -> Path:
        return self.stem.with_name(self.stem.name + ".md")

    @property
    def folder(self) -> Path:
        return self.stem.with_name(self.stem.name + RUN_SUFFIX)

    @property
    def last(self) -> Path:
        return self.folder / "last.safetensors"

    @property
    def state(self) -> Path:
        return self.folder / "state.safetensors"

    @property
    def metrics(self) -> Path:
        return self.folder / "metrics.jsonl"

    @property
    def plot(self) -> Path:
        return self.folder / "loss.png"

    @property
    def plan(self) -> Path:
        return self.folder / "plan.json"

    def all_paths(self) -> list[Path]:
        """Every file and folder of the run that exists (checkpoint, card, run folder)."""
        paths = [self.best, self.best.with_suffix(".json"), self.card, self.folder]
        return [p for p in paths if p.exists()]

    def delete(self) -> None:
        """Remove the checkpoint, its card and the run folder."""
        for path in self.all_paths():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def run_files(out_path: str | os.PathLike[str]) -> RunFiles:
    """``m.safetensors``, ``m.json`` and ``m`` all name the run whose stem is ``m``."""
    path = Path(out_path).expanduser()
    if path.suffix in _CHECKPOINT_SUFFIXES:
        path = path.with_suffix("")
    return RunFiles(path)
