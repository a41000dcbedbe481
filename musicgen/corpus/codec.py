"""A melody as compact JSON (the prepared corpus and the parse cache), and gzip JSON files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from musicgen.melody import Key, Melody, Meter, Note

__all__ = ["melody_to_json", "melody_from_json", "write_gzip_json", "read_gzip_json", "CORPUS_FIELDS"]

# The header fields a corpus keeps with each tune (ABC R:, C:, O:, A:, B:, S:), for the corpus
# browser's columns and search; long free text (history, notes, discography) stays in the source.
CORPUS_FIELDS = ("rhythm", "composer", "origin", "area", "book", "source")


def melody_to_json(m: Melody) -> dict:
    """A melody's music and the short header fields a corpus shows (`CORPUS_FIELDS`)."""
    out = {
        "title": m.title, "meter": str(m.meter), "key": [m.key.tonic_pc, m.key.mode],
        "tempo": m.tempo_bpm, "pickup": m.pickup_ticks,
        "notes": [[-1 if n.pitch is None else n.pitch, n.duration_ticks] for n in m.notes],
    }
    fields = [[k, v] for k, v in m.metadata if k in CORPUS_FIELDS]
    if fields:
        out["fields"] = fields
    return out


def melody_from_json(d: dict) -> Melody:
    """The melody back; a record written before fields were kept simply has none."""
    notes, t = [], 0
    for pitch, dur in d["notes"]:
        notes.append(Note(None if pitch < 0 else pitch, t, dur))
        t += dur
    return Melody(
        tuple(notes), meter=Meter.parse(d["meter"]), key=Key(d["key"][0], d["key"][1]),
        tempo_bpm=d["tempo"], title=d["title"], pickup_ticks=d["pickup"],
        metadata=tuple((str(k), str(v)) for k, v in d.get("fields", ())),
    )


def write_gzip_json(path: Path, obj: object) -> None:
    """Byte-reproducible gzip JSON, written atomically."""
    from musicgen.io.atomic import atomic_write_bytes

    raw = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, gzip.compress(raw, compresslevel=6, mtime=0))


def read_gzip_json(path: Path) -> object:
    return json.loads(gzip.decompress(path.read_bytes()))
