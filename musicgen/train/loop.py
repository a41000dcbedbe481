"""The training loop: one model on one corpus, single process or under torchrun (DDP).

API map:

- ``TrainConfig`` (``config.py``): every knob, JSON-native, saved in the checkpoints.
- ``train(config, corpus, out_path=...) -> TrainResult``: AdamW with linear warmup and cosine
  decay, gradient clipping, length-bucketed batches (``data.py``), validation in bits per note
  every epoch, early stopping, a minutes budget; writes the best checkpoint (``out_path``) and
  keeps the rest in the run folder beside it (`run_folder.py`): the last checkpoint, the resume
  state (``state.py``), the metrics log and the loss plot (``report.py``). ``resume=True``
  continues a killed or stopped run; ``init_checkpoint`` fine-tunes a trained model, which is then
  validated first and stays the best checkpoint until an epoch beats it on the held-out tunes.
- ``epoch_guard(last_checkpoint, epoch) -> bool`` (optional) vets each epoch's weights (the
  copy guard of `guard.py`): an epoch it refuses never becomes the best checkpoint, so the model
  kept is the last one from before the refusal. ``plot=False`` skips the loss PNG (importing
  matplotlib holds the interpreter lock for ~80 ms, a stall for an app that plots live).
- Progress (on rank 0 only): ``on_progress(done, total, message)`` as every long call
  (`musicgen.progress`): seconds of a minutes budget, else optimizer steps, with elapsed and
  remaining time in the message; each of ``callbacks`` receives every ``TrainProgress`` event
  (loss, validation, throughput) for a live plot or a log. ``should_stop()`` returning True saves
  everything and raises ``Cancelled``.

Bits per note: -log2 p summed over every token after BOS (EOS included) over the notes
(``VOCAB.note_count``); a Transformer sees long tunes as windows, so its figure here slightly
overestimates the full-context one ``musicgen evaluate`` reports.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch.nn import functional as F

from musicgen.errors import Cancelled, CorpusError, TrainingError
from musicgen.progress import ProgressFn, StopFn
from musicgen.train.config import TrainConfig, config_differences, lr_at
from musicgen.train.data import EpochPlan, collate, plan_epoch, plan_validation, shard_batch
from musicgen.train.dist import Distributed
from musicgen.train.report import MetricsLog, TrainProgress, TrainResult, plot_losses
from musicgen.train.run_folder import RunFiles, run_files
from musicgen.train.start import Prepared, build_for_run, checkpoint_metadata
from musicgen.train.state import RunPosition, load_state, restore_optimizer, restore_rng, save_state

__all__ = ["TrainConfig", "TrainProgress", "TrainResult", "train"]

ProgressCallback = Callable[[TrainProgress], None]
EpochGuard = Callable[[Path, int], bool]  # (the epoch's last checkpoint, epoch) -> may it be best
LN2 = math.log(2.0)
HORIZON_PROBE_STEPS = 10  # steps timed before a minutes budget fixes the schedule's length


def train(
    config: TrainConfig,
    corpus: Any,
    *,
    out_path: str | os.PathLike[str],
    init_checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    callbacks: Sequence[ProgressCallback] = (),
    epoch_guard: EpochGuard | None = None,
    plot: bool = True,
) -> TrainResult:
    """Train ``config.model`` on ``corpus``'s train split; see the module docstring."""
    dist = Distributed.from_env(config.device)
    listeners = list(callbacks)
    if on_progress is not None:
        listeners.append(lambda p: on_progress(*p.done_total, p.message))
    run = _Run(config, corpus, Path(out_path), dist, listeners, should_stop)
    run.epoch_guard, run.plot = epoch_guard, plot
    run.setup(init_checkpoint, resume)
    return run.execute()


class _Run:
    """The state of one training session (helper for `train`)."""

    def __init__(self, config: TrainConfig, corpus: Any, out_path: Path, dist: Distributed,
                 listeners: list[ProgressCallback], should_stop: Callable[[], bool] | None) -> None:
        self.config, self.corpus, self.dist = config, corpus, dist
        self.files: RunFiles = run_files(out_path)
        self.stem = self.files.stem
        self.epoch_guard: EpochGuard | None = None
        self.plot = True  # draw loss.png at the end (matplotlib; an app plots live instead)
        self.listeners = listeners if dist.is_main else []
        self.should_stop = should_stop or (lambda: False)
        self.pos = RunPosition()
        self.session_start = time.monotonic()
        self.session_tokens = 0
        self.step_seconds = 0.0  # time inside optimizer steps this session (throughput)
        self.session_steps = 0
        self.elapsed_base = 0.0  # wall time of earlier sessions (from the resume state)
        self.tokens_per_s = 0.0
        self.last_loss = float("nan")
        self.last_lr = 0.0
        self.padding: list[float] = []
        self.epoch_losses: list[float] = []
        self.tokens_per_note = 0.0  # training tokens per note: loss per token -> bits per note

    # --- setup ------------------------------------------------------------------------------
    def setup(self, init_checkpoint: str | os.PathLike[str] | None, resume: bool) -> None:
        self.files.folder.mkdir(parents=True, exist_ok=True)
        saved = load_state(self.files.state) if resume else None
        if saved is not None:
            self._check_resumable(saved[1])
        p: Prepared = build_for_run(self.config, self.corpus, init_checkpoint,
                                    saved[1]["model"] if saved else None)
        self.prep = p
        self.model = p.model.to(self.dist.device)
        if saved is not None:
            self.model.load_state_dict(saved[0])
        self.optimizer = _make_optimizer(self.model, self.config)
        self.ddp = self.model
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.dist.device] if self.dist.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.model, device_ids=ids)
        self.val_plan = plan_validation(p.val, batch_size=self.config.batch_size,
                                        batch_tokens=self.config.batch_tokens)
        self.val_notes = sum(p.val.note_counts)
        if self.val_notes == 0:
            raise CorpusError("The validation split has no notes, so bits per note is undefined.")
        train_tokens = sum(len(w) - 1 for w in p.train.windows())
        self.tokens_per_note = train_tokens / max(1, sum(p.train.note_counts))
        first = plan_epoch(p.train, seed=self.config.seed, epoch=0,
                           batch_size=self.config.batch_size, batch_tokens=self.config.batch_tokens)
        self.max_horizon = len(first.batches) * self.config.max_epochs
        self.pos.horizon = self.max_horizon
        if saved is not None:
            self.pos = saved[2]
            self.elapsed_base = self.pos.elapsed_s
            restore_optimizer(self.optimizer, saved[1])
            restore_rng(saved[1]["_tensors"], saved[1]["rng"])
        self.log = MetricsLog(self.files.metrics if self.dist.is_main
                              else Path(os.devnull), resume_step=self.pos.step if saved else None)
        if init_checkpoint is not None and saved is None:
            self._start_from_init()
        # The budget's clock starts now: building the model and encoding tunes is not training.
        self.session_start = time.monotonic()

    def _start_from_init(self) -> None:
        """Validate the model being fine-tuned: its figure is where the curve starts, and it is
        the best checkpoint until an epoch beats it (fine-tuning never returns a worse model)."""
        val = self._validate()
        self.pos.best_val = self.pos.last_val = val
        self.pos.history["init_val"] = val
        self._save_checkpoint(self.files.best)
        self._emit("init")

    def _check_resumable(self, meta: dict[str, Any]) -> None:
        saved = TrainConfig.from_dict(meta["training"])
        diff = config_differences(saved, self.config)
        if diff:
            raise TrainingError(f"Cannot resume {self.stem}: it was trained with different "
                                f"{', '.join(diff)} (use the same options or a new -o path).")
        fingerprint = getattr(self.corpus, "fingerprint", None)
        if meta.get("corpus", {}).get("fingerprint") not in (None, fingerprint):
            raise TrainingError(f"Cannot resume {self.stem}: the corpus has changed since.")
        reason = meta["position"].get("history", {}).get("stop_reason")
        if reason:
            raise TrainingError(f"Cannot resume {self.stem}: that run already finished ({reason}).")

    # --- the loop -----------------------------------------------------------------------------
    def execute(self) -> TrainResult:
        reason = "epochs"
        while self.pos.epoch < self.config.max_epochs:
            plan = plan_epoch(self.prep.train, seed=self.config.seed, epoch=self.pos.epoch,
                              batch_size=self.config.batch_size,
                              batch_tokens=self.config.batch_tokens)
            self.padding.append(plan.padding_fraction)
            out_of_time = self._train_epoch(plan)
            self._end_epoch()
            if out_of_time:
                reason = "minutes"
            elif self.config.patience and self.pos.bad_epochs >= self.config.patience:
                reason = "early-stopping"
            if reason != "epochs" or self.pos.epoch >= self.config.max_epochs:
                break
        self.pos.history["stop_reason"] = reason
        if self.dist.is_main:
            self._save_state()
        return self._finish(reason)

    def _train_epoch(self, plan: EpochPlan) -> bool:
        """Train from the saved position to the end of the epoch; True if the budget ran out."""
        self.epoch_losses = []
        last_save, steps_since = time.monotonic(), 0
        for b in range(self.pos.batch_in_epoch, len(plan.batches)):
            stop, out_of_time = self.dist.any(self.should_stop() if self.dist.is_main else False,
                                              self._budget_spent())
            if stop:
                self._interrupt()
            if out_of_time:
                return True
            self._step(plan, b)
            steps_since += 1
            if (steps_since >= self.config.save_every_steps
                    or time.monotonic() - last_save >= self.config.save_every_seconds):
                self._save_all()
                last_save, steps_since = time.monotonic(), 0
        return False

    def _step(self, plan: EpochPlan, b: int) -> None:
        started = time.monotonic()
        global_tokens = plan.target_tokens(b)
        mine = [plan.sequences[i] for i in shard_batch(plan.batches[b], self.dist.rank,
                                                        self.dist.world)]
        inputs, targets = (t.to(self.dist.device) for t in collate(mine, self.prep.pad_id))
        lr = lr_at(self.pos.step, peak=self.config.peak_lr, warmup=self.config.warmup_steps,
                   horizon=self.pos.horizon, min_ratio=self.config.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        nll = self._nll(self.ddp, inputs, targets)
        # Sum over this rank's tokens scaled so DDP's gradient average is the global token mean.
        loss = nll * self.dist.world / global_tokens
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        # Gradients go as soon as they are used, not before the next backward pass: validation
        # and saving run without them (the gpu preset's: 100 MB).
        self.optimizer.zero_grad(set_to_none=True)
        mean = float(self.dist.sum(nll)) / global_tokens
        if not math.isfinite(mean):
            raise TrainingError(f"Training diverged at step {self.pos.step + 1} (loss {mean}); "
                                "lower the learning rate with --lr.")
        self.pos.step += 1
        self.pos.batch_in_epoch = b + 1
        self._after_step(mean, lr, global_tokens, time.monotonic() - started)

    def _nll(self, model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor):
        """Summed next-token negative log-likelihood (nats), padding ignored, float32."""
        cuda = self.dist.device.type == "cuda"
        with torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16,
                            enabled=cuda):
            logits, _ = model(inputs, None)  # (B, T, V)
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1),
                               ignore_index=self.prep.pad_id, reduction="sum")

    def _after_step(self, loss: float, lr: float, tokens: int, seconds: float) -> None:
        self.last_loss, self.last_lr = loss, lr
        self.epoch_losses.append(loss)
        self.session_tokens += tokens
        self.step_seconds += seconds
        self.session_steps += 1
        rate = tokens / max(seconds, 1e-9)
        self.tokens_per_s = rate if self.tokens_per_s == 0 else 0.9 * self.tokens_per_s + 0.1 * rate
        if self.config.minutes and not self.pos.history.get("horizon_fixed"):
            if self.session_steps >= HORIZON_PROBE_STEPS:
                self._fix_horizon()
        self._emit("step")

    def _fix_horizon(self) -> None:
        """With a minutes budget: fit the schedule to the steps that fit (measured).

        First measured after a few steps, then again at every epoch end: start-up steps are slow
        and the machine's load changes, and a schedule that ends early leaves the rest of the
        budget at the minimum learning rate.
        """
        per_step = self.step_seconds / max(1, self.session_steps)
        remaining = self.config.minutes * 60.0 * 0.9 - self._elapsed()  # ~10% for validation
        fits = self.pos.step + int(max(0.0, remaining) / max(per_step, 1e-9))
        self.pos.horizon = max(self.pos.step + 1, min(self.max_horizon, fits))
        self.pos.history["horizon_fixed"] = True

    # --- epoch end, validation, saving ------------------------------------------------------
    def _end_epoch(self) -> bool:
        if self.config.minutes and self.pos.history.get("horizon_fixed"):
            self._fix_horizon()
        val = self._validate()
        self.pos.last_val = val
        self.pos.epoch += 1
        self.pos.batch_in_epoch = 0
        self._save_checkpoint(self.files.last)
        allowed = self._guard_allows()
        improved = allowed and (self.pos.best_val is None or val < self.pos.best_val)
        if improved:
            self.pos.best_val, self.pos.bad_epochs = val, 0
            self._save_checkpoint(self.files.best)
        else:
            self.pos.bad_epochs += 1
        if self.dist.is_main:
            self._save_state()
        self._emit("epoch")
        return improved

    def _guard_allows(self) -> bool:
        """Ask the epoch guard (rank 0) whether this epoch's weights may become the best."""
        refused = False
        if self.epoch_guard is not None and self.dist.is_main:
            refused = not self.epoch_guard(self.files.last, self.pos.epoch)
        if refused:
            self.pos.history.setdefault("refused_epochs", []).append(self.pos.epoch)
        return not self.dist.any(refused)[0]

    def _validate(self) -> float:
        self.model.eval()
        total = torch.zeros((), dtype=torch.float64)
        with torch.no_grad():
            for b in range(self.dist.rank, len(self.val_plan.batches), self.dist.world):
                seqs = [self.val_plan.sequences[i] for i in self.val_plan.batches[b]]
                inputs, targets = (t.to(self.dist.device) for t in collate(seqs, self.prep.pad_id))
                total += self._nll(self.model, inputs, targets).double().cpu()
        self.model.train()
        return float(self.dist.sum(total.to(self.dist.device))) / LN2 / self.val_notes

    def _save_all(self) -> None:
        """The last checkpoint and the resume state (mid-epoch saves and stops)."""
        if self.dist.is_main:
            self._save_checkpoint(self.files.last)
            self._save_state()

    def _save_checkpoint(self, path: Path) -> None:
        if not self.dist.is_main:
            return
        from musicgen.checkpoint import save_checkpoint

        meta = checkpoint_metadata(self.config, self.prep, self._metrics(), self._elapsed())
        save_checkpoint(path, self.model, meta)

    def _ensure_best(self) -> None:
        """A run stopped before its first validation still leaves a loadable model."""
        if self.dist.is_main and not self.files.best.exists():
            self._save_checkpoint(self.files.best)

    def _save_state(self) -> None:
        self.pos.elapsed_s = self._elapsed()
        extra = {"training": self.config.to_dict(),
                 "model": {"kind": self.prep.kind, "config": self.prep.model_config_dict},
                 "corpus": {"fingerprint": getattr(self.corpus, "fingerprint", None)}}
        save_state(self.files.state, self.model, self.optimizer, self.pos, extra)

    def _interrupt(self) -> None:
        self._save_all()
        self._ensure_best()
        self.dist.barrier()
        raise Cancelled(f"Training stopped at step {self.pos.step}; continue it with --resume "
                        f"(state in {self.files.folder}).")

    # --- reporting --------------------------------------------------------------------------
    def _elapsed(self) -> float:
        return self.elapsed_base + (time.monotonic() - self.session_start)

    def _budget_spent(self) -> bool:
        """Out of time; a session always takes at least one step, so even a budget that setup
        (or an earlier session) used up trains and validates once."""
        return (bool(self.config.minutes) and self.session_steps > 0
                and self._elapsed() >= self.config.minutes * 60.0)

    def _metrics(self) -> dict[str, Any]:
        return {"val_bits_per_note": self.pos.best_val, "last_val_bits_per_note": self.pos.last_val,
                "train_loss": self._epoch_loss(), "steps": self.pos.step,
                "epochs": self.pos.epoch}

    def _epoch_loss(self) -> float:
        losses = self.epoch_losses
        return sum(losses) / len(losses) if losses else self.last_loss

    def _emit(self, event: str) -> None:
        progress = TrainProgress(
            event=event, step=self.pos.step, total_steps=self.pos.horizon,
            epoch=self.pos.epoch + (0 if event in ("epoch", "init") else 1), loss=self.last_loss,
            lr=self.last_lr, tokens_per_s=self.tokens_per_s, val_bits_per_note=self.pos.last_val,
            elapsed_s=self._elapsed(), padding_fraction=self.padding[-1] if self.padding else 0.0,
            budget_s=self.config.minutes * 60.0 if self.config.minutes else None,
            seconds_per_step=self.step_seconds / self.session_steps if self.session_steps else 0.0,
            train_bits_per_note=self.last_loss / LN2 * self.tokens_per_note,
            best_val_bits_per_note=self.pos.best_val)
        if self.dist.is_main:
            self.log.append({k: v for k, v in progress.__dict__.items()})
        for listener in self.listeners:
            listener(progress)

    def _finish(self, reason: str) -> TrainResult:
        plot = None
        self._ensure_best()
        if self.dist.is_main:
            if self.plot:
                plot = plot_losses(self.log.read(), self.files.plot,
                                   f"{self.prep.kind} on {self.prep.corpus_name}")
            self._emit("done")
        self.dist.barrier()
        best = self.pos.best_val if self.pos.best_val is not None else self.pos.last_val
        return TrainResult(
            checkpoint=self.files.best,
            last_checkpoint=self.files.last,
            best_val_bits_per_note=float(best),
            last_val_bits_per_note=float(self.pos.last_val), train_loss=self._epoch_loss(),
            steps=self.pos.step, epochs=self.pos.epoch, stop_reason=reason,
            wall_time_s=self._elapsed(),
            tokens_per_s=self.session_tokens / max(self.step_seconds, 1e-9),
            padding_fraction=sum(self.padding) / max(1, len(self.padding)),
            metrics_path=self.log.path, plot_path=plot,
            init_val_bits_per_note=self.pos.history.get("init_val"),
            refused_epochs=tuple(self.pos.history.get("refused_epochs", ())))


def _make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (biases and norm gains are 1-D: no decay)."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.dim() >= 2 else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.peak_lr, betas=(0.9, 0.99))

