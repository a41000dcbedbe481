"""The export work `gui.export_control` runs: which files an export request means, and writing
them (in the worker).

MIDI, ABC and MusicXML go through `musicgen.io.write_melody` (atomic, provenance from
`Melody.metadata` inside the file); WAV is rendered with the project's synthesizer and written
atomically by `musicgen.playback.write_wav`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn, report

__all__ = [
    "EXPORT_FORMATS",
    "ExportRequest",
    "existing_targets",
    "plan_export",
    "safe_stem",
    "batch_stem",
    "write_plan",
]

EXPORT_FORMATS: dict[str, str] = {"MIDI": ".mid", "ABC": ".abc", "MusicXML": ".musicxml",
                                  "WAV": ".wav"}


@dataclass(frozen=True)
class ExportRequest:
    """A file (or, for all variations, a folder), a format suffix and what to include."""

    path: str
    suffix: str = ".mid"
    continuation_only: bool = False
    all_variations: bool = False


def safe_stem(title: str) -> str:
    """A file name stem from a tune title ('The Kesh' -> 'the-kesh')."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()
    return stem or "melody"


def batch_stem(melody: Melody) -> str:
    """The stem of a batch export's files: the tune and the model ('the-kesh-lstm-folk')."""
    model = dict(melody.metadata).get("model", "")
    return safe_stem(f"{melody.title or 'melody'} {model}")


def plan_export(request: ExportRequest, melodies: Sequence[Melody],
                current: int) -> list[tuple[Path, Melody]]:
    """The (path, melody) pairs an export request means."""
    chosen = list(enumerate(melodies, start=1)) if request.all_variations else [
        (current + 1, melodies[current])]
    plan: list[tuple[Path, Melody]] = []
    for number, melody in chosen:
        part = melody.continuation if request.continuation_only else melody
        exported = "continuation" if request.continuation_only else "seed+continuation"
        part = part.with_metadata(variation=number, exported=exported)
        if request.all_variations:
            stem = batch_stem(melody)
            kind = "-continuation" if request.continuation_only else ""
            path = Path(request.path) / f"{stem}-variation-{number}{kind}{request.suffix}"
        else:
            path = Path(request.path)
            if path.suffix.lower() != request.suffix:
                path = path.with_name(path.name + request.suffix)
        plan.append((path, part))
    return plan


def existing_targets(plan: Sequence[tuple[Path, Melody]]) -> list[Path]:
    return [path for path, _melody in plan if path.exists()]


def write_plan(plan: Sequence[tuple[Path, Melody]], tempo_bpm: float | None = None, *,
               on_progress: ProgressFn | None = None,
               should_stop: StopFn | None = None) -> list[Path]:
    """Write every planned file (runs in the worker); returns the paths written."""
    from musicgen.errors import Cancelled, WriteError

    written: list[Path] = []
    for done, (path, melody) in enumerate(plan):
        if should_stop is not None and should_stop():
            raise Cancelled(f"export stopped after {done} of {len(plan)} files")
        try:  # a folder the user typed that does not exist yet is made, as file managers do
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteError(f"Cannot write {path}: the folder {path.parent} cannot be made "
                             f"({exc.strerror or exc}).") from exc
        if not melody.notes:
            raise WriteError(f"Cannot write {path}: there are no notes to export.")
        if tempo_bpm:
            melody = melody.replace(tempo_bpm=float(tempo_bpm))
        _write_one(melody, path)
        written.append(path)
        report(on_progress, done + 1, len(plan), f"exported {path.name}")
    return written


def _write_one(melody: Melody, path: Path) -> None:
    if path.suffix.lower() == ".wav":
        from musicgen import playback

        samples = playback.render(melody, tempo_bpm=melody.tempo_bpm)
        playback.write_wav(path, samples, playback.DEFAULT_SAMPLE_RATE_HZ)
        return
    from musicgen import io

    io.write_melody(melody, path)
