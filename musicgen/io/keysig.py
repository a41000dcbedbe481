"""Key signatures and pitch spelling for the writers: sharps count, letter names, accidentals."""

from __future__ import annotations

import re

from musicgen.melody import MODES, Key

__all__ = ["LETTERS", "NATURAL_PC", "key_sharps", "signature_alters", "spell", "tonic_name",
           "key_from_text", "key_from_signature", "parse_key_option"]

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


_NAMED_KEY = re.compile(
    r"(?<![A-Za-z])([A-G])(?:\s*(#|♯|b|♭|-sharp|-flat|\s+sharp|\s+flat|is|es|s))?[\s-]+"
    r"((?i:major|minor|dur|moll|ionian|aeolian|dorian|mixolydian|phrygian|lydian|locrian))"
    r"(?![A-Za-z])"
)
_ALTER_WORDS = {"#": 1, "♯": 1, "-sharp": 1, "sharp": 1, "is": 1,
                "b": -1, "♭": -1, "-flat": -1, "flat": -1, "es": -1, "s": -1}
_MODE_WORDS = {"dur": "major", "moll": "minor", "ionian": "major", "aeolian": "minor"}


def key_from_text(text: str | None) -> Key | None:
    """A key a title names ("Sonata in G major", "Menuet in D minor", "Reel in A Dorian"), or None.

    The letter must be a capital (so "a minor change" is not A minor)."""
    if not text:
        return None
    match = _NAMED_KEY.search(text)
    if match is None:
        return None
    letter, alter_text, mode_text = match.groups()
    alter = _ALTER_WORDS.get((alter_text or "").strip().lower(), 0) if alter_text else 0
    mode = mode_text.lower()
    return Key((NATURAL_PC[letter] + alter) % 12, _MODE_WORDS.get(mode, mode))


def key_from_signature(signed: Key, estimate: Key) -> Key:
    """A key signature's key, with the estimate's tonic and mode when they share the signature
    (a MIDI signature only says major or minor, and files often say major for a minor tune)."""
    return estimate if key_sharps(estimate) == key_sharps(signed) else signed


def parse_key_option(text: str) -> Key:
    """A key as a person types it: 'D major', 'Ador', 'A dorian', 'Em', 'F#m', 'Bb' (ValueError)."""
    cleaned = text.strip()
    try:
        return Key.parse(cleaned)
    except ValueError:
        pass
    match = re.fullmatch(r"([A-Ga-g])([#b♯♭]?)\s*([A-Za-z]*)", cleaned)
    if match is None:
        raise ValueError(f"not a key: {text!r}")
    letter, accidental, mode_text = match.groups()
    mode = {"": "major", "m": "minor", "min": "minor", "maj": "major"}.get(mode_text.lower())
    if mode is None:
        mode = next((m for m in MODES if mode_text and m.startswith(mode_text.lower()[:3])), None)
    if mode is None:
        raise ValueError(f"not a key: {text!r}")
    return Key((NATURAL_PC[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)) % 12,
               mode)

