"""GenerationConfig: every sampling choice, from the sampling panel or the CLI to the sampler.

One frozen, validated value (DESIGN.md, boundary 9): the defaults and the range checks live here
and nowhere else. A bad value raises `SettingsError` with one sentence naming the setting; the CLI
turns it into a usage error (exit 2), and the app's controls cannot produce one. Torch-free, so
the window builds it before any model has loaded.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from musicgen.errors import SettingsError

__all__ = ["GenerationConfig", "MAX_VARIATIONS", "MAX_BARS", "MAX_RNG_SEED", "FORMS", "fresh_seed"]

MAX_VARIATIONS = 64  # rows sampled as one batch
MAX_BARS = 256
MAX_RNG_SEED = 2**31 - 1
FORMS = ("continuation", "aabb")


@dataclass(frozen=True)
class GenerationConfig:
    """How to continue a seed: sampling settings, length, and constraint switches."""

    temperature: float = 1.0  # softmax temperature; 0 is greedy, higher is more adventurous
    top_k: int = 0  # sample among the k most likely tokens only (0: all)
    top_p: float = 1.0  # nucleus: the fewest tokens holding this probability (1: all)
    bars: int | None = 8  # bars to add (a seed ending mid-bar has that bar completed first); None: no bar limit
    variations: int = 1  # continuations sampled together as one batch
    rng_seed: int | None = None  # None draws one and records it in the result's metadata
    key_lock: bool = False  # only pitches of the seed's scale (mode-aware)
    meter_constraint: bool = True  # every bar exactly the meter's length
    grammar: bool = True  # only token sequences the vocabulary can decode
    pitch_range: tuple[int, int] | None = None  # lowest and highest MIDI pitch, in the seed's key
    stop_at_end: bool = False  # True lets a variation end early where the model ends the tune
    max_notes: int | None = None  # also stop a variation after this many notes
    max_tokens: int | None = None  # hard limit per variation (None: enough for the bars asked)
    # End on a cadence: the continuation ends at the first phrase boundary at or after the bars
    # asked (phrases count from the tune's first full bar), its last bar complete, its final note
    # on `cadence_degree` of the mode (1: the tonic) and on a strong beat (musicgen.cadence).
    cadence: bool = False
    phrase_bars: int = 8  # phrase length in bars: 8 (or 4)
    cadence_degree: int = 1  # scale degree of the final note, 1..7 (5: the dominant)
    # candidates drawn per variation under a cadence; the one whose closing bars the model finds
    # most natural is kept (measured in benchmarks/bench_cadence.py)
    cadence_candidates: int = 4
    # A whole tune (musicgen.whole_tune): "aabb" makes an A part of `part_bars` bars played twice,
    # then a B part played twice, each closing on a cadence; `bars` and `cadence` are then unused.
    form: str = "continuation"  # "continuation" or "aabb"
    part_bars: int = 8
    endings: bool = False  # first and second endings: the first turns back (dominant), the second closes

    def __post_init__(self) -> None:
        if self.pitch_range is not None and not isinstance(self.pitch_range, tuple):
            object.__setattr__(self, "pitch_range", tuple(self.pitch_range))
        for setting, problem in self._problems():
            raise SettingsError(problem, setting)

    def _problems(self) -> list[tuple[str, str]]:
        """(setting, sentence) for each value out of range; the first one is raised."""
        checks = [
            ("temperature", _is_number(self.temperature) and 0 <= self.temperature,
             f"The temperature must be 0 or more, not {self.temperature}."),
            ("top_k", _is_int(self.top_k) and self.top_k >= 0,
             f"Top-k must be 0 (off) or a positive whole number, not {self.top_k}."),
            ("top_p", _is_number(self.top_p) and 0 < self.top_p <= 1,
             f"Top-p must be more than 0 and at most 1, not {self.top_p}."),
            ("bars", self.bars is None or (_is_int(self.bars) and 1 <= self.bars <= MAX_BARS),
             f"The number of bars must be from 1 to {MAX_BARS}, not {self.bars}."),
            ("variations", _is_int(self.variations) and 1 <= self.variations <= MAX_VARIATIONS,
             f"The number of variations must be from 1 to {MAX_VARIATIONS}, not {self.variations}."),
            ("rng_seed", self.rng_seed is None or (_is_int(self.rng_seed) and 0 <= self.rng_seed <= MAX_RNG_SEED),
             f"The RNG seed must be a whole number from 0 to {MAX_RNG_SEED}, not {self.rng_seed}."),
            ("pitch_range", self.pitch_range is None or _is_pitch_pair(self.pitch_range),
             f"The pitch range {self.pitch_range} is not two MIDI pitches, low to high."),
            ("max_notes", self.max_notes is None or (_is_int(self.max_notes) and self.max_notes >= 1),
             f"max_notes must be at least 1, not {self.max_notes}."),
            ("max_tokens", self.max_tokens is None or (_is_int(self.max_tokens) and self.max_tokens >= 1),
             f"max_tokens must be at least 1, not {self.max_tokens}."),
            ("bars", not (self.bars is None and self.max_notes is None and self.max_tokens is None),
             "A generation needs a length: a number of bars, notes or tokens."),
            ("phrase_bars", _is_int(self.phrase_bars) and 1 <= self.phrase_bars <= 32,
             f"The phrase length must be from 1 to 32 bars, not {self.phrase_bars}."),
            ("cadence_degree", _is_int(self.cadence_degree) and 1 <= self.cadence_degree <= 7,
             f"The final note's scale degree must be from 1 to 7, not {self.cadence_degree}."),
            ("cadence_candidates", _is_int(self.cadence_candidates) and 1 <= self.cadence_candidates <= 16,
             f"Cadence candidates must be from 1 to 16, not {self.cadence_candidates}."),
            ("cadence", not (self.cadence is True and not self.meter_constraint),
             "Ending on a cadence needs the meter constraint (whole bars) on."),
            ("cadence", not (self.cadence is True and self.bars is None),
             "Ending on a cadence needs a number of bars."),
            ("form", self.form in FORMS,
             f"The form must be one of {', '.join(FORMS)}, not {self.form!r}."),
            ("part_bars", _is_int(self.part_bars) and 2 <= self.part_bars <= 32,
             f"A part must be from 2 to 32 bars long, not {self.part_bars}."),
            ("form", not (self.form == "aabb" and not self.meter_constraint),
             "A tune in AABB form needs the meter constraint (whole bars) on."),
        ]
        return [(setting, sentence) for setting, ok, sentence in checks if not ok]

    # --- derived values -----------------------------------------------------------------------
    @property
    def token_limit(self) -> int:
        """The hard limit per variation: ``max_tokens``, else enough for the bars asked."""
        if self.max_tokens is not None:
            return self.max_tokens
        if self.bars is not None:
            return self.bars * 100 + 16  # a 4/2 bar of sixteenths with a tie each is under 100 tokens
        return 4096

    def replace(self, **changes: Any) -> GenerationConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def provenance(self, rng_seed: int | None = None) -> dict[str, object]:
        """The settings a variation records in its metadata (exported with it); ``rng_seed`` is
        the seed actually used (drawn when the config leaves it None)."""
        items: dict[str, object] = {
            "temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
            "rng_seed": self.rng_seed if rng_seed is None else rng_seed, "bars": self.bars, "key_lock": self.key_lock, "meter_constraint": self.meter_constraint,
        }
        if not self.grammar:
            items["grammar"] = False
        if self.form == "aabb":
            items["form"] = f"AABB, {self.part_bars}-bar parts" + (", with endings" if self.endings else "")
            del items["bars"]
        elif self.cadence:
            items["cadence"] = f"degree {self.cadence_degree}, {self.phrase_bars}-bar phrases"
        if self.pitch_range is not None:
            items["pitch_range"] = f"{self.pitch_range[0]}-{self.pitch_range[1]}"
        return items

    # --- saving in settings -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pitch_range"] = list(self.pitch_range) if self.pitch_range is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], defaults: GenerationConfig | None = None) -> GenerationConfig:
        """Build from saved settings: unknown keys are ignored, and each value that is of the wrong
        type or out of range falls back to its default (``defaults``, else the class defaults)."""
        config = defaults or cls()
        known = {f.name for f in fields(cls)}
        for name, value in (data or {}).items():
            if name not in known:
                continue
            default = getattr(config, name)
            if isinstance(default, bool) != isinstance(value, bool):
                continue
            if isinstance(default, float) and _is_int(value):
                value = float(value)
            try:
                config = replace(config, **{name: value})
            except (SettingsError, TypeError, ValueError):
                continue
        return config


def fresh_seed() -> int:
    """A random seed in 0..MAX_RNG_SEED from the system's entropy (as `secrets.randbelow`, without
    importing `secrets`, whose hashing modules cost the command line 8 ms at start)."""
    return int.from_bytes(os.urandom(4), "little") & MAX_RNG_SEED  # 2**31 - 1: all ones


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_pitch_pair(pair: object) -> bool:
    return (isinstance(pair, tuple) and len(pair) == 2 and all(map(_is_int, pair))
            and 0 <= pair[0] <= pair[1] <= 127)
