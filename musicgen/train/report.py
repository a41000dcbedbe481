"""Training records: the metrics JSONL log, the loss-curve PNG, progress events and the result.

Every step and every validation appends one JSON object to ``metrics.jsonl`` in the run folder
(`run_folder.py`); a resumed run first drops the lines past the step it resumes from (a kill may
have logged steps whose state was never saved). At the end ``loss.png`` beside it plots training
and validation bits per note (matplotlib with the Agg backend, imported only then).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TrainProgress", "TrainResult", "MetricsLog", "plot_losses"]


@dataclass(frozen=True)
class TrainProgress:
    """One progress event, for a progress bar or a live plot."""

    event: str  # "init": the fine-tuned model's first validation; "step", "epoch", "done" (the end)
    step: int  # optimizer steps taken so far
    total_steps: int  # the schedule's horizon (may shrink once a minutes budget is measured)
    epoch: int  # current epoch, 1-based
    loss: float  # training loss (nats per token) of the last step, all ranks together
    lr: float  # learning rate of the last step
    tokens_per_s: float  # predicted (non-padding) tokens per second, smoothed
    val_bits_per_note: float | None  # latest validation figure (None before the first)
    elapsed_s: float  # wall time of the run, earlier sessions included
    padding_fraction: float  # padding share of this epoch's batches
    budget_s: float | None = None  # the minutes budget in seconds (None: a number of passes)
    seconds_per_step: float = 0.0  # measured this session (0 before the first step)
    # the last step's loss as bits per note (loss / ln 2 x the training tunes' tokens per note),
    # so training and validation share one axis on a plot; NaN before the first step
    train_bits_per_note: float = float("nan")
    best_val_bits_per_note: float | None = None  # the best checkpoint's validation figure

    @property
    def fraction(self) -> float:
        """Share of the run done (0..1): of the time budget, else of the schedule's steps."""
        done, total = self.done_total
        return min(1.0, done / total) if total else 0.0

    @property
    def done_total(self) -> tuple[float, float]:
        """(done, total) for `on_progress`: seconds of a minutes budget, else optimizer steps."""
        if self.budget_s:
            return min(self.elapsed_s, self.budget_s), self.budget_s
        return float(self.step), float(self.total_steps)

    @property
    def remaining_s(self) -> float | None:
        """Seconds left: of the budget, else the steps left at the measured pace (None unknown)."""
        if self.budget_s:
            return max(0.0, self.budget_s - self.elapsed_s)
        if self.seconds_per_step > 0 and self.total_steps:
            return max(0, self.total_steps - self.step) * self.seconds_per_step
        return None

    @property
    def message(self) -> str:
        from musicgen.progress import format_duration

        val = "-" if self.val_bits_per_note is None else f"{self.val_bits_per_note:.3f}"
        left = self.remaining_s
        clock = f"{format_duration(self.elapsed_s)} elapsed" + (
            "" if left is None else f", {'' if self.budget_s else '~'}{format_duration(left)} left")
        where = f"epoch {self.epoch}" if self.budget_s else f"epoch {self.epoch} step {self.step}/{self.total_steps}"
        return (f"{where} · {clock} · loss {self.loss:.3f} · val {val} bits/note · "
                f"{self.tokens_per_s:.0f} tok/s")


@dataclass(frozen=True)
class TrainResult:
    """What a finished run produced."""

    checkpoint: Path  # the best checkpoint (lowest validation bits per note)
    last_checkpoint: Path  # the weights after the last step
    best_val_bits_per_note: float  # the best checkpoint's validation figure
    last_val_bits_per_note: float  # the final validation figure
    train_loss: float  # mean training loss of the last epoch (nats per token)
    steps: int  # optimizer steps taken in total (resumed sessions included)
    epochs: int  # epochs started
    stop_reason: str  # "epochs", "minutes", "early-stopping"
    wall_time_s: float  # all sessions together
    tokens_per_s: float  # mean training throughput of this session
    padding_fraction: float  # mean padding share of the batches
    metrics_path: Path
    plot_path: Path | None  # None when matplotlib could not draw
    init_val_bits_per_note: float | None = None  # the fine-tuned model's figure before training
    refused_epochs: tuple[int, ...] = ()  # epochs the epoch guard kept from becoming the best


class MetricsLog:
    """The append-only JSONL metrics file of one run."""

    def __init__(self, path: Path, *, resume_step: int | None) -> None:
        self.path = path
        if resume_step is None:
            path.write_text("", encoding="utf-8")
        elif path.exists():
            kept = [line for line in self.read() if line.get("step", 0) <= resume_step]
            path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
        return rows


def plot_losses(rows: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Draw training and validation bits per note against steps."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    step_rows = [r for r in rows if r.get("event") == "step"]
    steps = [r["step"] for r in step_rows]
    loss = [_train_bits(r) for r in step_rows]
    val_rows = [r for r in rows if r.get("event") in ("init", "epoch")]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(steps, loss, lw=0.8, label="training")
    ax.plot([r["step"] for r in val_rows], [r["val_bits_per_note"] for r in val_rows], "o-",
            color="tab:red", label="held-out (validation)")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per note")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path


def _train_bits(row: dict[str, Any]) -> float:
    """A step's training figure in bits per note (older logs hold only the loss per token)."""
    value = row.get("train_bits_per_note")
    return float(value) if isinstance(value, (int, float)) else row["loss"] / math.log(2)
