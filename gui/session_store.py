"""The app's session on disk: the seed, the variations (in their sets, edits included), the row
selected and the tempo, so that closing the window (on purpose or not) loses nothing.

Qt-free, so it is tested on its own. The file is JSON, written atomically (a temporary file, then
a rename: a write cut short never replaces a good session). A file that cannot be read back (cut,
edited, of a newer version) is never half-used: `load_session` returns None with a sentence, and
moves the file aside as ``*.damaged.json`` so the next save does not destroy what a user may want
to look at.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from musicgen.melody import Melody
from musicgen.melody_codec import melody_from_dict, melody_to_dict

__all__ = ["SESSION_VERSION", "Session", "load_session", "save_session"]

SESSION_VERSION = 1
_MAX_BYTES = 64 * 1024 * 1024  # a session is a few hundred kB; anything far larger is not ours


@dataclass
class Session:
    """What the window shows that a restart would otherwise lose."""

    seed: Melody | None = None  # what Generate continues (perhaps trimmed)
    seed_full: Melody | None = None  # the seed as read, before a trim
    seed_path: str | None = None  # its file, when it came from one
    sets: list[list[Melody]] = field(default_factory=list)  # the variations, per Generate
    selected: int = -1  # the row selected in the variations list
    tempo_bpm: float | None = None  # the transport's tempo

    @property
    def variation_count(self) -> int:
        return sum(len(s) for s in self.sets)


class _Refused(ValueError):
    """A session file read whole but not one to restore; the message says why."""


def save_session(path: str | os.PathLike[str], session: Session) -> Path:
    """Write the session atomically (the folder is made when missing); raises `WriteError`."""
    from musicgen.io.atomic import atomic_write_text

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "version": SESSION_VERSION,
        "seed": None if session.seed is None else melody_to_dict(session.seed),
        "seed_full": None if session.seed_full is None or session.seed_full == session.seed
        else melody_to_dict(session.seed_full),
        "seed_path": session.seed_path,
        "sets": [[melody_to_dict(m) for m in melodies] for melodies in session.sets],
        "selected": session.selected,
        "tempo_bpm": session.tempo_bpm,
    }
    return atomic_write_text(target, json.dumps(document, separators=(",", ":")))


def load_session(path: str | os.PathLike[str]) -> tuple[Session | None, str]:
    """The session saved at ``path``: (session, "") when it reads back whole; (None, "") when
    there is none; (None, sentence) when it is damaged, the file then moved aside."""
    source = Path(path)
    if not source.is_file():
        return None, ""
    try:
        if source.stat().st_size > _MAX_BYTES:
            raise _Refused("it is far larger than a session")
        from musicgen.safe_json import loads

        document = loads(source.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("version") != SESSION_VERSION:
            raise _Refused("it is not a session this version of musicgen wrote")
        seed = None if document["seed"] is None else melody_from_dict(document["seed"])
        full = seed if document.get("seed_full") is None else melody_from_dict(document["seed_full"])
        sets = [[melody_from_dict(m) for m in melodies] for melodies in document["sets"]]
        if any(not melodies for melodies in sets):
            raise _Refused("it holds an empty set of variations")
        tempo = document.get("tempo_bpm")
        session = Session(seed=seed, seed_full=full,
                          seed_path=None if document.get("seed_path") is None
                          else str(document["seed_path"]),
                          sets=sets, selected=int(document.get("selected", -1)),
                          tempo_bpm=None if tempo is None else float(tempo))
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        aside = source.with_name(source.stem + ".damaged.json")
        try:
            os.replace(source, aside)
            kept = f" It was kept as {aside.name}."
        except OSError:
            kept = ""
        reason = str(exc) if isinstance(exc, _Refused) else "the file is damaged (cut short or edited)"
        return None, f"The last session could not be restored: {reason}.{kept}"
    return session, ""
