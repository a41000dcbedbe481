"""`musicgen info`: what a melody file holds (title, meter, key, tempo, notes, bars, tunes/tracks),
or what a checkpoint is (kind, size, model fields, corpus, figures) for a model name or path."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "run", "describe", "checkpoint_lines"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("seed", metavar="SEED|CKPT",
                        help="a .mid, .abc, .musicxml/.xml/.mxl file, or a model (a name from "
                             "`musicgen models` or a checkpoint path)")
    parser.add_argument("--tune", type=int, default=None, metavar="N",
                        help="which tune of an ABC tune book (1 = the first)")
    parser.add_argument("--track", type=int, default=None, metavar="N",
                        help="which MIDI track or score part (1 = the first; see the list)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def describe(path: Path, tune: int | None, track: int | None) -> dict[str, Any]:
    """The summary `info` prints, as a JSON-ready dict."""
    from musicgen.io import list_tracks, read_melody_with_report, read_tunes
    from musicgen.io.tempo import tempo_text

    melody, report = read_melody_with_report(path, tune=tune, track=track, cache=True)
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
        "tempo": tempo_text(melody.tempo_bpm, melody.meter),
        "using": report.source_part,
        "parts": list(report.part_names),
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
        summary["tunes"] = [t.title for t in read_tunes(path, cache=True)]
    return summary


def _show_checkpoint(args: argparse.Namespace) -> bool:
    """Print a model's summary when SEED names a checkpoint; False when it does not."""
    from musicgen.library import describe_checkpoint, looks_like_checkpoint

    if not looks_like_checkpoint(args.seed):
        return False
    from musicgen.engine.native import status

    summary = {**describe_checkpoint(args.seed), "generation_step": status()}
    print(json.dumps(summary, ensure_ascii=False) if args.json else
          "\n".join(checkpoint_lines(summary)))
    return True


def run(args: argparse.Namespace) -> int:
    from musicgen.melody import duration_name

    if _show_checkpoint(args):
        return 0
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
        if field == "tempo_bpm":  # in the meter's beat: a jig at dotted quarter = 110
            value = summary["tempo"] + ("" if summary["tempo"].startswith("♩ ") else
                                        f" ({value:.0f} quarter notes a minute)")
        if field == "bars" and summary["pickup_ticks"]:  # as a musician counts: 32 and a pickup
            value = f"{value - 1} and a pickup ({_article(duration_name(summary['pickup_ticks']))})"
        print(f"{label + ':':<8}{value}", file=out)
    if len(summary["parts"]) > 1:
        print(f"Using {summary['using']}", file=out)
    for sentence in summary["warnings"]:
        print(f"Note:   {sentence}", file=out)
    chosen = _chosen_part(summary, args.tune, args.track)
    if chosen:
        print(chosen, file=out)
    elif "tracks" in summary:
        print("Tracks:", file=out)
        for t in summary["tracks"]:
            drums = " (drums)" if t["drums"] else ""
            print(f"  {t['index']:>3}. {t['name'] or '(unnamed)'} - channel {t['channel']}, "
                  f"{t['notes']} notes{drums}", file=out)
    elif len(summary["parts"]) > 1:
        print("Parts:", file=out)
        for i, name in enumerate(summary["parts"], start=1):
            print(f"  {i:>3}. {name}", file=out)
    elif len(summary["tunes"]) > 1:
        print(f"Tunes ({len(summary['tunes'])}):", file=out)
        for i, title in enumerate(summary["tunes"], start=1):
            print(f"  {i:>3}. {title or '(untitled)'}", file=out)
    return 0


def _chosen_part(summary: dict[str, Any], tune: int | None, track: int | None) -> str:
    """'Tune:   5 of 313 in this book' when --tune/--track picked one of several: that tune is
    what was shown, so the whole list is not printed again ('' when none was picked)."""
    if "tracks" in summary and track is not None and len(summary["tracks"]) > 1:
        return f"Track:  {track} of {len(summary['tracks'])} in this file (leave out --track to list them)"
    if len(summary["parts"]) > 1 and track is not None:
        return f"Part:   {track} of {len(summary['parts'])} in this score (leave out --track to list them)"
    tunes = summary.get("tunes") or []
    if tune is not None and len(tunes) > 1:
        return f"Tune:   {tune} of {len(tunes)} in this book (leave out --tune to list them)"
    return ""


def checkpoint_lines(summary: dict[str, Any]) -> list[str]:
    """A checkpoint's summary as lines a person reads."""
    figures, corpus = summary["figures"], summary.get("corpus") or {}
    size = summary["file_bytes"]
    lines = [f"Model:   {summary['name']} ({summary['path']})",
             f"Kind:    {summary['kind']}, {summary['parameters'] or 0:,} parameters"
             + (f", {size / 1e6:.1f} MB" if size else ""),
             "Fields:  " + ", ".join(f"{k}={v}" for k, v in summary["fields"].items()),
             f"Corpus:  {corpus.get('name', '?')} (fingerprint {corpus.get('fingerprint')}), "
             + ", ".join(f"{k} {v}" for k, v in (corpus.get("tunes") or {}).items())]
    if summary.get("init_checkpoint"):
        lines.append(f"Started from: {summary['init_checkpoint']}")
    training = ", ".join(f"{k} {v}" for k, v in summary["training"].items() if v not in (None, {}))
    lines.append(f"Training: {training}; {summary['steps']} steps, {summary['epochs']} epochs, "
                 f"{(summary['wall_time_s'] or 0) / 60:.1f} min on {summary['hardware']}")
    if figures["bits_per_note"] is not None:
        before = (f" (before: {figures['bits_before']:.3f} for {figures['base']})"
                  if figures["bits_before"] is not None else "")
        lines.append(f"Bits/note: {figures['bits_per_note']:.3f} on {figures['measured_on']}"
                     f"{before}")
    if figures["copy_share"] is not None:
        reference = figures["copy_reference"]
        lines.append(f"Copies 4+ bars of its tunes: {figures['copy_share']:.0%} of samples"
                     + (f" (reference {reference:.0%})" if reference is not None else ""))
    if summary.get("generation_step"):  # which step generation runs here (engine/native.py)
        lines.append(f"Generates with: {summary['generation_step']}")
    return lines


def _article(name: str) -> str:
    """'an eighth', 'a dotted quarter', '1.5 beats'."""
    if name[0].isdigit():
        return name
    return ("an " if name[0] in "aeiou" else "a ") + name
