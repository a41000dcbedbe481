"""Standard MIDI files to `Melody` through mido: pick the melody line, quantise, find bars and key.

A "track" here is one note-bearing line: a MIDI track and channel pair, numbered from 1 in file
order (type 0 files hold several channels in one track). The default line is the pitched,
non-drum (channel 10) line with the most notes; simultaneous notes keep the highest (skyline),
overlapping legato notes are cut where the next begins. Whole bars of leading silence are dropped;
a first note that starts mid-bar makes a pickup. Without a key signature the key is estimated
(music21's Aarden-Essen Krumhansl-Schmuckler, redone in `keyfind`: reading MIDI never imports
music21). Text meta events "musicgen KEY: VALUE" written by our MIDI writer restore the mode (MIDI
key signatures know only major and minor) and provenance.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.errors import SeedError
from musicgen.melody import Key, Melody, Meter, Note
from musicgen.io.bounded import run_bounded, warm_imports
from musicgen.io.safety import MAX_METER_NUMERATOR, MAX_NOTES, error_detail, reader_tempo
from musicgen.io.types import ReadReport, ReportBuilder, TrackInfo

__all__ = ["read_midi_bytes", "list_midi_tracks", "default_track", "DRUM_CHANNEL", "META_PREFIX"]

DRUM_CHANNEL = 9  # channel 10 as musicians count
# Imported once in the reading process, so the bounded child does not import them each time.
# Not music21 (0.3-0.5 s): `keyfind` estimates the key of a file without a key signature.
_PARSER_MODULES = ("mido", "musicgen.io.keyfind", "musicgen.io.quantize")
META_PREFIX = "musicgen "


@dataclass
class _Line:
    midi_track: int
    channel: int
    name: str
    notes: list[tuple[int, int, int]] = field(default_factory=list)  # (pitch, on, off) raw ticks


@dataclass
class _Scan:
    ticks_per_beat: int
    lines: list[_Line]
    tempo_us: int | None = None
    time_signature: tuple[int, int] | None = None
    key_signature: str | None = None
    title: str = ""
    texts: list[str] = field(default_factory=list)


def _open(data: bytes, name: str):  # -> mido.MidiFile
    import mido

    from mido.midifiles.meta import KeySignatureError

    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except KeySignatureError as exc:
        raise SeedError(f"Cannot read {name}: the MIDI file has an invalid key signature.") from exc
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        detail = error_detail(exc, "it ends where more data was expected" if isinstance(exc, EOFError)
                              else "its data does not follow the MIDI format")
        raise SeedError(f"Cannot read {name}: the MIDI file is corrupt or truncated ({detail}).") from exc
    if midi.type == 2:
        raise SeedError(f"Cannot read {name}: type 2 MIDI files (independent patterns) are not supported.")
    if not midi.ticks_per_beat or midi.ticks_per_beat <= 0:
        raise SeedError(f"Cannot read {name}: the MIDI file has no usable time division.")
    return midi


def _scan(data: bytes, name: str) -> _Scan:
    midi = _open(data, name)
    scan = _Scan(midi.ticks_per_beat, [])
    events = 0
    for t_index, track in enumerate(midi.tracks):
        lines: dict[int, _Line] = {}
        open_notes: dict[tuple[int, int], list[int]] = {}
        now, track_name = 0, ""
        for msg in track:
            now += msg.time
            events += 1
            if events > MAX_NOTES * 4:
                raise SeedError(f"Cannot read {name}: it has too many MIDI events to be a melody.")
            if msg.is_meta:
                track_name = _meta(msg, scan, track_name, t_index)
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append(now)
            elif msg.type in ("note_on", "note_off"):
                starts = open_notes.get((msg.channel, msg.note))
                if starts:
                    line = lines.setdefault(msg.channel, _Line(t_index, msg.channel, ""))
                    line.notes.append((msg.note, starts.pop(0), now))
        for (channel, pitch), starts in open_notes.items():  # never released: end with the track
            line = lines.setdefault(channel, _Line(t_index, channel, ""))
            line.notes.extend((pitch, start, max(now, start)) for start in starts)
        for channel in sorted(lines):
            line = lines[channel]
            line.name = track_name if len(lines) == 1 else f"{track_name} ch{channel + 1}".strip()
            line.notes.sort(key=lambda n: (n[1], -n[0]))
            scan.lines.append(line)
    return scan


def _meta(msg, scan: _Scan, track_name: str, t_index: int) -> str:
    if msg.type == "set_tempo" and scan.tempo_us is None:
        scan.tempo_us = msg.tempo
    elif msg.type == "time_signature" and scan.time_signature is None:
        scan.time_signature = (msg.numerator, msg.denominator)
    elif msg.type == "key_signature" and scan.key_signature is None:
        scan.key_signature = msg.key
    elif msg.type == "track_name":
        from musicgen.io.text import redecode_latin1

        name = redecode_latin1(msg.name).strip()  # mido reads meta text as Latin-1
        if t_index == 0 and not scan.title:
            scan.title = name
        return name
    elif msg.type == "text" and msg.text.startswith(META_PREFIX):
        from musicgen.io.text import redecode_latin1

        scan.texts.append(redecode_latin1(msg.text[len(META_PREFIX):]))
    return track_name


def list_midi_tracks(data: bytes, *, name: str) -> list[TrackInfo]:
    """The note-bearing lines of a MIDI file, numbered from 1 (what `track=` takes); bounded."""
    warm_imports(*_PARSER_MODULES)
    return run_bounded(name, _list_midi_tracks, data, name)


def _list_midi_tracks(data: bytes, name: str) -> list[TrackInfo]:
    return [
        TrackInfo(i + 1, line.name, line.channel, len(line.notes),
                  line.channel == DRUM_CHANNEL, line.midi_track)
        for i, line in enumerate(_scan(data, name).lines)
    ]


def default_track(tracks: list[TrackInfo]) -> int | None:
    """The track read when none is asked for: the pitched (non-drum) one with the most notes, the
    first of equals; None when there is none (reading then says why)."""
    pitched = [t for t in tracks if not t.is_drum]
    return max(pitched, key=lambda t: t.note_count).index if pitched else None


def _choose_line(scan: _Scan, name: str, track: int | None) -> _Line:
    if track is not None:
        if not 1 <= track <= len(scan.lines):
            raise SeedError(
                f"Cannot read {name}: there is no track {track}; it has {len(scan.lines)} "
                "note-bearing tracks (numbered from 1)."
            )
        line = scan.lines[track - 1]
        if line.channel == DRUM_CHANNEL:
            raise SeedError(f"Cannot read {name}: track {track} is drums (channel 10), not a melody.")
        return line
    pitched = [ln for ln in scan.lines if ln.channel != DRUM_CHANNEL]
    if not pitched:
        if scan.lines:
            raise SeedError(f"Cannot read {name}: it holds only drums (channel 10), no pitched notes.")
        raise SeedError(f"Cannot read {name}: it has no notes.")
    return max(pitched, key=lambda ln: len(ln.notes))


def read_midi_bytes(
    data: bytes, *, name: str, track: int | None = None, fallback_title: str = ""
) -> tuple[Melody, ReadReport]:
    """Parse MIDI bytes into the chosen line as a Melody, with its report (under the read budget
    of `bounded`: a file too complex to read raises `TooComplexError`)."""
    warm_imports(*_PARSER_MODULES)
    return run_bounded(name, _read_midi_bytes, data, name, track, fallback_title)


def _read_midi_bytes(
    data: bytes, name: str, track: int | None, fallback_title: str
) -> tuple[Melody, ReadReport]:
    scan = _scan(data, name)
    line = _choose_line(scan, name, track)
    report = ReportBuilder()
    report.part_names = [ln.name or f"Track {i}" for i, ln in enumerate(scan.lines, start=1)]
    number = scan.lines.index(line) + 1
    report.source_part = f"track {number}: {report.part_names[number - 1]}"
    meter = _meter(scan, report)
    notes = _quantised(line, scan.ticks_per_beat, report, meter)
    if not notes:
        raise SeedError(f"Cannot read {name}: it has no pitched notes.")
    _count_reductions(notes, report)
    first = min(n.onset_ticks for n in notes)
    bar = meter.bar_ticks
    into_bar = first % bar
    notes = [n.shifted(-first) for n in notes]  # leading silence goes; a mid-bar start is a pickup
    pickup = (bar - into_bar) % bar
    extras = dict(t.split(": ", 1) for t in scan.texts if ": " in t)
    key = _key(scan, extras.pop("key", None), notes, line.name)
    title = extras.pop("title", None) or scan.title or fallback_title
    tempo = reader_tempo(None if scan.tempo_us is None else
                         60_000_000 / scan.tempo_us if scan.tempo_us > 0 else 0.0, report)
    melody = Melody.from_notes(notes, meter=meter, key=key, tempo_bpm=tempo, title=title,
                               pickup_ticks=pickup, metadata=tuple(extras.items()))
    return melody, report.build()


def _quantised(line: _Line, ticks_per_beat: int, report: ReportBuilder, meter: Meter) -> list[Note]:
    """The line's notes on the grid each beat means (straight or triplet; see `quantize`)."""
    from musicgen.io.quantize import quantize_times

    shortest = ticks_per_beat / 16  # shorter than a 64th: a grace or a slip of the finger
    kept = [n for n in line.notes if n[2] - n[1] >= shortest]
    if len(kept) < len(line.notes):
        report.grace_notes_dropped += len(line.notes) - len(kept)
        report.warn(f"{len(line.notes) - len(kept)} notes shorter than a 64th were dropped")
    times = [(Fraction(on, ticks_per_beat), Fraction(off, ticks_per_beat)) for _, on, off in kept]
    placed, grid = quantize_times(times)
    out = [Note(pitch, on, off - on) for (pitch, _, _), (on, off) in zip(kept, placed)]
    report.quantized_notes += grid.moved_edges
    report.max_shift_ticks = max(report.max_shift_ticks, grid.max_shift_ticks)
    for sentence in grid.sentences():
        report.warn(sentence)
    return out


def _count_reductions(notes: list[Note], report: ReportBuilder) -> None:
    onsets: dict[int, int] = {}
    for n in notes:
        onsets[n.onset_ticks] = onsets.get(n.onset_ticks, 0) + 1
    report.chords_reduced = sum(1 for c in onsets.values() if c > 1)
    ordered = sorted(onsets)
    next_onset = {a: b for a, b in zip(ordered, ordered[1:])}
    report.overlaps_cut = sum(
        1 for n in notes if n.onset_ticks in next_onset and n.end_ticks > next_onset[n.onset_ticks]
    )


def _meter(scan: _Scan, report: ReportBuilder) -> Meter:
    if scan.time_signature is None:
        return Meter(4, 4)
    try:
        if scan.time_signature[0] > MAX_METER_NUMERATOR:
            raise ValueError("too many beats in a bar")
        return Meter(*scan.time_signature)
    except ValueError:
        report.warn(f"time signature {scan.time_signature[0]}/{scan.time_signature[1]} "
                    "is not supported; 4/4 is assumed")
        return Meter(4, 4)


def _key(scan: _Scan, ours: str | None, notes: list[Note], line_name: str = "") -> Key:
    """Our own key text, else a key named in the title or track name ("Minuet in G major"), else
    the key signature (mode from the notes when it fits), else an estimate from the notes."""
    from musicgen.io.keysig import key_from_signature, key_from_text

    for text in (ours,):
        if text and len(text) < 40:
            try:
                return Key.parse(text)
            except ValueError:
                continue
    named = key_from_text(scan.title) or key_from_text(line_name)
    if named is not None:
        return named
    from musicgen.io.keyfind import estimate_key

    estimate = estimate_key((n.pitch, n.duration_ticks) for n in notes if n.pitch is not None)
    signed = _mido_key_text(scan.key_signature)
    return key_from_signature(Key.parse(signed), estimate) if signed else estimate


def _mido_key_text(key: str | None) -> str | None:
    if not key:
        return None
    return f"{key[:-1]} minor" if key.endswith("m") else f"{key} major"
