"""Ending on a cadence: where a continuation ends, and the grammar rule that closes its last bar.

A musician ends a tune, or a part, at the end of a phrase: phrases count from the tune's first full
bar and last `phrase_bars` bars (8, or 4), so a continuation of 8 bars after a 4-bar seed ends at
bar 16, the first phrase boundary at or after bar 12 (`cadence_bars`). Its last bar is complete and
its final note falls on a strong beat (`Meter.strong_positions`) on the tonic, or on the scale degree
the user picks, and lasts to the bar line.

`CadenceTracker` enforces that through the sampler's constraint masks, so the notes come from the
model's own distribution restricted to endings that work; nothing is moved after sampling. In the
closing bar, a note that does not end the tune must end by the bar's last strong beat, and only the
final pitch may start there; no note is tied into the closing bar. The sampler draws several
candidates and keeps the one whose closing bars the model finds most natural (`musicgen.sampling`).
Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from musicgen.melody import MODE_INTERVALS, Melody
from musicgen.tokens import MAX_DURATION, PITCH, GrammarTracker, Vocabulary

__all__ = ["CadenceRule", "CadenceTracker", "cadence_bars", "bars_since_first_full_bar"]


def bars_since_first_full_bar(melody: Melody) -> tuple[int, bool]:
    """(full bars the melody holds after its pickup, whether it ends mid-bar)."""
    body = max(0, melody.duration_ticks - melody.pickup_ticks)
    full, partial = divmod(body, melody.meter.bar_ticks)
    if melody.pickup_ticks and melody.duration_ticks < melody.pickup_ticks:
        return 0, True
    return full, partial > 0


def cadence_bars(seed: Melody, bars: int, phrase_bars: int) -> int:
    """Bars to sample after ``seed`` so that the music ends on the first phrase boundary at or after
    ``bars`` more bars (a seed ending mid-bar has that bar completed first, counted here)."""
    full, partial = bars_since_first_full_bar(seed)
    start = full + (1 if partial else 0)  # the bar the continuation starts after
    end = start + bars
    end = -(-end // phrase_bars) * phrase_bars  # round up to the phrase boundary
    return end - full


@dataclass(frozen=True)
class CadenceRule:
    """The closing bar's rule, in the encoded key (tonic C)."""

    final_bar: int  # the tracker's ``bars_done`` while it samples the closing bar
    final_pitch_class: int  # 0 is the tonic
    strong: tuple[int, ...]  # ticks in the bar where the final note may start

    @classmethod
    def for_continuation(cls, bars: int, mode: str, degree: int, strong: tuple[int, ...]) -> CadenceRule:
        """The rule for a continuation of ``bars`` sampled bars ending on ``degree`` of ``mode``."""
        return cls(final_bar=bars - 1, final_pitch_class=MODE_INTERVALS[mode][degree - 1] % 12,
                   strong=tuple(sorted(strong)))


class CadenceTracker(GrammarTracker):
    """A grammar tracker whose closing bar must end on the rule's final note (see the module doc)."""

    def __init__(self, base: GrammarTracker, rule: CadenceRule) -> None:
        # no super().__init__: the tracker continues from ``base``'s state, whatever it is
        self.__dict__.update(vars(base))
        self.rule = rule
        self.final = False  # the final note has started
        self._final_ids = _pitch_ids_of_class(base.vocab, rule.final_pitch_class)

    @property
    def closing(self) -> bool:
        return self.bars_done == self.rule.final_bar

    def state_key(self) -> tuple:
        key = super().state_key()
        if self.bars_done == self.rule.final_bar - 1:
            return key + ("before", self.rule)
        if self.closing:  # a duration's choices depend on whether the pitch could end the tune
            return key + ("closing", self.final, self.last_pitch_id in self._final_ids, self.rule)
        return key

    def allowed(self) -> tuple[int, ...]:
        base = super().allowed()
        v = self.vocab
        if self.bars_done == self.rule.final_bar - 1 and self.expect == "note_end" \
                and self.position >= self.bar_ticks:
            return tuple(i for i in base if i != v.tie_id)  # nothing tied into the closing bar
        if not self.closing:
            return base
        if self.final:
            return self._finishing(base)
        last = self._last_strong()
        if self.expect == "duration":
            return self._durations(last)
        if self.expect in ("note_end", "bar") and self.position < self.bar_ticks:
            if self.position >= last:
                return self._final_ids
            return tuple(i for i in base if i not in (v.tie_id, v.eos_id))
        return base

    def advance(self, token_id: int) -> None:
        if self.closing and not self.final and self.expect == "duration":
            ticks = self.vocab.duration_of(token_id) or 0
            self.final = self.position + ticks > self._last_strong()
        super().advance(token_id)

    # --- helpers --------------------------------------------------------------------------
    def _last_strong(self) -> int:
        return max(p for p in self.rule.strong if p < self.bar_ticks)

    def _durations(self, last: int) -> tuple[int, ...]:
        """A passing note ends by the last strong beat; the final note lasts to the bar line."""
        v, p = self.vocab, self.position
        out = [v.duration_id(d) for d in range(1, min(last - p, MAX_DURATION) + 1)]
        if p in self.rule.strong and self.last_pitch_id in self._final_ids:
            out.append(v.duration_id(min(self.bar_ticks - p, MAX_DURATION)))
        return tuple(out)

    def _finishing(self, base: tuple[int, ...]) -> tuple[int, ...]:
        """The final note runs to the bar line, tied in pieces when the bar is longer than 48."""
        v = self.vocab
        room = self.bar_ticks - self.position
        if self.expect == "duration":
            return (v.duration_id(min(room, MAX_DURATION)),)
        if self.expect == "note_end":
            return (v.bar_id,) if room <= 0 else (v.tie_id,)
        if self.expect == "tie" and self.last_pitch_id is not None:
            return (self.last_pitch_id,)
        return base


def _pitch_ids_of_class(vocab: Vocabulary, pitch_class: int) -> tuple[int, ...]:
    return tuple(i for i, kind in enumerate(vocab.kinds)
                 if kind == PITCH and (vocab.pitch_of(i) or 0) % 12 == pitch_class)
