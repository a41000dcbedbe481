"""MusicXML (.musicxml, .xml, .mxl) reading and writing through music21.

Reading: the XML is first parsed with entity declarations refused (defusedxml; "billion laughs"
fails in milliseconds) and .mxl archives are size- and ratio-checked before anything is
extracted; then music21 parses the checked text. The first part is read by default; `track=`
(1-based) picks another. Writing: one part, bars with a pickup measure, pitches spelled in the
key, provenance as miscellaneous metadata fields.
"""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from typing import Any

from musicgen.errors import SeedError, WriteError
from musicgen.melody import TICKS_PER_QUARTER, Melody
from musicgen.io.bounded import run_bounded, warm_imports
from musicgen.io.keysig import key_sharps, spell
from musicgen.io.safety import (check_musicxml_numbers, check_xml_safe, error_detail,
                                extract_mxl_score)
from musicgen.io.types import ReadReport, ReportBuilder

__all__ = ["read_musicxml_bytes", "melody_to_score", "melody_to_musicxml_bytes"]

_PROVENANCE_PREFIX = "musicgen-"


def read_musicxml_bytes(
    data: bytes, *, name: str, compressed: bool, track: int | None = None, fallback_title: str = "",
    expand_repeats: bool = True,
) -> tuple[Melody, ReadReport]:
    """Parse (compressed) MusicXML bytes safely into the chosen part as a Melody (under the read
    budget of `bounded`: a score too complex to read raises `TooComplexError`).
    `expand_repeats=False` reads the score as written (repeat marks dropped, as `abc_reader`)."""
    warm_imports("music21", "music21.musicxml.xmlToM21", "defusedxml.ElementTree",
                 "musicgen.io.m21_convert", "musicgen.io.repeats")
    return run_bounded(name, _read_musicxml_bytes, data, name, compressed, track, fallback_title,
                       expand_repeats)


def _read_musicxml_bytes(
    data: bytes, name: str, compressed: bool, track: int | None, fallback_title: str,
    expand_repeats: bool = True,
) -> tuple[Melody, ReadReport]:
    xml = extract_mxl_score(data, name) if compressed else data
    root = check_xml_safe(xml, name)
    check_musicxml_numbers(root, name)
    from musicgen.io.m21_convert import score_to_melody

    score = _m21_parse(root, name)
    if not expand_repeats:
        from musicgen.io.repeats import drop_repeat_marks

        drop_repeat_marks(score)
    report = ReportBuilder()
    melody = score_to_melody(score, name=name, track=track, title=fallback_title, report=report)
    provenance = _provenance(score)
    if provenance:
        melody = melody.replace(metadata=provenance)
    return melody, report.build()


def _m21_parse(root: Any, name: str) -> Any:
    from music21.musicxml import xmlToM21

    if root.tag != "score-partwise":
        raise SeedError(
            f"Cannot read {name}: the root element is <{str(root.tag)[:40]}>, not a partwise "
            "MusicXML score."
        )
    try:
        parser = xmlToM21.MusicXMLImporter()
        # the importer's own stream: a multi-staff part (piano, accordion, harp) puts its staves
        # there, not into a score passed in, which then looked empty ("no pitched notes")
        parser.xmlRootToScore(root, parser.stream)
        return parser.stream
    except MemoryError:
        raise  # the read budget reports it ("too complex to read")
    except RecursionError as exc:
        raise SeedError(f"Cannot read {name}: the MusicXML is nested too deeply.") from exc
    except Exception as exc:  # music21 raises many types on unexpected MusicXML
        raise SeedError(f"Cannot read {name}: the MusicXML could not be parsed "
                        f"({error_detail(exc, 'music21 stopped on an element it did not expect')}).") from exc


def _provenance(score: Any) -> tuple[tuple[str, str], ...]:
    if score.metadata is None:
        return ()
    pairs = []
    for key, value in score.metadata.all():
        if key.startswith(_PROVENANCE_PREFIX):
            pairs.append((key[len(_PROVENANCE_PREFIX):], str(value)))
    return tuple(pairs)


def melody_to_score(melody: Melody) -> Any:
    """A music21 Score of one part holding `melody` (bars, pickup, ties, spelled pitches)."""
    from music21 import key, meter, metadata, stream

    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = melody.title or "Untitled"
    score.metadata.movementName = melody.title or "Untitled"
    for name, value in melody.metadata:
        score.metadata.addCustom(_PROVENANCE_PREFIX + name, str(value))
    part = stream.Part()
    bar = melody.meter.bar_ticks
    edges = [0] + list(range(melody.pickup_ticks or bar, melody.duration_ticks, bar))
    edges.append(melody.duration_ticks)
    for number, (start, end) in enumerate(zip(edges, edges[1:]), start=0 if melody.pickup_ticks else 1):
        measure = stream.Measure(number=number)
        if start == 0:
            measure.insert(0, meter.TimeSignature(str(melody.meter)))
            measure.insert(0, key.Key(_m21_tonic(melody), melody.key.mode))
            measure.insert(0, _metronome_mark(melody))
        _fill_measure(measure, melody, start, end)
        if melody.seed_end_ticks and start <= melody.seed_end_ticks < end:
            from music21 import expressions

            mark = expressions.RehearsalMark("continuation")
            measure.insert(Fraction(melody.seed_end_ticks - start, TICKS_PER_QUARTER), mark)
        if start == 0 and melody.pickup_ticks:
            measure.paddingLeft = Fraction(bar - melody.pickup_ticks, TICKS_PER_QUARTER)
        elif end - start < bar:  # a final partial bar: no rest padding on export
            measure.paddingRight = Fraction(bar - (end - start), TICKS_PER_QUARTER)
        part.append(measure)
    score.insert(0, part)
    return score


def _metronome_mark(melody: Melody) -> Any:
    """The tempo in the meter's beat (dotted quarter = 110 in 6/8, half = 60 in 2/2)."""
    from music21 import duration, tempo

    from musicgen.io.tempo import quarter_to_beat_bpm

    beat = duration.Duration(Fraction(melody.meter.beat_ticks, TICKS_PER_QUARTER))
    bpm = round(quarter_to_beat_bpm(melody.tempo_bpm, melody.meter), 3)
    return tempo.MetronomeMark(number=bpm, referent=beat)


def _m21_tonic(melody: Melody) -> str:
    letter, alter, _ = spell(60 + melody.key.tonic_pc, key_sharps(melody.key))
    return letter + {-1: "-", 0: "", 1: "#"}[alter]


def _fill_measure(measure: Any, melody: Melody, start: int, end: int) -> None:
    from music21 import note, pitch, tie

    sharps = key_sharps(melody.key)
    for n in melody.notes:
        s, e = max(n.onset_ticks, start), min(n.end_ticks, end)
        if s >= e:
            continue
        length = Fraction(e - s, TICKS_PER_QUARTER)
        if n.is_rest:
            element = note.Rest(quarterLength=length)
        else:
            letter, alter, octave = spell(n.pitch, sharps)
            p = pitch.Pitch(step=letter, octave=octave)
            if alter:
                p.accidental = pitch.Accidental(alter)
            element = note.Note(p, quarterLength=length)
            starts_here, ends_here = s == n.onset_ticks, e == n.end_ticks
            if not (starts_here and ends_here):
                element.tie = tie.Tie("start" if starts_here else "stop" if ends_here else "continue")
        measure.insert(Fraction(s - start, TICKS_PER_QUARTER), element)


def melody_to_musicxml_bytes(melody: Melody, compressed: bool = False,
                             member_name: str = "score.musicxml") -> bytes:
    """MusicXML bytes for `melody`; a .mxl zip archive when `compressed`."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        xml = GeneralObjectExporter(melody_to_score(melody)).parse()
    except Exception as exc:  # music21's exporter raises several types
        raise WriteError(f"Cannot write MusicXML for '{melody.title}': {exc}.") from exc
    if not compressed:
        return xml
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.recordare.musicxml", zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
            f'<rootfile full-path="{member_name}" media-type="application/vnd.recordare.musicxml+xml"/>'
            "</rootfiles></container>\n",
        )
        archive.writestr(member_name, xml)
    return buffer.getvalue()
