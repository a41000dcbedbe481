"""Standard MIDI files to `Melody` through mido: pick the melody line, quantise, find bars and key.

A "track" here is one note-bearing line: a MIDI track and channel pair, numbered from 1 in file
order (type 0 files hold several channels in one track). The default line is the pitched,
non-drum (channel 10) line with the most notes; simultaneous notes keep the highest (skyline),
overlapping legato notes are cut where the next begins. Whole bars of leading silence are dropped;
a first note that starts mid-bar makes a pickup. Without a key signature the key is estimated
(Krumhansl-Schmuckler, music21). Text meta events "musicgen KEY: VALUE" written by our MIDI
writer restore the mode (MIDI key signatures know only major and minor) and provenance.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.errors import SeedError
from musicgen.melody import TICKS_PER_QUARTER, Key, Melody, Meter, Note
from musicgen.io.safety import MAX_NOTES
from musicgen.io.types import ReadReport, ReportBuilder, TrackInfo

__all__ = ["read_midi_bytes", "list_midi_tracks", "DRUM_CHANNEL", "META_PREFIX"]

DRUM_CHANNEL = 9  # channel 10 as musicians count
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

    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        detail = str(exc).strip() or type(exc).__name__
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
        if t_index == 0 and not scan.title:
            scan.title = msg.name.strip()
        return msg.name.strip()
    elif msg.type == "text" and msg.text.startswith(META_PREFIX):
        scan.texts.append(msg.text[len(META_PREFIX):])
    return track_name


def list_midi_tracks(data: bytes, *, name: str) -> list[TrackInfo]:
    """The note-bearing lines of a MIDI file, numbered from 1 (what `track=` takes)."""
    return [
        TrackInfo(i + 1, line.name, line.channel, len(line.notes),
                  line.channel == DRUM_CHANNEL, line.midi_track)
        for i, line in enumerate(_scan(data, name).lines)
    ]


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
    """Parse MIDI bytes into the chosen line as a Melody, with its report."""
    scan = _scan(data, name)
    line = _choose_line(scan, name, track)
    report = ReportBuilder()
    meter = _meter(scan, report)
    notes = _quantised(line, scan.ticks_per_beat, report)
    if not notes:
        raise SeedError(f"Cannot read {name}: it has no pitched notes.")
    _count_reductions(notes, report)
    first = min(n.onset_ticks for n in notes)
    bar = meter.bar_ticks
    into_bar = first % bar
    notes = [n.shifted(-first) for n in notes]  # leading silence goes; a mid-bar start is a pickup
    pickup = (bar - into_bar) % bar
    extras = dict(t.split(": ", 1) for t in scan.texts if ": " in t)
    key = _key(scan, extras.pop("key", None), notes)
    title = extras.pop("title", None) or scan.title or fallback_title
    tempo = round(60_000_000 / scan.tempo_us, 3) if scan.tempo_us else 120.0
    melody = Melody.from_notes(notes, meter=meter, key=key, tempo_bpm=tempo, title=title,
                               pickup_ticks=pickup, metadata=tuple(extras.items()))
    return melody, report.build()


def _quantised(line: _Line, ticks_per_beat: int, report: ReportBuilder) -> list[Note]:
    out = []
    for pitch, on, off in line.notes:
        exact_on = Fraction(on * TICKS_PER_QUARTER, ticks_per_beat)
        exact_off = Fraction(off * TICKS_PER_QUARTER, ticks_per_beat)
        q_on, q_off = round(exact_on), round(exact_off)
        report.note_shift(float(abs(exact_on - q_on)))
        report.note_shift(float(abs(exact_off - q_off)))
        if q_off <= q_on:
            report.grace_notes_dropped += 1
            continue
        out.append(Note(pitch, q_on, q_off - q_on))
    if report.grace_notes_dropped:
        report.warn(f"{report.grace_notes_dropped} notes shorter than a 48th were dropped")
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
        return Meter(*scan.time_signature)
    except ValueError:
        report.warn(f"time signature {scan.time_signature[0]}/{scan.time_signature[1]} "
                    "is not supported; 4/4 is assumed")
        return Meter(4, 4)


def _key(scan: _Scan, ours: str | None, notes: list[Note]) -> Key:
    for text in (ours, _mido_key_text(scan.key_signature)):
        if text:
            try:
                return Key.parse(text)
            except ValueError:
                continue
    from musicgen.io.m21_convert import estimate_key

    return estimate_key((n.pitch, n.duration_ticks) for n in notes if n.pitch is not None)


def _mido_key_text(key: str | None) -> str | None:
    if not key:
        return None
    return f"{key[:-1]} minor" if key.endswith("m") else f"{key} major"
