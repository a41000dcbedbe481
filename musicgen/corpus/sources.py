"""Where a corpus's tunes come from: the folk collections inside music21, or a folder of files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from musicgen.errors import CorpusError

__all__ = ["FOLK_COLLECTIONS", "MELODY_SUFFIXES", "PARSER_VERSION", "Source", "folk_sources", "folder_sources"]

# Bump when the readers change what a tune parses to, or the records keep more: invalidates caches
# and prepared corpora (their fingerprint includes it). 3: header fields (R: rhythm...) kept, and
# the ABC reader's header handling of issue 14 (default L:, free meter) counted in.
PARSER_VERSION = 3
FOLK_COLLECTIONS: dict[str, str] = {
    # collection name -> folder inside music21/corpus
    "oneills1850": "oneills1850",
    "ryansMammoth": "ryansMammoth",
    "airdsAirs": "airdsAirs",
    "essenFolksong": "essenFolksong",
    "miscFolk": "miscFolk",
    "nottingham": "nottingham-dataset",
}
MELODY_SUFFIXES = {".abc", ".mid", ".midi", ".musicxml", ".xml", ".mxl"}


@dataclass(frozen=True)
class Source:
    """One file of a corpus, the collection it belongs to, and its name relative to the root."""

    collection: str
    path: Path
    relative: str

    def digest(self) -> str:
        h = hashlib.sha256(f"parser-{PARSER_VERSION}\n".encode())
        h.update(self.path.read_bytes())
        return h.hexdigest()


def _music21_corpus_root() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.origin:
        raise CorpusError("music21 is not installed, so the folk corpus is unavailable")
    return Path(spec.origin).parent / "corpus"


def folk_sources() -> list[Source]:
    """The ABC files of the folk collections inside music21's corpus, in a fixed order."""
    root = _music21_corpus_root()
    sources = []
    for collection, folder in FOLK_COLLECTIONS.items():
        base = root / folder
        if not base.is_dir():
            raise CorpusError(
                f"music21's corpus has no '{folder}' folder; reinstall music21 with its corpus"
            )
        sources += [Source(collection, p, f"{folder}/{p.name}") for p in sorted(base.glob("*.abc"))]
    return sources


def folder_sources(root: Path) -> list[Source]:
    """Every melody file under `root` (recursive); the first sub-folder names the collection."""
    if not root.exists():
        raise CorpusError(f"the corpus folder {root} does not exist")
    if not root.is_dir():
        raise CorpusError(f"{root} is not a folder of tunes")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MELODY_SUFFIXES)
    if not paths:
        raise CorpusError(f"the folder {root} holds no .abc, .mid or .musicxml files")
    sources = []
    for path in paths:
        rel = path.relative_to(root)
        collection = rel.parts[0] if len(rel.parts) > 1 else root.name
        sources.append(Source(collection, path, rel.as_posix()))
    return sources
