"""The form of a tune as a musician hears it: strong beats, the final note, length, restatement, AABB.

Pure functions over `Melody` (torch-free, no vocabulary), shared by the evaluation and by the
cadence rule of the sampler:

- `strong_positions(meter)`: ticks inside a bar where a note starts on a strong beat: the downbeat,
  and the bar's midpoint when the bar holds an even number of main beats (4/4, 2/2, 2/4, 6/8, 12/8,
  4/2, ...). The main beat is `Meter.beat_ticks`: the dotted quarter in compound x/8 meters.
- `bar_signatures(melody)`: one hashable value per bar (the pickup is bar 0), equal exactly when the
  two bars encode to the same tokens (pitches and lengths of the pieces in the bar, and whether
  the last one is tied over the bar line), so restatement here is "token for token".
- `restated_bars(keys, min_bars)`: which bars lie in a run of at least `min_bars` bars that repeats
  an earlier run of the same tune (the earlier run may overlap it, as in LZ77).
- `restated_share`, `ends_on_tonic`, `ends_on_strong_beat`, `length_in_bars`, `is_aabb`, and
  `form_statistics` over many melodies.
"""

from __future__ import annotations

import math
from typing import Hashable, Iterable, Sequence

import numpy as np

from musicgen.melody import Melody, Meter

__all__ = [
    "RESTATED_MIN_BARS",
    "strong_positions",
    "position_in_bar",
    "bar_signatures",
    "restated_bars",
    "restated_note_flags",
    "restated_share",
    "ends_on_tonic",
    "ends_on_strong_beat",
    "length_in_bars",
    "ends_at_phrase_boundary",
    "is_aabb",
    "part_endings",
    "form_statistics",
]

RESTATED_MIN_BARS = 4  # a restated passage is at least this many bars long
_TIE_LIMIT = 48  # the vocabulary's longest duration token: longer pieces are split within a bar


def strong_positions(meter: Meter) -> tuple[int, ...]:
    """Ticks within a bar that count as strong beats (`Meter.strong_positions`, the one definition
    the cadence rule uses too)."""
    return meter.strong_positions


def position_in_bar(melody: Melody, tick: int) -> int:
    """Ticks since the last bar line (bar lines fall at pickup + k * bar)."""
    return (tick - melody.pickup_ticks) % melody.meter.bar_ticks


# --- bars and restatement ------------------------------------------------------------------------
def _bar_starts(melody: Melody) -> list[int]:
    """Where each bar starts: 0, then every bar line before the end."""
    lines = [t for t in melody.bar_lines() if 0 < t < melody.duration_ticks]
    return [0] + lines


def bar_signatures(melody: Melody) -> list[Hashable]:
    """One value per bar, equal for two bars exactly when they encode to the same tokens."""
    starts = _bar_starts(melody)
    ends = starts[1:] + [melody.duration_ticks]
    pieces: list[list[tuple]] = [[] for _ in starts]
    b = 0
    for note in melody.notes:
        onset = note.onset_ticks
        while onset < note.end_ticks:  # pieces as the encoder cuts them: at bar lines and 48 ticks
            while b + 1 < len(starts) and onset >= starts[b + 1]:
                b += 1
            end = min(note.end_ticks, ends[b], onset + _TIE_LIMIT)
            tied = note.pitch is not None and end < note.end_ticks
            pieces[b].append((note.pitch, end - onset, tied))
            onset = end
    return [tuple(p) for p in pieces]


def restated_bars(keys: Sequence[Hashable], min_bars: int = RESTATED_MIN_BARS) -> list[bool]:
    """For each bar: True when it lies in a run of >= `min_bars` bars equal to an earlier run."""
    n = len(keys)
    if n < min_bars + 1:
        return [False] * n
    codes: dict[Hashable, int] = {}
    ids = np.array([codes.setdefault(k, len(codes)) for k in keys], dtype=np.int64)
    equal = ids[:, None] == ids[None, :]  # (n, n)
    runs = np.zeros((n + 1, n + 1), dtype=np.int32)  # runs[i, j]: bars i.. equal to bars j..
    for i in range(n - 1, -1, -1):
        runs[i, :n] = np.where(equal[i], runs[i + 1, 1:] + 1, 0)
    earlier = np.tril(runs[:n, :n], k=-1)  # only j < i: the run restates an earlier one
    longest = earlier.max(axis=1)
    flags = [False] * n
    for i in np.flatnonzero(longest >= min_bars):
        for b in range(i, i + int(longest[i])):
            flags[b] = True
    return flags


def restated_note_flags(melody: Melody, min_bars: int = RESTATED_MIN_BARS) -> list[bool]:
    """For each pitched note (in order): True when it starts in a restated bar."""
    flags = restated_bars(bar_signatures(melody), min_bars)
    starts = _bar_starts(melody)
    out, b = [], 0
    for note in melody.pitched_notes:
        while b + 1 < len(starts) and note.onset_ticks >= starts[b + 1]:
            b += 1
        out.append(flags[b])
    return out


def restated_share(melodies: Iterable[Melody], min_bars: int = RESTATED_MIN_BARS) -> float:
    """Share of pitched notes, pooled over the melodies, that lie in a restated passage."""
    restated = total = 0
    for melody in melodies:
        flags = restated_note_flags(melody, min_bars)
        restated += sum(flags)
        total += len(flags)
    return restated / total if total else math.nan


# --- endings, length, form -----------------------------------------------------------------------
def ends_on_tonic(melody: Melody, degree_pc: int = 0) -> bool:
    """True when the last pitched note is the tonic (or `degree_pc` semitones above it)."""
    notes = melody.pitched_notes
    return bool(notes) and (notes[-1].pitch - melody.key.tonic_pc - degree_pc) % 12 == 0  # type: ignore[operator]


def ends_on_strong_beat(melody: Melody) -> bool:
    """True when the last pitched note starts on one of the bar's `strong_positions`."""
    notes = melody.pitched_notes
    if not notes:
        return False
    return position_in_bar(melody, notes[-1].onset_ticks) in strong_positions(melody.meter)


def length_in_bars(melody: Melody) -> int:
    """Bars, with a pickup and a shortened last bar counted together as one (folk reckoning)."""
    return math.ceil(melody.duration_ticks / melody.meter.bar_ticks) if melody.notes else 0


def ends_at_phrase_boundary(melody: Melody, phrase_bars: int = 8) -> bool:
    """True when the tune ends on a bar line that closes a phrase (phrases count from the first
    full bar, so a pickup is not part of the first phrase)."""
    body = melody.duration_ticks - melody.pickup_ticks
    return body > 0 and body % (phrase_bars * melody.meter.bar_ticks) == 0


def is_aabb(melody: Melody) -> bool:
    """True when the tune (as played) is four equal parts A A B B of at least 2 bars each.

    Bars after the pickup are cut into four parts; each part must equal its repeat except in its
    last quarter (at least one bar: first and second endings), and A must differ from B in more
    than half of its bars.
    """
    keys = bar_signatures(melody)
    if melody.pickup_ticks:
        keys = keys[1:]
    n = len(keys)
    if n < 8 or n % 4:
        return False
    part = n // 4
    same = part - max(1, part // 4)
    a1, a2, b1, b2 = (keys[i * part:(i + 1) * part] for i in range(4))
    if a1[:same] != a2[:same] or b1[:same] != b2[:same]:
        return False
    shared = sum(x == y for x, y in zip(a1, b1))
    return shared * 2 < part


def part_endings(melody: Melody, parts: int = 4) -> list[int]:
    """Pitch classes above the tonic of the last note of each of `parts` equal parts of the bars
    after the pickup (the AABB parts as played); [] when the bars do not divide evenly."""
    bar = melody.meter.bar_ticks
    body = melody.duration_ticks - melody.pickup_ticks
    bars = math.ceil(body / bar) if body > 0 else 0
    if bars == 0 or bars % parts:
        return []
    out = []
    for k in range(1, parts + 1):
        boundary = melody.pickup_ticks + k * (bars // parts) * bar
        before = [n for n in melody.pitched_notes if n.onset_ticks < boundary]
        if before:
            out.append((before[-1].pitch - melody.key.tonic_pc) % 12)  # type: ignore[operator]
    return out


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else math.nan


def form_statistics(melodies: Sequence[Melody], min_bars: int = RESTATED_MIN_BARS) -> dict:
    """Form figures of many tunes: endings, lengths, restated share and AABB (shares in 0..1)."""
    tunes = [m for m in melodies if m.note_count]
    lengths = [length_in_bars(m) for m in tunes]
    return {
        "tunes": len(tunes),
        "ends_on_tonic": _share([ends_on_tonic(m) for m in tunes]),
        "ends_on_strong_beat": _share([ends_on_strong_beat(m) for m in tunes]),
        "mean_bars": float(np.mean(lengths)) if lengths else math.nan,
        "bars_multiple_of_8": _share([n % 8 == 0 for n in lengths]),
        "restated_share": restated_share(tunes, min_bars),
        "aabb": _share([is_aabb(m) for m in tunes]),
    }
