"""The one entry point for reading melody files: format sniffing, tune/track choice, reports.

`tune` and `track` are 1-based, as a user types them (`musicgen info book.abc --tune 3`).
`expand_repeats` (keyword, default True) reads an ABC tune as played; False reads it as written,
each written bar once (see `abc_reader`). MIDI has no repeat signs; MusicXML takes it as ABC does.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from musicgen.errors import SeedError
from musicgen.progress import ProgressFn, StopFn
from musicgen.melody import Melody
from musicgen.io import sniff
from musicgen.io.safety import read_input_bytes
from musicgen.io.types import ReadReport, TrackInfo, TuneInfo, TuneResult

__all__ = [
    "read_melody",
    "read_melody_with_report",
    "read_tunes",
    "list_tracks",
    "read_tune_book",
    "abc_text_to_melody",
    "read_abc_text",
]


def read_melody(
    path: str | os.PathLike[str], tune: int | None = None, track: int | None = None, *,
    expand_repeats: bool = True,
) -> Melody:
    """Read one melody (`tune`: 1-based tune of an ABC book; `track`: 1-based MIDI line or part).

    Notable reductions (quantisation, chords, dropped voices, unexpanded repeats) are reported
    with `warnings.warn`; use `read_melody_with_report` to get them as data instead.
    """
    melody, report = read_melody_with_report(path, tune=tune, track=track, expand_repeats=expand_repeats)
    for sentence in report.warnings:
        warnings.warn(f"{Path(path).name}: {sentence}", stacklevel=2)
    return melody


def read_melody_with_report(
    path: str | os.PathLike[str], tune: int | None = None, track: int | None = None, *,
    expand_repeats: bool = True, cache: bool = False,
) -> tuple[Melody, ReadReport]:
    """Like `read_melody`, returning the report of what was changed to fit the melody model.

    ``cache`` (the command line's seeds): an ABC or MusicXML file read before, unchanged, comes
    from `musicgen.io.seed_cache` without music21; a fresh reading is kept there.
    """
    p = Path(path)
    _check_index(tune, "tune", p)
    _check_index(track, "track", p)
    data = read_input_bytes(p)
    fmt = sniff.detect_format(data, p)
    if cache and fmt != sniff.MIDI:  # MIDI is read without music21: nothing to save
        from musicgen.io import seed_cache

        # the path is in the key: a reading names its file (titles, warnings)
        key = seed_cache.cache_key(data, str(p), tune, track, expand_repeats)
        kept = seed_cache.load(key)
        if kept is None:
            kept = _read_bytes(data, fmt, p, tune, track, expand_repeats)
            seed_cache.store(key, *kept)
        return kept
    return _read_bytes(data, fmt, p, tune, track, expand_repeats)


def _read_bytes(data: bytes, fmt: str, p: Path, tune: int | None, track: int | None,
                expand_repeats: bool) -> tuple[Melody, ReadReport]:
    if fmt == sniff.ABC:
        return _read_abc(sniff.decode_text(data), str(p), tune, track, p.stem, expand_repeats)
    if tune not in (None, 1):
        raise SeedError(f"Cannot read {p}: it holds one tune, so there is no tune {tune}.")
    if fmt == sniff.MIDI:
        from musicgen.io.midi_reader import read_midi_bytes

        return read_midi_bytes(data, name=str(p), track=track, fallback_title=p.stem)
    from musicgen.io.musicxml import read_musicxml_bytes

    return read_musicxml_bytes(data, name=str(p), compressed=fmt == sniff.MXL, track=track,
                               fallback_title=p.stem, expand_repeats=expand_repeats)


def _check_index(value: int | None, what: str, path: Path) -> None:
    if value is not None and (not isinstance(value, int) or value < 1):
        raise SeedError(f"Cannot read {path}: {what} numbers start at 1 (got {value}).")


def _read_abc(
    text: str, name: str, tune: int | None, track: int | None, fallback_title: str,
    expand_repeats: bool = True,
) -> tuple[Melody, ReadReport]:
    from musicgen.io.abc_reader import AbcTune, parse_abc_tune, split_tune_book, tune_name

    tunes = split_tune_book(text)
    index = 1 if tune is None else tune
    if index > len(tunes):
        raise SeedError(
            f"Cannot read {name}: there is no tune {index}; it holds {len(tunes)} "
            f"tune{'s' if len(tunes) != 1 else ''} (numbered from 1)."
        )
    chosen = tunes[index - 1]
    if not chosen.info.title and fallback_title:
        chosen = AbcTune(TuneInfo(chosen.info.index, fallback_title, chosen.info.number), chosen.text,
                         chosen.first_line)
    return parse_abc_tune(chosen, name=tune_name(name, chosen.info, len(tunes)), track=track,
                          expand_repeats=expand_repeats)


def abc_text_to_melody(
    text: str, tune: int | None = None, source_name: str = "pasted ABC", *, expand_repeats: bool = True
) -> Melody:
    """Parse ABC text (e.g. pasted into the app); `tune` is 1-based; errors name `source_name`."""
    if not text.strip():
        raise SeedError(f"Cannot read {source_name}: it is empty.")
    _check_index(tune, "tune", Path(source_name))
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    melody, _ = _read_abc(text, source_name, tune, None, "", expand_repeats)
    return melody


def read_abc_text(
    text: str, source_name: str, tune: int | None = None, *, fallback_title: str = "",
) -> tuple[Melody, ReadReport]:
    """Tune `tune` (1-based; the first when None) of ABC text already decoded, with its report."""
    _check_index(tune, "tune", Path(source_name))
    return _read_abc(text, source_name, tune, None, fallback_title)


def read_tunes(path: str | os.PathLike[str], *, cache: bool = False) -> list[TuneInfo]:
    """The tunes a file holds: every tune of an ABC book (a text scan), or the one tune of others
    (``cache`` as `read_melody_with_report`'s)."""
    p = Path(path)
    data = read_input_bytes(p)
    fmt = sniff.detect_format(data, p)
    if fmt == sniff.ABC:
        from musicgen.io.abc_reader import list_abc_tunes

        return list_abc_tunes(sniff.decode_text(data))
    melody, _ = read_melody_with_report(p, cache=cache)
    return [TuneInfo(1, melody.title, None)]


def list_tracks(path: str | os.PathLike[str]) -> list[TrackInfo]:
    """The note-bearing lines (track and channel) of a MIDI file; [] for other formats."""
    p = Path(path)
    data = read_input_bytes(p)
    if sniff.detect_format(data, p) != sniff.MIDI:
        return []
    from musicgen.io.midi_reader import list_midi_tracks

    return list_midi_tracks(data, name=str(p))


def read_tune_book(
    path: str | os.PathLike[str],
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    expand_repeats: bool = True,
) -> list[TuneResult]:
    """Read every tune of a file, each independently; a bad tune carries its error sentence.

    Raises SeedError only when the file itself cannot be read (missing, empty, wrong format).
    """
    p = Path(path)
    data = read_input_bytes(p)
    fmt = sniff.detect_format(data, p)
    if fmt == sniff.ABC:
        from musicgen.io.abc_reader import read_abc_book

        return read_abc_book(sniff.decode_text(data), source_name=str(p), on_progress=on_progress,
                             should_stop=should_stop, expand_repeats=expand_repeats)
    try:
        melody, report = read_melody_with_report(p, expand_repeats=expand_repeats)
        result = TuneResult(TuneInfo(1, melody.title, None), melody, report)
    except SeedError as exc:
        result = TuneResult(TuneInfo(1, p.stem, None), error=str(exc))
    if on_progress is not None:
        on_progress(1, 1, "read")
    return [result]
