"""Sampling token ids from a next-token model: temperature, top-k, top-p, constraint masks, variations.

Ids only: this module knows the model interface (``init_state``/``step``/``reorder_state``) and the
vocabulary's grammar tracker, never a note or a file. One call samples K variations together as one
batch: the seed is consumed once with batch 1, its state duplicated into K rows, then every step
feeds one token per row.

Constraints are masks over the next-token logits, built per row from the row's
`GrammarTracker.state_key()` and cached, so a step costs a dict lookup per row, not a mask build:

- grammar (and the meter arithmetic when the tracker has ``meter_constraint``): the tracker's
  ``allowed()`` ids;
- banned ids (key lock, pitch range): removed unless that would leave nothing allowed (a tie must
  continue the seed's last pitch even when that pitch is outside the key).

Randomness comes only from the `torch.Generator` passed in: same model, seed ids, config and
generator seed give the same ids on the same machine.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Collection, Sequence

import torch

from musicgen.cadence import CadenceTracker
from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.progress import ProgressFn, StopFn, check_stop, report
from musicgen.tokens import BAR, BOS, EOS, PAD, PITCH, TIE, VOCAB, GrammarTracker, Vocabulary

__all__ = ["generate_ids", "filter_logits", "choose_next", "ConstraintMasks", "SAMPLING_THREADS"]

_PROGRESS_EVERY = 8  # steps between on_progress calls
# torch intra-op threads while sampling, restored afterwards. One: a step's matrices are too small
# to split, and on a busy machine a second spinning thread made each step 20-50x slower (measured on
# the 2-core build machine).
SAMPLING_THREADS = 1
CLOSING_BARS = 2  # the bars whose model cost picks among cadence candidates
LN2 = math.log(2.0)


class ConstraintMasks:
    """Additive logit masks (0 allowed, -inf forbidden) per grammar state, cached.

    Two cache levels: the tracker's state key (one dict lookup per row and step) and, on a miss,
    the allowed ids themselves (many states allow the same ids), so a mask tensor is built once
    per distinct set. `ConstraintMasks.shared` reuses instances across calls.
    """

    def __init__(
        self, vocab: Vocabulary, banned_ids: Collection[int] = (), *, allow_end: bool = True
    ) -> None:
        self.vocab = vocab
        self.banned = frozenset(banned_ids)
        never = {i for i, kind in enumerate(vocab.kinds) if kind in (PAD, BOS)}
        if not allow_end:
            never.add(vocab.eos_id)
        self.never = frozenset(never)
        self._by_state: dict[Any, torch.Tensor] = {}
        self._by_allowed: dict[tuple[int, ...], torch.Tensor] = {}
        free = [i for i in range(vocab.size) if i not in self.never]
        self.unconstrained = self._bias(tuple(free))

    @classmethod
    def shared(
        cls, vocab: Vocabulary, banned_ids: Collection[int] = (), *, allow_end: bool = True
    ) -> ConstraintMasks:
        """A cached instance for these settings (a few are kept: key lock and range vary little)."""
        key = (vocab.version, vocab.transpose_to_c, frozenset(banned_ids), allow_end)
        masks = _SHARED.get(key)
        if masks is None or masks.vocab is not vocab:
            if len(_SHARED) >= _SHARED_LIMIT:
                _SHARED.pop(next(iter(_SHARED)))
            masks = _SHARED[key] = cls(vocab, banned_ids, allow_end=allow_end)
        return masks

    def _bias(self, allowed: tuple[int, ...]) -> torch.Tensor:
        bias = self._by_allowed.get(allowed)
        if bias is None:
            preferred = [i for i in allowed if i not in self.banned]
            ids = preferred or list(allowed)  # never leave a row with nothing to sample
            bias = torch.full((self.vocab.size,), float("-inf"))
            bias[torch.tensor(ids, dtype=torch.long)] = 0.0
            self._by_allowed[allowed] = bias
        return bias

    def for_tracker(self, tracker: GrammarTracker) -> torch.Tensor:
        """The mask (V,) for the tracker's current state."""
        key = (tracker.bar_ticks, tracker.meter_constraint, tracker.state_key())
        bias = self._by_state.get(key)
        if bias is None:
            grammar = tracker.allowed()
            allowed = tuple(i for i in grammar if i not in self.never)
            bias = self._by_state[key] = self._bias(allowed or grammar)
        return bias


_SHARED: dict[Any, ConstraintMasks] = {}
_SHARED_LIMIT = 16


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Logits (B, V) with everything outside the top-k and the top-p nucleus set to -inf."""
    vocab_size = logits.size(-1)
    if 0 < top_k < vocab_size:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
        probs = sorted_logits.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs  # probability of the more likely ids
        drop = mass_before >= top_p
        drop[:, 0] = False  # the most likely id always stays
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.empty_like(logits).scatter_(-1, order, sorted_logits)
    return logits


def choose_next(
    logits: torch.Tensor, config: GenerationConfig, rng: torch.Generator | None
) -> torch.Tensor:
    """Next ids (B,) from masked logits (B, V): argmax at temperature 0, else a filtered sample.

    Sampling uses the Gumbel-max trick, ``argmax(logits / T - log E)`` with ``E ~ Exp(1)``: an
    exact draw from ``softmax(logits / T)`` in a few fused ops (a step's sampler cost matters
    next to a small model's step). Forbidden ids (-inf) stay forbidden since ``E > 0``.
    """
    if config.temperature == 0:
        return logits.argmax(dim=-1)
    if config.temperature != 1.0:
        logits = logits / config.temperature
    logits = filter_logits(logits, config.top_k, config.top_p)
    noise = torch.empty_like(logits, dtype=torch.float32).exponential_(generator=rng)
    return (logits - noise.clamp_(min=1e-30).log_()).argmax(dim=-1)


class _Row:
    """Bookkeeping for one variation: its tracker, its ids and why it stopped."""

    __slots__ = ("tracker", "ids", "bars", "notes", "done", "last_kind", "closing_bits", "closing_notes")

    def __init__(self, tracker: GrammarTracker | None) -> None:
        self.tracker = tracker
        self.ids: list[int] = []
        self.bars = 0
        self.notes = 0
        self.done = False
        self.last_kind = -1
        self.closing_bits = 0.0  # the model's surprise at the closing bars (cadence candidates)
        self.closing_notes = 0

    def closing_cost(self) -> float:
        """Bits per note the model spent on the closing bars (lower reads more natural)."""
        return self.closing_bits / max(1, self.closing_notes)

    def take(self, token_id: int, kinds: tuple[int, ...], config: GenerationConfig) -> None:
        kind = kinds[token_id]
        self.ids.append(token_id)
        if self.tracker is not None:
            self.tracker.advance(token_id)
        if kind == BAR:
            self.bars += 1
        elif kind == PITCH and self.last_kind != TIE:
            self.notes += 1
        self.last_kind = kind
        self.done = (
            (kind == EOS)
            or (config.bars is not None and self.bars >= config.bars)
            or (config.max_notes is not None and self.notes >= config.max_notes and kind != PITCH)
            or len(self.ids) >= config.token_limit
        )

    def progress(self, config: GenerationConfig) -> float:
        if self.done:
            return 1.0
        if config.bars is not None:
            return self.bars / config.bars
        if config.max_notes is not None:
            return self.notes / config.max_notes
        return len(self.ids) / config.token_limit


def generate_ids(
    model: Any,
    seed_ids: Sequence[int],
    config: GenerationConfig,
    *,
    tracker: GrammarTracker | None = None,
    banned_ids: Collection[int] = (),
    rng: torch.Generator | None = None,
    vocab: Vocabulary = VOCAB,
    use_cache: bool = True,
    threads: int = SAMPLING_THREADS,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[list[int]]:
    """Continue ``seed_ids`` K = ``config.variations`` times; the sampled ids of each row.

    A row stops after ``config.bars`` bar lines, ``config.max_notes`` notes, ``config.token_limit``
    tokens, or at the end token when ``config.stop_at_end``. ``tracker`` is the grammar state after
    the seed (copied per row; None samples without the grammar); ``banned_ids`` are never sampled
    where the grammar leaves another choice. ``use_cache=False`` recomputes the whole context every
    step (benchmarks only); ``threads`` 0 keeps torch's setting. Raises `Cancelled` within one step
    of ``should_stop()`` turning true.

    With a `CadenceTracker` (``config.cadence``), each variation is drawn ``config.cadence_candidates``
    times under the closing bar's masks, and the candidate whose closing bars the unconstrained
    model finds least surprising (bits per note) is kept: the ending is the model's own, chosen
    among several, never edited.
    """
    if not seed_ids:
        raise GenerationError("the seed holds no tokens to continue")
    cadence = isinstance(tracker, CadenceTracker)
    per_variation = config.cadence_candidates if cadence else 1
    masks = ConstraintMasks.shared(vocab, banned_ids, allow_end=config.stop_at_end and not cadence)
    count = config.variations * per_variation
    rows = [_Row(copy.copy(tracker) if tracker is not None else None) for _ in range(count)]
    was_training, torch_threads = model.training, torch.get_num_threads()
    # Changing torch's thread count rebuilds its thread pool while holding the GIL (a stall the
    # app's window feels), so only change it when it differs.
    switch_threads = bool(threads) and threads != torch_threads
    model.eval()
    if switch_threads:
        torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            step = _CachedStepper(model, list(seed_ids), len(rows)) if use_cache \
                else _RecomputeStepper(model, list(seed_ids), len(rows))
            closing_from = (config.bars or 0) - CLOSING_BARS if cadence else None
            _sample_loop(step, config, rows, masks, rng, vocab, on_progress, should_stop, closing_from)
    finally:
        model.train(was_training)
        if switch_threads:
            torch.set_num_threads(torch_threads)
    if per_variation == 1:
        return [row.ids for row in rows]
    groups = [rows[i:i + per_variation] for i in range(0, len(rows), per_variation)]
    return [min(group, key=_Row.closing_cost).ids for group in groups]


def _row_masks(rows: list[_Row], masks: ConstraintMasks) -> torch.Tensor:
    """The (K, V) additive mask of every row (finished rows get the unconstrained one)."""
    biases = [
        masks.for_tracker(row.tracker) if row.tracker is not None and not row.done else masks.unconstrained
        for row in rows
    ]
    return biases[0] if len(biases) == 1 else torch.stack(biases)  # (V,) broadcasts for K = 1


def _sample_loop(
    step: _CachedStepper | _RecomputeStepper,
    config: GenerationConfig,
    rows: list[_Row],
    masks: ConstraintMasks,
    rng: torch.Generator | None,
    vocab: Vocabulary,
    on_progress: ProgressFn | None,
    should_stop: StopFn | None,
    closing_from: int | None = None,
) -> None:
    """Sample until every row is done. With ``closing_from`` (a bar count), each row also adds up
    the unconstrained model's bits for the tokens it takes from that bar on."""
    k = len(rows)
    logits = step.first_logits()  # (K, V)
    kinds, pad = vocab.kinds, vocab.pad_id
    for count in range(config.token_limit):
        check_stop(should_stop, "generation")
        chosen = choose_next(logits + _row_masks(rows, masks), config, rng)  # (K,)
        bits = None
        if closing_from is not None:  # -log2 p(chosen) under the model alone, temperature 1
            bits = (-torch.log_softmax(logits.float(), dim=-1).gather(1, chosen.view(-1, 1)) / LN2).view(-1).tolist()
        fed, any_done = [], False
        for i, (row, token_id) in enumerate(zip(rows, chosen.tolist())):
            if row.done:  # finished rows keep stepping (one batch) on padding, ignored
                fed.append(pad)
                any_done = True
                continue
            if bits is not None and row.bars >= closing_from:
                row.closing_bits += bits[i]
                row.closing_notes += kinds[token_id] == PITCH and row.last_kind != TIE
            row.take(token_id, kinds, config)
            fed.append(token_id)
        if on_progress is not None and (count % _PROGRESS_EVERY == 0 or all(r.done for r in rows)):
            report(on_progress, sum(r.progress(config) for r in rows) / k, 1.0, "generating")
        if all(row.done for row in rows):
            return
        logits = step(torch.tensor(fed) if any_done else chosen)


class _CachedStepper:
    """Prefill the seed once (batch 1), copy its state into K rows, then one token per step."""

    def __init__(self, model: Any, seed: list[int], k: int) -> None:
        self.model = model
        seed_tensor = torch.tensor([seed], dtype=torch.long)  # (1, T)
        logits, state = model.step(seed_tensor, model.init_state(1))
        self.state = model.reorder_state(state, torch.zeros(k, dtype=torch.long))
        self.first = logits[:, -1, :].expand(k, -1)  # (K, V)

    def first_logits(self) -> torch.Tensor:
        return self.first

    def __call__(self, fed: torch.Tensor) -> torch.Tensor:
        logits, self.state = self.model.step(fed.view(-1, 1), self.state)  # ids (K, 1)
        return logits[:, -1, :]


class _RecomputeStepper:
    """No cache: every step runs ``forward`` over the whole (windowed) context again."""

    def __init__(self, model: Any, seed: list[int], k: int) -> None:
        self.model = model
        self.context = torch.tensor([seed] * k, dtype=torch.long)  # (K, T)
        self.window = model.max_context

    def _logits(self) -> torch.Tensor:
        ids = self.context if self.window is None else self.context[:, -self.window :]
        logits, _ = self.model(ids)
        return logits[:, -1, :]

    def first_logits(self) -> torch.Tensor:
        return self._logits()

    def __call__(self, fed: torch.Tensor) -> torch.Tensor:
        self.context = torch.cat([self.context, fed.view(-1, 1)], dim=1)
        return self._logits()
