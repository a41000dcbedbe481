"""`musicgen info`: what a melody file holds (title, meter, key, tempo, notes, bars, tunes/tracks)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "run", "describe"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("seed", metavar="SEED", help="a .mid, .abc, .musicxml/.xml/.mxl file")
    parser.add_argument("--tune", type=int, default=None, metavar="N",
                        help="which tune of an ABC tune book (1 = the first)")
    parser.add_argument("--track", type=int, default=None, metavar="N",
                        help="which MIDI track or score part (1 = the first; see the list)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def describe(path: Path, tune: int | None, track: int | None) -> dict[str, Any]:
    """The summary `info` prints, as a JSON-ready dict."""
    from musicgen.io import list_tracks, read_melody_with_report, read_tunes

    melody, report = read_melody_with_report(path, tune=tune, track=track)
    summary: dict[str, Any] = {
        "file": str(path),
        "title": melody.title,
        "meter": str(melody.meter),
        "key": str(melody.key),
        "tempo_bpm": melody.tempo_bpm,
        "notes": melody.note_count,
        "bars": melody.bar_count,
        "pickup_ticks": melody.pickup_ticks,
        "duration_seconds": round(melody.duration_seconds, 2),
        "pitch_range": list(melody.pitch_range) if melody.pitch_range else None,
        "warnings": list(report.warnings),
    }
    tracks = list_tracks(path)
    if tracks:
        summary["tracks"] = [
            {"index": t.index, "name": t.name, "channel": t.channel + 1, "notes": t.note_count,
             "drums": t.is_drum}
            for t in tracks
        ]
    else:
        summary["tunes"] = [t.title for t in read_tunes(path)]
    return summary


def run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reductions are listed in the summary instead
        summary = describe(Path(args.seed), args.tune, args.track)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    out = sys.stdout
    for label, field in (("Title", "title"), ("Meter", "meter"), ("Key", "key"),
                         ("Tempo", "tempo_bpm"), ("Notes", "notes"), ("Bars", "bars")):
        value = summary[field]
        if field == "tempo_bpm":
            value = f"{value:g} bpm"
        print(f"{label + ':':<8}{value}", file=out)
    if summary["pickup_ticks"]:
        print(f"Pickup: {summary['pickup_ticks']} ticks (12 per quarter)", file=out)
    for sentence in summary["warnings"]:
        print(f"Note:   {sentence}", file=out)
    if "tracks" in summary:
        print("Tracks:", file=out)
        for t in summary["tracks"]:
            drums = " (drums)" if t["drums"] else ""
            print(f"  {t['index']:>3}. {t['name'] or '(unnamed)'} - channel {t['channel']}, "
                  f"{t['notes']} notes{drums}", file=out)
    elif len(summary["tunes"]) > 1:
        print(f"Tunes ({len(summary['tunes'])}):", file=out)
        for i, title in enumerate(summary["tunes"], start=1):
            print(f"  {i:>3}. {title or '(untitled)'}", file=out)
    return 0
