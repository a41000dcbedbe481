"""Key signatures and pitch spelling for the writers: sharps count, letter names, accidentals."""

from __future__ import annotations

from musicgen.melody import Key

__all__ = ["LETTERS", "NATURAL_PC", "key_sharps", "signature_alters", "spell", "tonic_name"]

LETTERS = "CDEFGAB"
NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MODE_OFFSET = {"major": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7,
                "minor": 9, "locrian": 11}
# Relative-major pitch class -> sharps (+) or flats (-) in the usual signature.
_SHARPS_BY_MAJOR_PC = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 1: -5, 8: -4, 3: -3, 10: -2, 5: -1}
_SHARP_ORDER = "FCGDAEB"


def key_sharps(key: Key) -> int:
    """Sharps (positive) or flats (negative) in the signature of `key` (A dorian -> 1)."""
    sharps = _SHARPS_BY_MAJOR_PC[(key.tonic_pc - _MODE_OFFSET[key.mode]) % 12]
    if sharps == 6:  # F# or Gb: take the one that spells the tonic plainly (F locrian, not E#)
        letter, alter, _ = spell(60 + key.tonic_pc, 6)
        if letter + str(alter) in ("E1", "B1"):
            return -6
    return sharps


def signature_alters(sharps: int) -> dict[str, int]:
    """Letter -> alteration (-1, 0, +1) that the signature applies."""
    alters = dict.fromkeys(LETTERS, 0)
    if sharps > 0:
        for letter in _SHARP_ORDER[:sharps]:
            alters[letter] = 1
    elif sharps < 0:
        for letter in reversed(_SHARP_ORDER[sharps:] if sharps else ""):
            alters[letter] = -1
    return alters


def spell(pitch: int, sharps: int) -> tuple[str, int, int]:
    """MIDI pitch -> (letter, alteration, octave) in a key with `sharps`; middle C is ('C', 0, 4).

    Scale notes take the signature's spelling; others prefer a natural, then sharps in sharp
    keys and flats in flat keys.
    """
    pc = pitch % 12
    alters = signature_alters(sharps)
    options = [(letter, alter) for letter in LETTERS for alter in (-1, 0, 1)
               if (NATURAL_PC[letter] + alter) % 12 == pc]
    in_key = [o for o in options if alters[o[0]] == o[1]]
    natural = [o for o in options if o[1] == 0]
    preferred = [o for o in options if o[1] == (1 if sharps >= 0 else -1)]
    letter, alter = (in_key or natural or preferred or options)[0]
    octave = (pitch - alter - NATURAL_PC[letter]) // 12 - 1
    return letter, alter, octave


def tonic_name(key: Key) -> str:
    """The tonic spelled in its own signature: 'F#', 'Bb', 'D'."""
    letter, alter, _ = spell(60 + key.tonic_pc, key_sharps(key))
    return letter + {-1: "b", 0: "", 1: "#"}[alter]
