"""ABC tune books to `Melody`, one tune at a time, through music21's ABC parser.

Decisions (see also `m21_convert`):

- A tune book is split on its ``X:`` lines before music21 sees it, so listing tunes is a cheap
  text scan and one bad tune never stops the others. The file header (the lines before the first
  ``X:``, e.g. ``%abc-2.1`` or a default ``L:``) is given to every tune.
- Repeats and first/second endings are EXPANDED (by `musicgen.io.repeats`, a bar-level walk that
  is several times faster than music21's ``expandRepeats`` and reads ``:|:`` as AABB where
  music21 replays the A part): the melody is the tune as played, which is what a next-note model
  should learn and continue. Unbalanced marks are read leniently (a ``:|`` without ``|:`` goes
  back to the start of the tune or of the previous section); the report says repeats were expanded.
  ``expand_repeats=False`` reads the tune as WRITTEN instead: repeat signs and ending brackets are
  dropped, so each written bar comes once (both endings, one after the other): what peers that
  model ABC text score, and what "bits per written note" measures.
- Chords keep their top note, grace notes are dropped, ties merge, triplets and broken rhythm
  (``>``, ``<``) keep their exact durations; chord symbols ("Am") are dropped and counted
  (the report says "12 chord symbols were dropped: the models read melody only").
- Inline ``[K:]``/``[M:]`` changes: pitches are absolute, so key changes are harmless; the melody
  keeps the opening meter and key, and a meter change is reported.
- Several voices: the first is read (``track=`` picks another) and the report says so.
- Text is UTF-8 (with or without BOM) or Latin-1, with any line ends.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from musicgen.errors import SeedError
from musicgen.progress import ProgressFn, StopFn
from musicgen.melody import Melody
from musicgen.io.abc_limits import check_abc_numbers, lean_music21
from musicgen.io.bounded import in_bounded_child, run_bounded, warm_imports
from musicgen.io.safety import MAX_TUNES, error_detail
from musicgen.io.abc_fields import first_bad_line, header_fields, with_default_fields
from musicgen.io.types import ReadReport, ReportBuilder, TuneInfo, TuneResult

__all__ = ["AbcTune", "split_tune_book", "list_abc_tunes", "parse_abc_tune", "read_abc_book"]

_X_LINE = re.compile(r"^X:\s*(\d{0,9})", re.MULTILINE)  # longer numbers: not a tune number
_HEADER_KEEP = re.compile(r"^(%abc|%%|[A-Za-z]:)")
_MAX_TUNE_CHARS = 200_000
_PROVENANCE = re.compile(r"^% musicgen ([^:\n]+): (.*)$", re.MULTILINE)  # written by abc_writer
# music21 ignores inline [K:..] for pitches; the same field on a line of its own works, and in
# ABC a line break inside the music changes nothing but layout. The same holds for [V:..], and
# music21 splits voices only on V: lines of the body (header V: lines make empty voices).
_INLINE_FIELD = re.compile(r"\[([KLMQV]):([^\]\n]*)\]")
_OTHER_INLINE_FIELD = re.compile(r"\[[A-JN-PR-Za-z]:[^\]\n]*\]")


@dataclass(frozen=True, slots=True)
class AbcTune:
    """The text of one tune (with the book's file header prepended) and its listing entry."""

    info: TuneInfo
    text: str
    first_line: int = 1  # the file's line number of the text's first line (a book's header: <= 0)


def split_tune_book(text: str) -> list[AbcTune]:
    """Split ABC text on ``X:`` lines; text without any ``X:`` is one tune."""
    starts = [m.start() for m in _X_LINE.finditer(text)]
    if not starts:
        return [AbcTune(TuneInfo(1, _title_of(text), None), text)]
    header_lines = [ln for ln in text[: starts[0]].splitlines() if _HEADER_KEEP.match(ln)]
    header = "".join(ln + "\n" for ln in header_lines if not ln.startswith(("T:", "X:")))
    tunes = []
    header_lines_count = header.count("\n")
    line, counted_to = 1, 0  # line numbers counted on as we go: linear in a 20 MB book
    for i, start in enumerate(starts[:MAX_TUNES]):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        body = text[start:end]
        number_text = _X_LINE.match(body).group(1)  # type: ignore[union-attr]
        number = int(number_text) if number_text else None
        line, counted_to = line + text.count("\n", counted_to, start), start
        first_line = line - header_lines_count
        tunes.append(AbcTune(TuneInfo(i + 1, _title_of(body), number), header + body, first_line))
    return tunes


def _title_of(tune_text: str) -> str:
    for line in tune_text.splitlines():
        if line.startswith("T:"):
            return line[2:].strip()
        if line.startswith("K:"):
            break
    return ""


def list_abc_tunes(text: str) -> list[TuneInfo]:
    """The tunes of an ABC text (position, title, X: number) without parsing their music."""
    return [t.info for t in split_tune_book(text)]


def parse_abc_tune(
    tune: AbcTune, *, name: str, track: int | None = None, expand_repeats: bool = True
) -> tuple[Melody, ReadReport]:
    """Parse one tune's text into a Melody and its report; SeedError naming `name` on failure.

    `expand_repeats=False` gives the tune as written (see the module docstring). The parse runs
    under the read budget (`bounded`): a tune too complex to read raises `TooComplexError`."""
    warm_imports("music21", "music21.abcFormat.translate", "musicgen.io.m21_convert",
                 "musicgen.io.repeats")  # once here, not in every child
    return run_bounded(name, _parse_abc_tune, tune, name, track, expand_repeats)


def _parse_abc_tune(
    tune: AbcTune, name: str, track: int | None, expand_repeats: bool
) -> tuple[Melody, ReadReport]:
    from musicgen.io.m21_convert import score_to_melody

    if len(tune.text) > _MAX_TUNE_CHARS:
        raise SeedError(f"Cannot read {name}: the tune is over {_MAX_TUNE_CHARS} characters long.")
    _check_has_body(tune.text, name)
    check_abc_numbers(tune.text, name)
    report = ReportBuilder()
    text = with_default_fields(_inline_fields_to_lines(tune.text), report)
    try:
        score = _m21_parse(text, name)
    except SeedError as exc:
        raise _line_error(tune, name, exc) from exc
    if not expand_repeats:
        from musicgen.io.repeats import drop_repeat_marks

        drop_repeat_marks(score)
    melody = score_to_melody(score, name=name, track=track, title=tune.info.title, report=report)
    fields = tuple(header_fields(tune.text)) + tuple(
        (k.strip(), v.strip()) for k, v in _PROVENANCE.findall(tune.text))
    if fields:
        melody = melody.replace(metadata=fields)
    return melody, report.build()


def _inline_fields_to_lines(text: str) -> str:
    key_line = re.search(r"^K:.*$", text, re.MULTILINE)
    if key_line is None or ("[" not in text and "V:" not in text):
        return text
    head, body = text[: key_line.end()], text[key_line.end() :]
    head = "\n".join(ln for ln in head.split("\n") if not ln.startswith("V:"))
    body = _INLINE_FIELD.sub(lambda m: f"\n{m.group(1)}:{m.group(2).strip()}\n", body)
    body = _OTHER_INLINE_FIELD.sub("", body)  # [r:remark], [P:B], [I:...]: no notes (not a chord)
    return head + body


def _check_has_body(text: str, name: str) -> None:
    lines = text.splitlines()
    key_at = next((i for i, ln in enumerate(lines) if ln.startswith("K:")), None)
    if key_at is None:
        has_music = any(ln.strip() and not re.match(r"^([A-Za-z]:|%)", ln) for ln in lines)
        if not has_music:
            raise SeedError(f"Cannot read {name}: the ABC tune has a header but no music.")
        return
    body = [ln for ln in lines[key_at + 1 :] if ln.strip() and not ln.startswith("%")]
    if not body:
        raise SeedError(f"Cannot read {name}: the ABC tune has a header but no music after K:.")


def _line_error(tune: AbcTune, name: str, exc: SeedError) -> SeedError:
    """The parse error naming the first line that breaks the parse (by its number in the file)."""
    def parses(prefix: str) -> bool:
        try:
            _m21_parse(with_default_fields(_inline_fields_to_lines(prefix), ReportBuilder()), name)
            return True
        except SeedError:
            return False

    bad = first_bad_line(tune.text, parses)
    if bad is None:
        return exc
    number, line = bad
    shown = "".join(c if c.isprintable() else "?" for c in line.strip())  # no control bytes
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return SeedError(f"Cannot read {name}: line {tune.first_line + number - 1} could not be "
                     f"read ({shown}).")


def _m21_parse(text: str, name: str):  # -> music21.stream.Score
    from music21 import abcFormat
    from music21.abcFormat import translate

    lean = lean_music21() if in_bounded_child() else contextlib.nullcontext()
    try:
        with lean:  # no beaming, bounded meter guessing: see abc_limits
            handler = abcFormat.ABCFile().readstr(text)
            return translate.abcToStreamScore(handler)
    except MemoryError:
        raise  # the read budget reports it ("too complex to read")
    except RecursionError as exc:
        raise SeedError(f"Cannot read {name}: the ABC is nested too deeply to parse.") from exc
    except Exception as exc:  # music21's ABC parser raises many types on malformed input
        detail = error_detail(exc, "music21 stopped on a malformed note or field")
        raise SeedError(f"Cannot read {name}: the ABC could not be parsed ({detail}).") from exc


def read_abc_book(
    text: str,
    *,
    source_name: str,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    expand_repeats: bool = True,
) -> list[TuneResult]:
    """Parse every tune independently: a bad tune becomes a TuneResult with its error sentence."""
    tunes = split_tune_book(text)
    results: list[TuneResult] = []
    for done, tune in enumerate(tunes):
        if should_stop is not None and should_stop():
            break
        name = tune_name(source_name, tune.info, len(tunes))
        try:
            melody, report = parse_abc_tune(tune, name=name, expand_repeats=expand_repeats)
            results.append(TuneResult(tune.info, melody, report))
        except SeedError as exc:
            results.append(TuneResult(tune.info, error=str(exc)))
        if on_progress is not None:
            on_progress(done + 1, len(tunes), "reading tunes")
    return results


def tune_name(source_name: str, info: TuneInfo, tune_count: int) -> str:
    """How messages name a tune: the file alone for a single tune, else 'file, tune N'."""
    return source_name if tune_count == 1 else f"{source_name}, tune {info.index}"
