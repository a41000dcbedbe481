"""Melodies as JSON-ready data and back: what the app's session file and the command line's seed
cache keep (every field: notes with their onsets, the seed boundary, the form, metadata)."""

from __future__ import annotations

from typing import Any

from musicgen.melody import Key, Melody, Meter, Note, PartForm, TuneForm

__all__ = ["melody_to_dict", "melody_from_dict"]


def melody_to_dict(melody: Melody) -> dict[str, Any]:
    """Every field of a melody (notes with their onsets, the seed boundary, the form, metadata) as
    JSON-ready data: the app's session and the command line's seed cache keep melodies so."""
    return {
        "notes": [[-1 if n.pitch is None else n.pitch, n.onset_ticks, n.duration_ticks]
                  for n in melody.notes],
        "meter": [melody.meter.numerator, melody.meter.denominator],
        "key": [melody.key.tonic_pc, melody.key.mode],
        "tempo_bpm": melody.tempo_bpm, "title": melody.title, "pickup_ticks": melody.pickup_ticks,
        "seed_end_ticks": melody.seed_end_ticks,
        "metadata": [list(item) for item in melody.metadata],
        "form": None if melody.form is None else [
            [p.name, p.start, p.body_ticks, p.first_ending_ticks, p.second_ending_ticks]
            for p in melody.form.parts],
    }


def melody_from_dict(data: dict[str, Any]) -> Melody:
    """The melody `melody_to_dict` wrote; raises ValueError (or TypeError, KeyError) on anything
    else, so a damaged file is refused whole."""
    notes = tuple(Note(None if int(p) < 0 else int(p), int(onset), int(duration))
                  for p, onset, duration in data["notes"])
    form = data.get("form")
    return Melody(
        notes, meter=Meter(int(data["meter"][0]), int(data["meter"][1])),
        key=Key(int(data["key"][0]), str(data["key"][1])), tempo_bpm=float(data["tempo_bpm"]),
        title=str(data["title"]), pickup_ticks=int(data["pickup_ticks"]),
        seed_end_ticks=None if data["seed_end_ticks"] is None else int(data["seed_end_ticks"]),
        metadata=tuple((str(k), str(v)) for k, v in data["metadata"]),
        form=None if form is None else TuneForm(tuple(
            PartForm(str(name), int(start), int(body), int(first), int(second))
            for name, start, body, first, second in form)),
    )
