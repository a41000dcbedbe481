"""The one vocabulary: Melody <-> token ids, the token grammar, and the constraint tracker.

A tune is encoded as::

    <bos> M:6/8 K:dorian  P:62 D:6  P:64 D:6 | P:65 D:12 - | P:65 D:6 ... <eos>

- header: the meter token and the mode token; the tune is transposed so its tonic is C (folk-rnn's
  choice: one mode token instead of 12 keys, measured in README "Key handling"); `decode` takes the
  tonic to transpose back to;
- a note is a pitch token (``P:<midi>``, or ``z`` for a rest) then a duration token (``D:<ticks>``,
  1..48 ticks on the 12-per-quarter grid);
- ``|`` marks every bar line after the start (bar lines fall at pickup + k * bar); the first ``|``
  therefore tells the decoder the pickup length;
- a note that crosses a bar line, or lasts longer than 48 ticks, is split into pieces joined by ``-``
  (tie); rests split without a tie (adjacent rests merge on decode).

Token strings live only here; everyone else uses ids and the helpers below. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from musicgen.errors import VocabularyError
from musicgen.melody import MODE_INTERVALS, MODES, Key, Melody, Meter, Note

__all__ = [
    "VOCAB_VERSION",
    "SUPPORTED_METERS",
    "PITCH_MIN",
    "PITCH_MAX",
    "MAX_DURATION",
    "Vocabulary",
    "VOCAB",
    "GrammarTracker",
    "tonic_shift",
    "nearest_supported_meter",
]

VOCAB_VERSION = 1
SUPPORTED_METERS: tuple[str, ...] = (
    # every meter of the folk corpus (Essen writes long notes as 3/1, 4/1, 6/2)
    "1/4", "2/4", "3/4", "4/4", "5/4", "6/4", "9/4", "2/2", "3/2", "4/2", "6/2", "2/1", "3/1", "4/1",
    "2/8", "3/8", "4/8", "5/8", "6/8", "7/8", "9/8", "12/8",
)
PITCH_MIN, PITCH_MAX = 36, 96  # C2..C7 after transposition to tonic C
MAX_DURATION = 48  # a whole note; longer notes are tied pieces

# Token kinds (the grammar's alphabet).
PAD, BOS, EOS, METER, MODE, PITCH, REST, DUR, BAR, TIE = range(10)


def tonic_shift(key: Key) -> int:
    """Semitones that move `key`'s tonic to C by the smaller step (-6..+5)."""
    return (-key.tonic_pc + 6) % 12 - 6


def nearest_supported_meter(meter: Meter) -> Meter:
    """The supported meter with the closest bar length (same denominator preferred)."""
    if str(meter) in SUPPORTED_METERS:
        return meter
    candidates = [Meter.parse(m) for m in SUPPORTED_METERS]
    return min(
        candidates,
        key=lambda m: (abs(m.bar_ticks - meter.bar_ticks), m.denominator != meter.denominator),
    )


@dataclass(frozen=True)
class Vocabulary:
    """Token list and the encode/decode rules (see the module docstring)."""

    version: int = VOCAB_VERSION
    transpose_to_c: bool = True  # False keeps absolute pitches (used only to measure the choice)
    tokens: tuple[str, ...] = field(init=False)
    kinds: tuple[int, ...] = field(init=False, repr=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries: list[tuple[str, int]] = [("<pad>", PAD), ("<bos>", BOS), ("<eos>", EOS)]
        entries += [(f"M:{m}", METER) for m in SUPPORTED_METERS]
        entries += [(f"K:{mode}", MODE) for mode in MODES]
        entries += [("|", BAR), ("-", TIE), ("z", REST)]
        entries += [(f"P:{p}", PITCH) for p in range(PITCH_MIN, PITCH_MAX + 1)]
        entries += [(f"D:{d}", DUR) for d in range(1, MAX_DURATION + 1)]
        object.__setattr__(self, "tokens", tuple(t for t, _ in entries))
        object.__setattr__(self, "kinds", tuple(k for _, k in entries))
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    # --- ids ----------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        try:
            return self._index[token]
        except KeyError:
            raise VocabularyError(f"'{token}' is not a token of vocabulary version {self.version}") from None

    pad_id = property(lambda self: 0)
    bos_id = property(lambda self: self._index["<bos>"])
    eos_id = property(lambda self: self._index["<eos>"])
    bar_id = property(lambda self: self._index["|"])
    tie_id = property(lambda self: self._index["-"])
    rest_id = property(lambda self: self._index["z"])

    def pitch_id(self, pitch: int) -> int:
        return self._index[f"P:{pitch}"]

    def duration_id(self, ticks: int) -> int:
        return self._index[f"D:{ticks}"]

    def meter_id(self, meter: Meter) -> int:
        return self.id(f"M:{meter}")

    def mode_id(self, mode: str) -> int:
        return self.id(f"K:{mode}")

    def pitch_of(self, token_id: int) -> int | None:
        """MIDI pitch of a pitch id (None for anything else)."""
        return int(self.tokens[token_id][2:]) if self.kinds[token_id] == PITCH else None

    def duration_of(self, token_id: int) -> int | None:
        return int(self.tokens[token_id][2:]) if self.kinds[token_id] == DUR else None

    def to_strings(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def from_strings(self, tokens: Iterable[str]) -> list[int]:
        return [self.id(t) for t in tokens]

    def note_count(self, ids: Sequence[int]) -> int:
        """Pitched notes in a sequence after ties merge: the denominator of bits per note."""
        count, tied_pitch, last_pitch = 0, None, None
        for i in ids:
            kind = self.kinds[i]
            if kind == PITCH:
                pitch = self.pitch_of(i)
                if tied_pitch is None or pitch != tied_pitch:
                    count += 1
                last_pitch, tied_pitch = pitch, None
            elif kind == REST:
                last_pitch, tied_pitch = None, None
            elif kind == TIE:
                tied_pitch = last_pitch
        return count

    # --- encode -------------------------------------------------------------------------------
    def encode(self, melody: Melody, *, end: bool = True, transpose: int | None = None) -> list[int]:
        """Melody -> ids. `end=False` leaves out <eos> (for a seed to continue).

        `transpose` overrides the shift to C (semitones); out-of-range tunes raise VocabularyError.
        """
        meter_token = f"M:{melody.meter}"
        if meter_token not in self._index:
            raise VocabularyError(
                f"the meter {melody.meter} is not supported (supported: {', '.join(SUPPORTED_METERS)})"
            )
        shift = self.shift_for(melody) if transpose is None else transpose
        ids = [self.bos_id, self._index[meter_token], self.mode_id(melody.key.mode)]
        bar = melody.meter.bar_ticks
        bars = set(melody.bar_lines())
        for note in melody.notes:
            ids.extend(self._encode_note(note, shift, bar, melody.pickup_ticks, bars))
        if end:
            ids.append(self.eos_id)
        return ids

    def shift_for(self, melody: Melody) -> int:
        """The transposition `encode` applies: tonic to C, then whole octaves into the pitch range."""
        if not self.transpose_to_c:
            return 0
        shift = tonic_shift(melody.key)
        rng = melody.pitch_range
        if rng is None:
            return shift
        low, high = rng[0] + shift, rng[1] + shift
        while low < PITCH_MIN and high + 12 <= PITCH_MAX:
            shift, low, high = shift + 12, low + 12, high + 12
        while high > PITCH_MAX and low - 12 >= PITCH_MIN:
            shift, low, high = shift - 12, low - 12, high - 12
        return shift

    def _encode_note(self, note: Note, shift: int, bar: int, pickup: int, bars: set[int]) -> list[int]:
        pitch_tok = self.rest_id
        if note.pitch is not None:
            pitch = note.pitch + shift
            if not PITCH_MIN <= pitch <= PITCH_MAX:
                raise VocabularyError(
                    f"a pitch of {note.pitch} lies outside the vocabulary's range after transposition"
                )
            pitch_tok = self.pitch_id(pitch)
        out: list[int] = []
        start, remaining = note.onset_ticks, note.duration_ticks
        while remaining > 0:
            # the next bar line strictly after `start`
            next_bar = pickup + ((start - pickup) // bar + 1) * bar if start >= pickup else pickup
            piece = min(remaining, next_bar - start, MAX_DURATION)
            out += [pitch_tok, self.duration_id(piece)]
            start, remaining = start + piece, remaining - piece
            if remaining > 0 and note.pitch is not None:
                out.append(self.tie_id)
            if start in bars:
                out.append(self.bar_id)
        return out

    # --- decode -------------------------------------------------------------------------------
    def decode(
        self,
        ids: Sequence[int],
        *,
        tonic_pc: int = 0,
        transpose: int | None = None,
        tempo_bpm: float = 120.0,
        title: str = "",
        meter: Meter | None = None,
        mode: str | None = None,
    ) -> Melody:
        """Ids -> Melody, transposed from C to `tonic_pc` (or by `transpose` semitones).

        Lenient, so unconstrained samples decode too: a duration with no pitch, a pitch with no
        duration and header tokens in the body are skipped; a tie to a different pitch is ignored.
        `meter`/`mode` fill in when the ids carry no header (a continuation without its seed).
        """
        notes: list[Note] = []
        cursor, pending, tie_open, first_bar = 0, None, False, None
        for i in ids:
            kind = self.kinds[i]
            if kind == METER and meter is None:
                meter = Meter.parse(self.tokens[i][2:])
            elif kind == MODE and mode is None:
                mode = self.tokens[i][2:]
            elif kind == EOS:
                break
            elif kind in (PITCH, REST):
                pending = self.pitch_of(i) if kind == PITCH else -1
            elif kind == DUR and pending is not None:
                dur = self.duration_of(i) or 0
                pitch = None if pending == -1 else pending
                last = notes[-1] if notes else None
                if tie_open and last is not None and last.pitch is not None and last.pitch == pitch:
                    notes[-1] = Note(pitch, last.onset_ticks, last.duration_ticks + dur)
                else:
                    notes.append(Note(pitch, cursor, dur))
                cursor, pending, tie_open = cursor + dur, None, False
            elif kind == TIE:
                tie_open = True
            elif kind == BAR and first_bar is None and cursor > 0:
                first_bar = cursor
        meter = meter or Meter(4, 4)
        mode = mode or "major"
        pickup = (first_bar % meter.bar_ticks) if first_bar is not None else 0
        melody = Melody.from_notes(
            notes, meter=meter, key=Key(0, mode), tempo_bpm=tempo_bpm, title=title, pickup_ticks=pickup
        )
        shift = -tonic_shift(Key(tonic_pc % 12)) if transpose is None else transpose
        return _transpose_into_midi(melody, shift)

    # --- grammar helpers for constrained sampling ---------------------------------------------
    def token_ticks(self) -> list[int]:
        """Per id: a duration token's ticks, -1 for ids that start a bar count (bar line, header,
        end), 0 for the rest. What a Transformer with ``bar_position`` counts metrical position with."""
        restart = (BOS, EOS, METER, MODE, BAR)
        return [self.duration_of(i) or 0 if k == DUR else (-1 if k in restart else 0)
                for i, k in enumerate(self.kinds)]

    def ids_of_kind(self, *kinds: int) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k in kinds]

    def pitch_ids_in_mode(self, mode: str) -> list[int]:
        """Pitch ids in `mode` on tonic C (the encoded key): the key-lock constraint."""
        steps = set(MODE_INTERVALS[mode])
        return [self.pitch_id(p) for p in range(PITCH_MIN, PITCH_MAX + 1) if p % 12 in steps]

    def pitch_ids_between(self, low: int, high: int) -> list[int]:
        """Pitch ids for encoded pitches low..high inclusive (clipped to the vocabulary)."""
        return [self.pitch_id(p) for p in range(max(low, PITCH_MIN), min(high, PITCH_MAX) + 1)]


def _transpose_into_midi(melody: Melody, shift: int) -> Melody:
    if melody.note_count:
        return melody.transposed(shift)
    return melody.replace(key=melody.key.transposed(shift))


VOCAB = Vocabulary()


class GrammarTracker:
    """Which ids may come next, for one sequence being sampled.

    Follows the grammar (header, pitch then duration, ties, bars) and, with `meter_constraint`,
    the bar arithmetic: durations never overflow the bar, ``|`` comes exactly when a bar is full,
    and <eos> only right after a bar line. Start it from a seed with `from_melody`, then `advance`
    with each sampled id. `allowed()` returns a tuple of ids; callers may cache masks by
    `state_key()`, which determines `allowed()`.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        meter: Meter,
        position_in_bar: int,
        *,
        meter_constraint: bool = True,
        expect: str = "note_end",
    ) -> None:
        self.vocab = vocab
        self.bar_ticks = meter.bar_ticks
        self.position = position_in_bar
        self.meter_constraint = meter_constraint
        # "note_end" (a duration just came), "duration" (a pitch just came), "bar" (after '|'),
        # "tie" (after '-')
        self.expect = expect
        self.last_pitch_id: int | None = None
        self.tie_pending = False
        self.bars_done = 0
        self.ended = False
        self._notes = tuple(vocab.ids_of_kind(PITCH, REST))

    @classmethod
    def from_melody(
        cls, vocab: Vocabulary, melody: Melody, *, meter_constraint: bool = True
    ) -> GrammarTracker:
        """State after `vocab.encode(melody, end=False)`: position in the bar at the seed's end."""
        bar, end, pickup = melody.meter.bar_ticks, melody.duration_ticks, melody.pickup_ticks
        position = (bar - pickup + end) if pickup and end < pickup else (end - pickup) % bar
        on_bar_line = end > 0 and end in set(melody.bar_lines())
        expect = "bar" if on_bar_line or end == 0 else "note_end"
        return cls(vocab, melody.meter, 0 if on_bar_line else position,
                   meter_constraint=meter_constraint, expect=expect)

    def state_key(self) -> tuple:
        position = self.position if self.meter_constraint else 0
        tie_pitch = self.last_pitch_id if (self.tie_pending or self.expect == "note_end") else None
        return (self.expect, position, tie_pitch, self.tie_pending)

    def transition_key(self) -> tuple | None:
        """Everything that decides `allowed()` now and after any further ids, for samplers that
        number the states and memoise their transitions (`musicgen.sampling`); ``bars_done``, only
        counted, is left out. None for a subclass, whose future may depend on more (a
        `CadenceTracker`'s on the bar count)."""
        if type(self) is not GrammarTracker:
            return None
        return (self.bar_ticks, self.meter_constraint, self.expect, self.position,
                self.last_pitch_id, self.tie_pending, self.ended)

    def allowed(self) -> tuple[int, ...]:
        v = self.vocab
        room = self.bar_ticks - self.position
        if self.expect == "duration":
            limit = min(room, MAX_DURATION) if self.meter_constraint else MAX_DURATION
            return tuple(v.duration_id(d) for d in range(1, max(limit, 1) + 1))
        continue_tie = (self.last_pitch_id,) if self.tie_pending and self.last_pitch_id is not None else None
        if self.expect == "tie":
            if self.meter_constraint and room <= 0:
                return (v.bar_id,)
            return continue_tie or self._notes
        if self.expect == "bar":
            return continue_tie or (self._notes + (v.eos_id,))
        # a note just ended
        tie = (v.tie_id,) if self.last_pitch_id is not None else ()
        if self.meter_constraint:
            return ((v.bar_id,) + tie) if room <= 0 else (self._notes + tie)
        return self._notes + (v.bar_id, v.eos_id) + tie

    def advance(self, token_id: int) -> None:
        kind = self.vocab.kinds[token_id]
        if kind == EOS:
            self.ended = True
        elif kind in (PITCH, REST):
            self.expect, self.tie_pending = "duration", False
            self.last_pitch_id = token_id if kind == PITCH else None
        elif kind == DUR:
            self.position += self.vocab.duration_of(token_id) or 0
            self.expect = "note_end"
        elif kind == TIE:
            self.expect, self.tie_pending = "tie", True
        elif kind == BAR:
            self.position = 0
            self.bars_done += 1
            self.expect = "bar"
