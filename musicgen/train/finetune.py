"""Train on a user's own tunes, guarded: the one call the app's dialog and the benchmark make.

``fine_tune(plan)`` reads the folder of tunes (`musicgen.corpus.load_corpus`: the report of what
was read and skipped), holds out about a tenth of the tunes (`guard.hold_out`), measures the base
model's copying (`guard.CopyGuard`), trains (`loop.train`: the base model is validated first and
stays the best checkpoint until a pass beats it on the held-out tunes; a pass that copies more than
the base is never kept), and writes the model card (`card.write_card`). The model lands
as ``<models folder>/<name>.safetensors`` (+ ``.json``, ``.md``) with its run folder beside it
(`run_folder.py`), where ``plan.json`` keeps the plan and the copy checks, so ``resume=True``
continues a stopped run in a later session of the app.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from musicgen.errors import Cancelled, TrainingError
from musicgen.progress import ProgressFn, StopFn, report
from musicgen.train.guard import HOLDOUT_FRACTION, CopyCheck, CopyGuard, check_tune_count, hold_out
from musicgen.train.run_folder import RunFiles, run_files

__all__ = ["FINETUNE_BATCH_TOKENS", "FINETUNE_LR", "FineTunePlan", "FineTuneResult", "fine_tune", "import_tunes",
           "read_plan", "unfinished_runs"]

# Peak learning rates for fine-tuning a shipped model on a few hundred tunes, measured by
# benchmarks/bench_finetune.py --lr-sweep on 300 unseen Irish tunes (LSTM, 1.5 minutes: 3e-4
# -1.2 %, 1e-3 -1.1 %, 3e-3 -0.5 % held-out bits per note; a 5-minute run at 1e-3 was best after
# its first pass and overfitted after). Measured again on a folk book the models never saw, 300
# reels of the Nottingham Music Database, 5 minutes: 3e-4 -7.3 %, 1e-3 -7.0 %, 3e-3 -4.1 %.
# The from-scratch rates of TrainConfig overshoot.
FINETUNE_LR = {"lstm": 3e-4, "transformer": 5e-4}
# The most padded tokens in a training batch: this bounds activation memory (a whole Irish reel
# with its repeats is ~1000 tokens; one Transformer window of 512 holds ~85 MB of activations for
# the backward pass). Peak memory of a 5-minute fine-tune in the app's worker (bench_finetune.py):
# LSTM at 4096 tokens 841 MB; Transformer at 16 windows 2.99 GB, 4096 tokens 2.68 GB, 2048 tokens
# 1.74 GB, and 786 MB once the task returns freed memory (`gui.train_tasks`).
FINETUNE_BATCH_TOKENS = {"lstm": 4096, "transformer": 2048}
PLAN_FORMAT = "musicgen-finetune-plan"


@dataclass(frozen=True)
class FineTunePlan:
    """What the user asked for; saved in the run folder, so a stopped run resumes as it was."""

    name: str  # the model's name in the library (its file stem)
    corpus: str  # the folder of tunes
    base: str | None = "lstm"  # the model to fine-tune (library name or path); None: a new one
    kind: str = "lstm"  # the new model's kind (a base model's own kind wins)
    preset: str = "small"  # the new model's size preset
    minutes: float | None = 5.0  # time budget; None: `epochs` passes
    epochs: int | None = None  # passes over the tunes (with no time budget)
    lr: float | None = None  # None: FINETUNE_LR (fine-tuning) or the kind's default (new model)
    batch_size: int = 16  # the most tunes in a batch
    batch_tokens: int | None = None  # ... and the most padded tokens; None: FINETUNE_BATCH_TOKENS
    patience: int = 5  # passes without a better held-out figure before stopping; 0 never
    seed: int = 0
    holdout_fraction: float = HOLDOUT_FRACTION
    copy_guard: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FineTunePlan:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def train_config(self, kind: str) -> Any:
        from musicgen.train.config import TrainConfig

        lr = self.lr if self.lr is not None else (FINETUNE_LR[kind] if self.base else None)
        epochs = self.epochs if self.epochs is not None else (100_000 if self.minutes else 10)
        return TrainConfig(model=kind, preset=self.preset, batch_size=self.batch_size,
                           batch_tokens=(self.batch_tokens if self.batch_tokens is not None
                                         else FINETUNE_BATCH_TOKENS[kind]), lr=lr,
                           warmup_steps=20 if self.base else 100, max_epochs=epochs,
                           minutes=self.minutes if self.epochs is None else None,
                           patience=self.patience, seed=self.seed, save_every_seconds=60.0)


@dataclass(frozen=True)
class FineTuneResult:
    """What a finished (or stopped) fine-tune left in the library."""

    checkpoint: Path
    card: Path
    summary: dict[str, Any]  # the card's figures, as saved in the checkpoint's JSON ("finetune")
    checks: tuple[CopyCheck, ...]
    stop_reason: str  # "minutes", "epochs", "early-stopping" or "stopped"


CheckListener = Callable[[CopyCheck], None]


def fine_tune(
    plan: FineTunePlan,
    *,
    out_stem: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
    on_copy_check: CheckListener | None = None,
    plot: bool = True,
    corpus: Any = None,
) -> FineTuneResult:
    """Run (or resume) ``plan``; see the module docstring. Stopping raises `Cancelled` after the
    card of the best model so far is written. ``plot=False`` skips the run folder's loss PNG (the
    app plots live); ``corpus`` is ``plan.corpus`` already loaded (the app read it for its report:
    loading parses JSON for ~50 ms at a time, holding the interpreter lock)."""
    from musicgen.corpus import load_corpus
    from musicgen.train.loop import train
    from musicgen.userdirs import models_dir

    files = run_files(out_stem if out_stem is not None else models_dir() / plan.name)
    _check_target(files, resume, overwrite)
    if corpus is None:
        corpus = load_corpus(plan.corpus, on_progress=on_progress, should_stop=should_stop)
    check_tune_count(corpus, plan.corpus)
    held = hold_out(corpus, plan.holdout_fraction)
    base_path, kind = _base(plan)
    guard = _make_guard(plan, files, held, on_copy_check, should_stop)
    if resume:
        guard.restore(read_plan(files)["checks"])
    else:
        _measure_reference(files, plan, guard, held, base_path, on_progress)
    config = plan.train_config(kind)
    try:
        result = train(config, held, out_path=files.stem, init_checkpoint=base_path,
                       resume=resume, on_progress=on_progress, should_stop=should_stop,
                       callbacks=callbacks, epoch_guard=guard if plan.copy_guard else None,
                       plot=plot)
    except Cancelled:
        if files.best.exists():
            _finish(files, plan, corpus, held, guard, "stopped")
        raise
    return _finish(files, plan, corpus, held, guard, result.stop_reason)


def _measure_reference(files: RunFiles, plan: FineTunePlan, guard: CopyGuard, held: Any,
                       base_path: Path | None, on_progress: ProgressFn | None) -> None:
    """Start the run folder and measure the copying later passes are held to."""
    files.folder.mkdir(parents=True, exist_ok=True)
    _write_plan(files, plan, [])
    report(on_progress, 0, 0, "measuring how often the base model copies your tunes")
    try:
        if base_path is not None:
            guard.measure_base(base_path)
        else:
            guard.measure_real([t.melody for t in held.split("val")])
    except Cancelled:  # stopped before training began: nothing to keep or resume
        files.delete()
        raise


def _check_target(files: RunFiles, resume: bool, overwrite: bool) -> None:
    if resume:
        if not files.plan.exists():
            raise TrainingError(f"There is no stopped run of '{files.name}' to resume.")
        return
    if files.best.exists() or files.folder.exists():
        if not overwrite:
            raise TrainingError(f"A model named '{files.name}' already exists: choose another "
                                "name, or delete it first.")
        files.delete()


def _base(plan: FineTunePlan) -> tuple[Path | None, str]:
    """The base checkpoint's path and kind (read from its JSON, no torch); (None, kind) for new."""
    if plan.base is None:
        return None, plan.kind
    from musicgen.checkpoint import read_checkpoint_metadata
    from musicgen.library import resolve_checkpoint

    path = resolve_checkpoint(plan.base)
    return path, str(read_checkpoint_metadata(path)["model"]["kind"])


def _make_guard(plan: FineTunePlan, files: RunFiles, held: Any,
                on_copy_check: CheckListener | None, should_stop: StopFn | None) -> CopyGuard:
    guard = CopyGuard([t.melody for t in held.split("train")], rng_seed=1234 + plan.seed,
                      should_stop=should_stop)  # stops the base model's measurement only

    def keep(_check: CopyCheck) -> None:  # every check goes into plan.json at once (resume)
        _write_plan(files, plan, [c.to_dict() for c in guard.checks])

    guard.listeners.append(keep)
    if on_copy_check is not None:
        guard.listeners.append(on_copy_check)
    return guard


def _write_plan(files: RunFiles, plan: FineTunePlan, checks: list[dict]) -> None:
    from musicgen.io.atomic import atomic_write_text

    document = {"format": PLAN_FORMAT, "plan": plan.to_dict(), "checks": checks}
    atomic_write_text(files.plan, json.dumps(document, indent=1))


def read_plan(files: RunFiles) -> dict[str, Any]:
    """The run folder's plan.json: {"plan": FineTunePlan, "checks": [...]}; TrainingError if bad."""
    try:
        document = json.loads(files.plan.read_text(encoding="utf-8"))
        if document.get("format") != PLAN_FORMAT:
            raise ValueError("not a fine-tune plan")
        return {"plan": FineTunePlan.from_dict(document["plan"]), "checks": document["checks"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"Cannot read the run of '{files.name}' ({files.plan}): "
                            f"{exc}") from exc


def _finish(files: RunFiles, plan: FineTunePlan, corpus: Any, held: Any, guard: CopyGuard,
            stop_reason: str) -> FineTuneResult:
    """Write the card of the model kept and put its summary into its checkpoint JSON."""
    from musicgen.train.card import write_card

    summary = _summary(files, plan, corpus, held, guard, stop_reason)
    card = write_card(files.best, summary)
    return FineTuneResult(files.best, card, summary, tuple(guard.checks), stop_reason)


def _summary(files: RunFiles, plan: FineTunePlan, corpus: Any, held: Any, guard: CopyGuard,
             stop_reason: str) -> dict[str, Any]:
    from musicgen.checkpoint import read_checkpoint_metadata

    best = read_checkpoint_metadata(files.best)
    state = _read_state_position(files)
    kept_epoch = int(best.get("metrics", {}).get("epochs") or 0)
    kept = [c for c in guard.checks if c.epoch == kept_epoch]
    held_out = held.split("val")
    return {
        "plan": plan.to_dict(),
        "base": None if plan.base is None else Path(str(best.get("init_checkpoint") or
                                                        plan.base)).stem,
        "corpus": _corpus_summary(corpus, plan.corpus),
        "held_out": {"tunes": len(held_out), "notes": sum(t.melody.note_count for t in held_out),
                     "bits_per_note_before": state.get("history", {}).get("init_val"),
                     "bits_per_note_after": best.get("metrics", {}).get("val_bits_per_note")},
        "copies": {"reference_share": guard.reference, "kept_share": kept[0].share if kept
                   else None, "rose": guard.rose, "samples": kept[0].samples if kept else None,
                   "kept_epoch": kept_epoch, "checks": [c.to_dict() for c in guard.checks]},
        "training": {"stop_reason": stop_reason, "epochs": state.get("epoch"),
                     "steps": state.get("step"), "wall_time_s": round(state.get("elapsed_s", 0))},
        "hardware": best.get("hardware"),
        "torch_version": best.get("torch_version"),
    }


def _read_state_position(files: RunFiles) -> dict[str, Any]:
    try:
        document = json.loads(files.state.with_suffix(".json").read_text(encoding="utf-8"))
        return dict(document["meta"]["position"])
    except (OSError, ValueError, KeyError):
        return {}


def _corpus_summary(corpus: Any, folder: str) -> dict[str, Any]:
    rep = corpus.report or {}
    skipped = [{"source": t["source"], "title": t.get("title", ""), "reason": t["reason"]}
               for t in rep.get("failed_tunes", []) + rep.get("not_representable_tunes", [])]
    return {"folder": str(folder), "name": corpus.name, "kept": len(corpus.tunes),
            "found": len(corpus.tunes) + len(skipped), "skipped": skipped,
            "fingerprint": corpus.fingerprint}


def unfinished_runs(folder: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Fine-tunes in the models folder that were stopped and can be resumed: {name, plan,
    elapsed_s, epoch}, newest first."""
    from musicgen.userdirs import models_dir

    root = Path(folder) if folder is not None else models_dir()
    runs = []
    for plan_path in root.glob("*.run/plan.json"):
        files = run_files(plan_path.parent.with_suffix(""))
        position = _read_state_position(files)
        if not position or position.get("history", {}).get("stop_reason"):
            continue
        try:
            plan = read_plan(files)["plan"]
        except TrainingError:
            continue
        runs.append({"name": files.name, "plan": plan, "elapsed_s": position.get("elapsed_s", 0.0),
                     "epoch": position.get("epoch", 0), "mtime": plan_path.stat().st_mtime})
    return sorted(runs, key=lambda r: -r["mtime"])


def import_tunes(paths: Sequence[str | os.PathLike[str]], name: str = "") -> Path:
    """A folder of tunes from files and folders the user picked: a single folder is used as it
    is; otherwise the files are copied into one folder in the data folder (kept, so a run can
    resume from it later)."""
    from musicgen.corpus.sources import MELODY_SUFFIXES
    from musicgen.userdirs import data_dir

    resolved = [Path(p).expanduser().resolve() for p in paths]
    if len(resolved) == 1 and resolved[0].is_dir():
        return resolved[0]
    digest = hashlib.sha256("\n".join(sorted(map(str, resolved))).encode()).hexdigest()[:10]
    target = data_dir() / "imported-tunes" / f"{name or 'tunes'}-{digest}"
    target.mkdir(parents=True, exist_ok=True)
    for path in resolved:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file() and (f.suffix.lower() in MELODY_SUFFIXES or f.suffix.lower() == ".txt"):
                shutil.copy2(f, target / _unique_name(target, f))
    return target


def _unique_name(folder: Path, path: Path) -> str:
    """The file's name, made unique in `folder` when two picked files share it; ABC books saved
    as .txt get .abc (the corpus reads files by suffix)."""
    suffix = ".abc" if path.suffix.lower() == ".txt" else path.suffix
    candidate, n = f"{path.stem}{suffix}", 1
    while (folder / candidate).exists() and (folder / candidate).read_bytes() != path.read_bytes():
        n += 1
        candidate = f"{path.stem}-{n}{suffix}"
    return candidate
