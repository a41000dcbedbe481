"""Tempo in the meter's beat: what musicians read and type (a jig at dotted quarter = 110, a march
in cut time at half note = 60), converted to and from `Melody.tempo_bpm` (quarters per minute)."""

from __future__ import annotations

from fractions import Fraction

from musicgen.melody import TICKS_PER_QUARTER, Meter

__all__ = ["beat_fraction", "quarter_to_beat_bpm", "beat_to_quarter_bpm", "tempo_text"]


def beat_fraction(meter: Meter) -> Fraction:
    """The beat as a fraction of a whole note: 3/8 in 6/8, 9/8 and 12/8; 1/2 in 2/2; 1/4 in 4/4."""
    return Fraction(meter.beat_ticks, TICKS_PER_QUARTER * 4)


def quarter_to_beat_bpm(quarter_bpm: float, meter: Meter) -> float:
    """Quarter notes per minute -> beats per minute (165 in 6/8 -> 110)."""
    return quarter_bpm * TICKS_PER_QUARTER / meter.beat_ticks


def beat_to_quarter_bpm(beat_bpm: float, meter: Meter) -> float:
    """Beats per minute -> quarter notes per minute (110 in 6/8 -> 165)."""
    return beat_bpm * meter.beat_ticks / TICKS_PER_QUARTER


def tempo_text(quarter_bpm: float, meter: Meter) -> str:
    """'♩. = 110' in 6/8, '𝅗𝅥 = 60' in 2/2, '♩ = 120' in 4/4 (an eighth-note beat: '♪ = 90')."""
    symbol = {Fraction(1, 4): "♩", Fraction(3, 8): "♩.", Fraction(1, 2): "𝅗𝅥", Fraction(1, 8): "♪",
              Fraction(3, 4): "𝅗𝅥.", Fraction(3, 16): "♪."}.get(beat_fraction(meter))
    beat = f"{quarter_to_beat_bpm(quarter_bpm, meter):.0f}"
    return f"{symbol} = {beat}" if symbol else f"{beat_fraction(meter)} = {beat}"
