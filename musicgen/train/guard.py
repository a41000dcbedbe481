"""Guarded fine-tuning on a user's tunes: the hold-out, the tune-count check and the copy guard.

- `hold_out(corpus)`: about a tenth of the user's distinct tunes (at least one), picked by the hash
  of their transposition-invariant content so the choice is stable and identical tunes stay
  together, become the validation split: the best checkpoint is chosen on them and the model card
  reports bits per note on them before and after. Everything else is trained on.
- `check_tune_count(corpus)`: fewer than `MIN_TUNES` distinct tunes cannot be split into tunes to
  learn from and tunes to measure on (`CorpusError`, saying how many are needed);
  `tune_count_advice` says when there are fewer than `RECOMMENDED_TUNES`: fine-tuning the shipped
  LSTM for a minute on the first 3, 5, 10, 20, 40 or 80 tunes of an unseen Irish book
  (`benchmarks/bench_finetune.py --sizes`) predicted 60 other tunes of the book better only from 80
  on (3-10: the base model stayed the best on the hold-out; 20: +2.7 %, 40: +0.6 %, 80: -0.4 %
  bits per note). Music unlike the folk corpus gains sooner (60 Bach chorales: -14 % in a minute).
- `CopyGuard`: after each pass, continues the openings of some training tunes with the epoch's
  weights (through `musicgen.pipeline`, as the app would) and counts continuations that share
  ``copy_bars`` or more bars with a training tune, matched on intervals and durations
  (`musicgen.evaluate.stats.CopyIndex`), so transposed copies count. The same figure for the base
  model (or, for a new model, for the user's held-out tunes themselves) is the reference; an
  epoch whose share rises more than `RISE_MARGIN` above it is refused as the best checkpoint
  (`train(..., epoch_guard=...)`), so the model kept is the last one from before the rise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from musicgen.corpus.tunes import Corpus, content_key
from musicgen.errors import CorpusError, GenerationError
from musicgen.melody import Melody
from musicgen.progress import StopFn

__all__ = [
    "HOLDOUT_FRACTION", "MIN_TUNES", "RECOMMENDED_TUNES", "RISE_MARGIN", "CopyCheck", "CopyGuard",
    "check_tune_count", "hold_out", "too_few_tunes", "tune_count_advice",
]

HOLDOUT_FRACTION = 0.1
MIN_TUNES = 3  # one to hold out and two to learn from: below this nothing can be measured
RECOMMENDED_TUNES = 80  # measured by bench_finetune.py --sizes: see the module docstring
RISE_MARGIN = 0.05  # one more copy in 32 samples is noise; two more (6 %) is a rise


def distinct_tunes(corpus: Corpus) -> int:
    return len({content_key(t.melody) for t in corpus.tunes})


def check_tune_count(corpus: Corpus, where: str = "") -> int:
    """The number of distinct tunes; CorpusError (with the number needed) below `MIN_TUNES`."""
    count = distinct_tunes(corpus)
    if count < MIN_TUNES:
        raise CorpusError(too_few_tunes(count, where))
    return count


def too_few_tunes(count: int, where: str = "") -> str:
    """The sentence for a folder with fewer than `MIN_TUNES` different tunes."""
    source = f" in {where}" if where else ""
    return (f"Only {count} different tune{'s' if count != 1 else ''} could be read{source}: "
            f"fine-tuning needs at least {MIN_TUNES} (one held out to measure the model on, the "
            f"others to learn from), and {RECOMMENDED_TUNES} or more to predict your music "
            "better than the model you start from.")


def tune_count_advice(count: int) -> str | None:
    """A sentence for a corpus that can be trained on but is smaller than recommended."""
    if count >= RECOMMENDED_TUNES:
        return None
    return (f"Only {count} tunes. On folk tunes like those the models learned from, fine-tuning "
            f"needed about {RECOMMENDED_TUNES} before it predicted the rest of a tune book better "
            "(measured); music unlike theirs gains sooner. The held-out figure and the copy guard "
            "will tell.")


def hold_out(corpus: Corpus, fraction: float = HOLDOUT_FRACTION) -> Corpus:
    """The corpus with about `fraction` of its distinct tunes (at least one) as the validation
    split and the rest as training; see the module docstring."""
    check_tune_count(corpus)
    keys = [content_key(t.melody) for t in corpus.tunes]
    distinct = sorted(set(keys))
    held = set(distinct[: max(1, round(len(distinct) * fraction))])
    tunes = tuple(replace(t, split="val" if key in held else "train")
                  for t, key in zip(corpus.tunes, keys))
    return Corpus(corpus.name, tunes, f"{corpus.fingerprint}:holdout-{fraction:g}",
                  dict(corpus.report))


@dataclass(frozen=True)
class CopyCheck:
    """One measurement of copying: of the base model (epoch 0) or after a pass."""

    epoch: int
    copies: int  # samples that share `copy_bars` bars or more with a training tune
    samples: int
    reference_share: float  # the base model's share (or the held-out tunes' own, for a new model)
    risen: bool  # this pass copies more than the reference allows: not kept as the best

    @property
    def share(self) -> float:
        return self.copies / self.samples if self.samples else math.nan

    def to_dict(self) -> dict[str, object]:
        return {"epoch": self.epoch, "copies": self.copies, "samples": self.samples,
                "share": self.share if self.samples else None,
                "reference_share": self.reference_share,
                "risen": self.risen}


CheckListener = Callable[[CopyCheck], None]


class CopyGuard:
    """Measures copying after each pass and refuses passes that copy more than the reference."""

    def __init__(self, training: Sequence[Melody], *, seeds: int = 8, samples: int = 32,
                 seed_bars: int = 2, bars: int = 8, copy_bars: int = 4, rng_seed: int = 1234,
                 listeners: Sequence[CheckListener] = (), should_stop: StopFn | None = None
                 ) -> None:
        from musicgen.evaluate.stats import CopyIndex

        self.index = CopyIndex(training)
        self.seed_bars, self.bars, self.copy_bars = seed_bars, bars, copy_bars
        self.rng_seed = rng_seed
        self.seeds = _seed_openings(training, seeds, seed_bars)
        # about `samples` continuations however few tunes there are to take openings from
        self.variations = math.ceil(samples / len(self.seeds)) if self.seeds else 0
        self.listeners = list(listeners)
        self.should_stop = should_stop
        self.reference: float | None = None
        self.checks: list[CopyCheck] = []

    # --- the reference -------------------------------------------------------------------------
    def measure_base(self, checkpoint: str | Path) -> CopyCheck:
        """The base model's copying: the reference later passes are held to."""
        copies, samples = self.count_copies(checkpoint, self.should_stop)
        self.reference = copies / samples if samples else 0.0
        return self._record(CopyCheck(0, copies, samples, self.reference, False))

    def measure_real(self, held_out: Sequence[Melody]) -> CopyCheck:
        """For a new model: how often the user's held-out tunes share as many bars with a
        training tune (the corpus's own repetition), the reference a new model is held to."""
        copies = sum(1 for m in held_out if self._copies(m))
        self.reference = copies / len(held_out) if held_out else 0.0
        return self._record(CopyCheck(0, copies, len(held_out), self.reference, False))

    def restore(self, checks: Sequence[dict]) -> None:
        """Take back the checks of an earlier session of the same run (resume)."""
        for c in checks:
            check = CopyCheck(int(c["epoch"]), int(c["copies"]), int(c["samples"]),
                              float(c["reference_share"]), bool(c["risen"]))
            self.checks.append(check)
            if check.epoch == 0:
                self.reference = check.reference_share

    # --- each pass -----------------------------------------------------------------------------
    def __call__(self, last_checkpoint: Path, epoch: int) -> bool:
        """`train`'s epoch guard: True when this pass may become the best checkpoint."""
        copies, samples = self.count_copies(last_checkpoint)
        reference = self.reference if self.reference is not None else 0.0
        risen = samples > 0 and copies / samples > reference + RISE_MARGIN
        self._record(CopyCheck(epoch, copies, samples, reference, risen))
        return not risen

    def count_copies(self, checkpoint: str | Path,
                     should_stop: StopFn | None = None) -> tuple[int, int]:
        """(copying samples, samples) of continuations of the seed openings by a checkpoint.

        A pass is measured to the end (a few seconds): a stop asked meanwhile is taken by the
        training loop at its next step, which saves the run whole."""
        from musicgen import pipeline
        from musicgen.generation import GenerationConfig

        if not self.seeds:
            return 0, 0
        generator = pipeline.load_generator(checkpoint)
        config = GenerationConfig(bars=self.bars, variations=self.variations,
                                  rng_seed=self.rng_seed)
        copies = samples = 0
        for seed in self.seeds:
            try:
                melodies = pipeline.continue_melody(seed, generator, config,
                                                    should_stop=should_stop)
            except GenerationError:  # a seed the sampler cannot continue: measured without it
                continue
            for melody in melodies:
                copies += int(self._copies(melody.continuation))
                samples += 1
        return copies, samples

    def _copies(self, melody: Melody) -> bool:
        return self.index.longest_run(melody)[1] >= self.copy_bars * melody.meter.bar_ticks

    def _record(self, check: CopyCheck) -> CopyCheck:
        self.checks.append(check)
        for listener in self.listeners:
            listener(check)
        return check

    @property
    def rose(self) -> bool:
        return any(c.risen for c in self.checks)


def _seed_openings(tunes: Sequence[Melody], count: int, seed_bars: int) -> list[Melody]:
    """The first bars of up to `count` training tunes, the longest first (a long tune has the
    most to copy), ties broken by content hash so the choice is stable."""
    usable = [m for m in tunes if m.bar_count > seed_bars and m.first_bars(seed_bars).note_count]
    chosen = sorted(usable, key=lambda m: (-m.bar_count, content_key(m)))[:count]
    return [m.first_bars(seed_bars) for m in chosen]
