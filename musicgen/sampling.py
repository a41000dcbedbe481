"""Sampling token ids from a next-token model: temperature, top-k, top-p, constraint masks, variations.

Ids only: this module knows the engine interface (`musicgen.engine`: ``new_state``/``run``/
``step``/``select``) and the vocabulary's grammar tracker, never a note or a file. One call samples
K variations together as one batch: the seed is consumed once with batch 1, its state duplicated
into K rows, then every step feeds one token per row. A torch model is accepted too (evaluation
passes one) and runs through `musicgen.engine.TorchEngine`; torch is never imported otherwise.

Constraints are masks over the next-token logits, built per row from the row's
`GrammarTracker.state_key()` and cached as rows of one table, so a step costs a dict lookup per
row and one gather, not a mask build:

- grammar (and the meter arithmetic when the tracker has ``meter_constraint``): the tracker's
  ``allowed()`` ids;
- banned ids (key lock, pitch range): removed unless that would leave nothing allowed (a tie must
  continue the seed's last pitch even when that pitch is outside the key).

Randomness comes only from the generator passed in (`musicgen.engine.choose.numpy_rng`): same
engine, seed ids, config and generator seed give the same ids on the same machine.
"""

from __future__ import annotations

import copy
import math
import threading
from typing import Any, Collection, Sequence

import numpy as np

from musicgen.cadence import CadenceTracker
from musicgen.engine import as_engine
from musicgen.engine.choose import Uniforms, choose_next, filter_logits, numpy_rng
from musicgen.engine.ops import log_softmax_at
from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig
from musicgen.progress import ProgressFn, StopFn, check_stop, report
from musicgen.tokens import BAR, BOS, EOS, PAD, PITCH, TIE, VOCAB, GrammarTracker, Vocabulary

__all__ = ["generate_ids", "filter_logits", "choose_next", "ConstraintMasks", "SAMPLING_THREADS"]

_PROGRESS_EVERY = 8  # steps between on_progress calls
# Compute threads while sampling (BLAS for the NumPy engine, torch's for a torch model), restored
# afterwards. One: a step's matrices are too small to split, and on a busy machine a second
# spinning thread made each torch step 20-50x slower (measured on the 2-core build machine).
SAMPLING_THREADS = 1
CLOSING_BARS = 2  # the bars whose model cost picks among cadence candidates
LN2 = math.log(2.0)


class ConstraintMasks:
    """Additive logit masks (0 allowed, -inf forbidden) per grammar state, cached as table rows.

    Two cache levels: the tracker's state key (one dict lookup per row and step) and, on a miss,
    the allowed ids themselves (many states allow the same ids), so a mask row is built once per
    distinct set. `ConstraintMasks.shared` reuses instances across calls.
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
        self._by_state: dict[Any, int] = {}
        self._by_allowed: dict[tuple[int, ...], int] = {}
        # taken on a cache miss only: the app samples and explains in two threads at once
        self.lock = threading.RLock()
        self._rows: list[np.ndarray] = []
        self._table = np.empty((0, vocab.size), np.float32)
        self.unconstrained_index = self._row(tuple(i for i in range(vocab.size) if i not in self.never))
        self.unconstrained = self._rows[self.unconstrained_index]  # (V,): only what never comes
        self.states = _States(self)

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

    def _row(self, allowed: tuple[int, ...]) -> int:
        index = self._by_allowed.get(allowed)
        if index is None:
            preferred = [i for i in allowed if i not in self.banned]
            bias = np.full(self.vocab.size, -np.inf, np.float32)
            bias[preferred or list(allowed)] = 0.0  # never leave a row with nothing to sample
            self._rows.append(bias)
            index = self._by_allowed[allowed] = len(self._rows) - 1
        return index

    def index(self, tracker: GrammarTracker) -> int:
        """The table row of the tracker's current state."""
        key = (tracker.bar_ticks, tracker.meter_constraint, tracker.state_key())
        index = self._by_state.get(key)
        if index is None:
            with self.lock:
                grammar = tracker.allowed()
                allowed = tuple(i for i in grammar if i not in self.never)
                index = self._by_state[key] = self._row(allowed or grammar)
        return index

    @property
    def table(self) -> np.ndarray:
        """Every mask built so far (rows, V); grows as new states are met."""
        if len(self._table) != len(self._rows):
            self._table = np.stack(self._rows)
        return self._table

    def for_tracker(self, tracker: GrammarTracker) -> np.ndarray:
        """The mask (V,) for the tracker's current state."""
        return self._rows[self.index(tracker)]


_SHARED: dict[Any, ConstraintMasks] = {}
_SHARED_LIMIT = 16


class _States:
    """Grammar states numbered (by `GrammarTracker.transition_key`), each with its mask row, and
    the state after each (state, id) memoised: a row's step is then a dict lookup and a list
    lookup, not a tracker update and a mask-key build. One per `ConstraintMasks`, so shared
    across calls like the masks; replaced by a fresh one when a call starts past `_STATES_LIMIT`
    transitions."""

    def __init__(self, masks: ConstraintMasks) -> None:
        self.masks = masks
        self.mask_rows: list[int] = []  # state -> its row of masks.table
        self.next: dict[int, int] = {}  # state * V + id -> state
        self._trackers: list[GrammarTracker] = []
        self._by_key: dict[tuple, int] = {}

    def number(self, tracker: GrammarTracker) -> int:
        """The tracker's state (numbered on first sight)."""
        key = tracker.transition_key()
        state = self._by_key.get(key)
        if state is None:
            with self.masks.lock:
                state = self._by_key.get(key)
                if state is None:
                    self.mask_rows.append(self.masks.index(tracker))
                    self._trackers.append(copy.copy(tracker))
                    state = self._by_key[key] = len(self._trackers) - 1
        return state

    def after(self, state: int, token_id: int) -> int:
        """The state after ``token_id`` from ``state`` (memoised in ``next``)."""
        tracker = copy.copy(self._trackers[state])
        tracker.advance(token_id)
        following = self.number(tracker)
        self.next[state * self.masks.vocab.size + token_id] = following  # after it exists
        return following


_STATES_LIMIT = 500_000


class _Row:
    """Bookkeeping for one variation: its tracker, its ids and why it stopped."""

    __slots__ = ("tracker", "state", "ids", "bars", "notes", "done", "last_kind", "closing_bits",
                 "closing_notes")

    def __init__(self, tracker: GrammarTracker | None) -> None:
        self.tracker = tracker
        self.state = -1  # its number in `_States` when the grammar's transitions are memoised
        self.ids: list[int] = []
        self.bars = 0
        self.notes = 0
        self.done = False
        self.last_kind = -1
        self.closing_bits = 0.0  # the model's surprise at the closing bars (cadence candidates)
        self.closing_notes = 0

    def closing_cost(self) -> tuple[bool, float]:
        """How a cadence candidate ranks (lower first): whether it loops on itself, then the bits
        per note the unconstrained model spent on its closing bars.

        The model's surprise alone favours the most predictable closing, and a phrase repeating
        itself bar for bar is the most predictable of all (measured: with 4 candidates, picked
        that way, a jig continuation played its own 4-bar phrase three times), so a candidate
        that restates 4 or more of its own bars goes last. Restating the seed is not a loop: a
        tune's A part coming back is music.
        """
        return _loops(self.ids), self.closing_bits / max(1, self.closing_notes)

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
    rng: Any = None,
    vocab: Vocabulary = VOCAB,
    use_cache: bool = True,
    threads: int = SAMPLING_THREADS,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[list[int]]:
    """Continue ``seed_ids`` K = ``config.variations`` times; the sampled ids of each row.

    ``model`` is an engine (`musicgen.engine`) or a torch next-token model. ``rng`` is a NumPy
    generator, a seed, a `torch.Generator` or None (see `musicgen.engine.choose.numpy_rng`), or a
    list of them, one per variation: each variation then draws from its own generator, so it can
    be sampled again alone (``variations=1`` with its generator) and come out the same.
    A row stops after ``config.bars`` bar lines, ``config.max_notes`` notes, ``config.token_limit``
    tokens, or at the end token when ``config.stop_at_end``. ``tracker`` is the grammar state after
    the seed (copied per row; None samples without the grammar); ``banned_ids`` are never sampled
    where the grammar leaves another choice. ``use_cache=False`` recomputes the whole context every
    step (benchmarks and tests only); ``threads`` 0 keeps the library's setting. Raises `Cancelled`
    within one step of ``should_stop()`` turning true.

    With a `CadenceTracker` (``config.cadence``), each variation is drawn ``config.cadence_candidates``
    times under the closing bar's masks, and the candidate whose closing bars the unconstrained
    model finds least surprising (bits per note) is kept: the ending is the model's own, chosen
    among several, never edited.
    """
    if not seed_ids:
        raise GenerationError("the seed holds no tokens to continue")
    engine = as_engine(model)
    cadence = isinstance(tracker, CadenceTracker)
    per_variation = config.cadence_candidates if cadence else 1
    masks = ConstraintMasks.shared(vocab, banned_ids, allow_end=config.stop_at_end and not cadence)
    count = config.variations * per_variation
    rows = [_Row(copy.copy(tracker) if tracker is not None else None) for _ in range(count)]
    if isinstance(rng, (list, tuple)):
        if len(rng) != config.variations:
            raise GenerationError(f"{len(rng)} random generators for {config.variations} variations")
        generators: Any = [numpy_rng(r) for r in rng]
    else:
        generators = numpy_rng(rng)
    noise = None if config.temperature == 0 else Uniforms(generators, count)
    with engine.running(threads):
        stepper = _CachedStepper if use_cache else _RecomputeStepper
        step = stepper(engine, list(seed_ids), count)
        closing_from = (config.bars or 0) - CLOSING_BARS if cadence else None
        _sample_loop(step, config, rows, masks, noise, vocab, (on_progress, should_stop), closing_from)
    if per_variation == 1:
        return [row.ids for row in rows]
    groups = [rows[i:i + per_variation] for i in range(0, len(rows), per_variation)]
    return [min(group, key=_Row.closing_cost).ids for group in groups]


def _sample_loop(
    step: _CachedStepper | _RecomputeStepper,
    config: GenerationConfig,
    rows: list[_Row],
    masks: ConstraintMasks,
    noise: Uniforms | None,
    vocab: Vocabulary,
    progress: tuple[ProgressFn | None, StopFn | None],
    closing_from: int | None = None,
) -> None:
    """Sample until every row is done. With ``closing_from`` (a bar count), each row also adds up
    the unconstrained model's bits for the tokens it takes from that bar on."""
    on_progress, should_stop = progress
    logits = step.first_logits()  # (K, V)
    kinds, pad = vocab.kinds, vocab.pad_id
    settings = (config.temperature, config.top_k, config.top_p)
    states = masks.states if all(row.tracker is not None and row.tracker.transition_key()
                                 is not None for row in rows) else None
    if states is not None and len(states.next) > _STATES_LIMIT:
        states = masks.states = _States(masks)
    if states is not None:
        for row in rows:
            row.state = states.number(row.tracker)  # type: ignore[arg-type]
    mask_index = np.array([_mask_row(row, masks, states) for row in rows])
    masked, made_for = None, None  # (K, V): a step's logits plus its masks, drawn from in place
    done_rows = 0
    for count in range(config.token_limit):
        if should_stop is not None:
            check_stop(should_stop, "generation")
        table = masks.table
        if logits.dtype is not made_for:  # (K, V) every step; the type `logits + mask` has
            masked = np.empty(logits.shape, np.result_type(logits, table))
            made_for = logits.dtype
        np.add(logits, table[mask_index[0]] if len(rows) == 1 else table[mask_index], out=masked)
        chosen = choose_next(masked, *settings, noise)  # (K,)
        if closing_from is not None and any(r.bars >= closing_from for r in rows):
            bits = (log_softmax_at(logits, chosen) / -LN2).tolist()  # -log2 p, temperature 1
            for row, token_id, cost in zip(rows, chosen.tolist(), bits):
                if not row.done and row.bars >= closing_from:
                    row.closing_bits += cost
                    row.closing_notes += kinds[token_id] == PITCH and row.last_kind != TIE
        finished = [row.done for row in rows] if done_rows else None  # rows done before this step
        done_rows = _take(rows, chosen, kinds, config, masks, states, mask_index)
        if on_progress is not None and (count % _PROGRESS_EVERY == 0 or done_rows == len(rows)):
            report(on_progress, sum(r.progress(config) for r in rows) / len(rows), 1.0, "generating")
        if done_rows == len(rows):
            return
        if finished:  # finished rows keep stepping (one batch) on padding, ignored
            chosen = np.where(finished, pad, chosen)
        logits = step(chosen)


def _mask_row(row: _Row, masks: ConstraintMasks, states: _States | None) -> int:
    """The row of ``masks.table`` for this row's next id (finished rows: unconstrained)."""
    if row.done or row.tracker is None:
        return masks.unconstrained_index
    if states is not None:
        return states.mask_rows[row.state]
    return masks.index(row.tracker)


LOOP_BARS = 4  # a continuation restating this many of its own bars in a row loops


def _loops(ids: Sequence[int], vocab: Vocabulary = VOCAB) -> bool:
    """True when a run of LOOP_BARS whole bars of ``ids`` equals an earlier run, token for token."""
    bars, current = [], []
    for token_id in ids:
        if vocab.kinds[token_id] == BAR:
            bars.append(tuple(current))
            current = []
        else:
            current.append(token_id)
    seen = set()
    for start in range(len(bars) - LOOP_BARS + 1):
        run = tuple(bars[start:start + LOOP_BARS])
        if run in seen:
            return True
        seen.add(run)
    return False


def _take(rows: list[_Row], chosen: np.ndarray, kinds: tuple[int, ...], config: GenerationConfig,
          masks: ConstraintMasks, states: _States | None, mask_index: np.ndarray) -> int:
    """Give each unfinished row its id, and set its mask row for the next step in ``mask_index``;
    how many rows are done now. One loop, its work inlined: it runs for every row and step."""
    done_now = 0
    limit, notes_wanted = config.token_limit, config.max_notes
    bars_wanted = limit if config.bars is None else config.bars  # a row has fewer bars than ids
    size = masks.vocab.size
    following = states.next if states is not None else None
    for r, token_id in enumerate(chosen.tolist()):
        row = rows[r]
        if row.done:
            done_now += 1
            continue
        kind = kinds[token_id]
        ids = row.ids
        ids.append(token_id)
        if kind == BAR:
            row.bars += 1
        elif kind == PITCH and row.last_kind != TIE:
            row.notes += 1
        row.last_kind = kind
        done = row.done = (
            kind == EOS or row.bars >= bars_wanted or len(ids) >= limit
            or (notes_wanted is not None and row.notes >= notes_wanted and kind != PITCH)
        )
        if following is not None:
            state = following.get(row.state * size + token_id)
            if state is None:
                state = states.after(row.state, token_id)  # type: ignore[union-attr]
            row.state = state
            mask_index[r] = (masks.unconstrained_index if done
                             else states.mask_rows[state])  # type: ignore[union-attr]
        else:
            if row.tracker is not None:
                row.tracker.advance(token_id)
            mask_index[r] = _mask_row(row, masks, None)
        done_now += done
    return done_now


class _CachedStepper:
    """Prefill the seed once (batch 1), copy its state into K rows, then one token per step."""

    def __init__(self, engine: Any, seed: list[int], k: int) -> None:
        self.engine = engine
        logits, state = engine.run(seed, engine.new_state(1))
        self.state = engine.select(state, np.zeros(k, dtype=np.int64))
        self.first = np.repeat(logits[-1:], k, axis=0)  # (K, V)

    def first_logits(self) -> np.ndarray:
        return self.first

    def __call__(self, fed: np.ndarray) -> np.ndarray:
        logits, self.state = self.engine.step(fed, self.state)
        return logits


class _RecomputeStepper:
    """No cache: every step runs ``forward`` over the whole (windowed) context of each row again."""

    def __init__(self, engine: Any, seed: list[int], k: int) -> None:
        self.engine = engine
        self.contexts = [list(seed) for _ in range(k)]
        self.window = engine.max_context

    def _logits(self) -> np.ndarray:
        window = self.window
        return np.stack([self.engine.forward(c if window is None else c[-window:])[-1]
                         for c in self.contexts])

    def first_logits(self) -> np.ndarray:
        return self._logits()

    def __call__(self, fed: np.ndarray) -> np.ndarray:
        for context, token_id in zip(self.contexts, fed.tolist()):
            context.append(token_id)
        return self._logits()
