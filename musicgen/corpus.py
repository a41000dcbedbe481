"""The folk corpus and custom corpora: parse (parallel, cached), split, report, load.

The default corpus is the folk collections shipped inside music21's own corpus folder (no download):
O'Neill's 1850, Ryan's Mammoth Collection, Aird's Airs, the Essen folksong collection, miscFolk and
the Nottingham file. A custom corpus is any folder of .abc/.mid/.midi/.musicxml/.xml/.mxl files.

- Parsing runs on all cores, one chunk of tunes per job; each source file's result is cached in the
  user cache folder under the hash of its bytes, so a second `prepare` only reads caches.
- A tune that fails is skipped, counted and listed with its reason in the report, never silently.
- Split by tune, deterministically: a tune's split comes from the hash of its transposition-invariant
  content (intervals and durations), so identical tunes, even in two collections or keys, always land
  in the same split.
- The prepared corpus is one gzip JSON file in the user data folder, written byte for byte the same
  for the same sources (sorted keys, gzip mtime 0). Nothing derived from the collections is committed
  to the repository (their licences allow distribution with music21 only).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from musicgen.corpus_parse import FOLK_COLLECTIONS, PARSER_VERSION, folder_sources, folk_sources, parse_sources
from musicgen.errors import CorpusError
from musicgen.melody import Key, Melody, Meter, Note

__all__ = [
    "FOLK_COLLECTIONS",
    "melody_to_json",
    "melody_from_json",
    "CorpusTune",
    "Corpus",
    "load_corpus",
    "prepare_corpus",
    "corpus_stats",
    "data_dir",
    "cache_dir",
    "content_key",
    "assign_splits",
]

FORMAT_VERSION = 1
SPLIT_FRACTIONS = {"test": 0.05, "val": 0.05}  # the rest is train

Progress = Callable[[int, int], None]


def data_dir() -> Path:
    """Where prepared corpora live (MUSICGEN_DATA_DIR overrides the platform's user data folder)."""
    override = os.environ.get("MUSICGEN_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("musicgen", appauthor=False))


def cache_dir() -> Path:
    """Where per-file parse caches live (MUSICGEN_CACHE_DIR overrides the user cache folder)."""
    override = os.environ.get("MUSICGEN_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("musicgen", appauthor=False))


@dataclass(frozen=True)
class CorpusTune:
    """One tune of a corpus: where it came from, which split it is in, and its melody."""

    title: str
    collection: str
    source: str  # "file.abc#3": the file (relative to the corpus root) and the tune's position
    split: str  # "train" | "val" | "test"
    melody: Melody


@dataclass(frozen=True)
class Corpus:
    """Tunes with their splits, a fingerprint of the sources, and the preparation report."""

    name: str
    tunes: tuple[CorpusTune, ...]
    fingerprint: str
    report: dict = field(default_factory=dict, compare=False)

    def split(self, name: str) -> list[CorpusTune]:
        if name not in ("train", "val", "test"):
            raise CorpusError(f"unknown split '{name}': use train, val or test")
        return [t for t in self.tunes if t.split == name]

    @property
    def collections(self) -> list[str]:
        return sorted({t.collection for t in self.tunes})

    def search(self, text: str = "", collection: str | None = None) -> list[CorpusTune]:
        """Tunes whose title contains `text` (case-insensitive), optionally in one collection."""
        needle = text.casefold().strip()
        return [
            t for t in self.tunes
            if (collection is None or t.collection == collection) and needle in t.title.casefold()
        ]

    @classmethod
    def from_melodies(
        cls, melodies: Sequence[Melody], name: str = "memory", collections: Sequence[str] | None = None
    ) -> Corpus:
        """An in-memory corpus (tests, a user's few tunes), split the same way as prepared ones."""
        if not melodies:
            raise CorpusError(f"the corpus '{name}' holds no tunes")
        colls = list(collections) if collections is not None else [name] * len(melodies)
        records = [
            {"title": m.title or f"tune {i + 1}", "collection": colls[i], "source": f"{name}#{i + 1}",
             "melody": m}
            for i, m in enumerate(melodies)
        ]
        splits = assign_splits([content_key(r["melody"]) for r in records], name=name)
        tunes = tuple(
            CorpusTune(r["title"], r["collection"], r["source"], s, r["melody"])
            for r, s in zip(records, splits)
        )
        digest = hashlib.sha256()
        for t in tunes:
            digest.update(json.dumps(melody_to_json(t.melody), sort_keys=True).encode())
        return cls(name, tunes, digest.hexdigest()[:16], {"tunes": len(tunes)})


# --- splitting ---------------------------------------------------------------------------------
def content_key(melody: Melody) -> str:
    """A hash of the tune's notes that ignores transposition: intervals, rests and durations."""
    pitches = [n.pitch for n in melody.notes if n.pitch is not None]
    first = pitches[0] if pitches else 0
    text = ",".join(
        f"{'r' if n.pitch is None else n.pitch - first}:{n.duration_ticks}" for n in melody.notes
    )
    return hashlib.sha256(text.encode()).hexdigest()


def assign_splits(keys: Sequence[str], *, name: str = "corpus") -> list[str]:
    """Split by content hash (stable as the corpus grows); identical keys share a split.

    Small corpora, where hashing may leave validation or test empty, fall back to ranking the
    distinct contents by hash so each split gets at least one tune. Fewer than three distinct tunes
    cannot be split: CorpusError.
    """
    distinct = sorted(set(keys))
    if len(distinct) < 3:
        raise CorpusError(
            f"the corpus '{name}' has {len(distinct)} distinct tune(s); training needs at least 3 "
            "(some for validation and test): add more tunes"
        )

    def by_hash(key: str) -> str:
        u = int(key[:12], 16) / float(16**12)
        if u < SPLIT_FRACTIONS["test"]:
            return "test"
        return "val" if u < SPLIT_FRACTIONS["test"] + SPLIT_FRACTIONS["val"] else "train"

    split_of = {k: by_hash(k) for k in distinct}
    counts = Counter(split_of.values())
    if counts["test"] == 0 or counts["val"] == 0 or counts["train"] == 0:
        n = len(distinct)
        n_test = max(1, round(n * SPLIT_FRACTIONS["test"]))
        n_val = max(1, round(n * SPLIT_FRACTIONS["val"]))
        for rank, key in enumerate(distinct):
            split_of[key] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    return [split_of[k] for k in keys]


# --- (de)serialising melodies compactly ------------------------------------------------------------
def melody_to_json(m: Melody) -> dict:
    return {
        "title": m.title, "meter": str(m.meter), "key": [m.key.tonic_pc, m.key.mode],
        "tempo": m.tempo_bpm, "pickup": m.pickup_ticks,
        "notes": [[-1 if n.pitch is None else n.pitch, n.duration_ticks] for n in m.notes],
    }


def melody_from_json(d: dict) -> Melody:
    notes, t = [], 0
    for pitch, dur in d["notes"]:
        notes.append(Note(None if pitch < 0 else pitch, t, dur))
        t += dur
    return Melody(
        tuple(notes), meter=Meter.parse(d["meter"]), key=Key(d["key"][0], d["key"][1]),
        tempo_bpm=d["tempo"], title=d["title"], pickup_ticks=d["pickup"],
    )


def _write_gzip_json(path: Path, obj: object) -> None:
    """Byte-reproducible gzip JSON, written atomically."""
    from musicgen.io.atomic import atomic_write_bytes

    raw = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, gzip.compress(raw, compresslevel=6, mtime=0))


def _read_gzip_json(path: Path) -> object:
    return json.loads(gzip.decompress(path.read_bytes()))



# --- prepare and load ------------------------------------------------------------------------------
def _corpus_id(name_or_dir: str | os.PathLike) -> tuple[str, Path | None]:
    if str(name_or_dir) == "folk":
        return "folk", None
    root = Path(name_or_dir).expanduser().resolve()
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return f"{root.name}-{digest}", root


def prepared_path(name_or_dir: str | os.PathLike = "folk") -> Path:
    """The prepared-corpus file for the folk corpus or a folder."""
    corpus_id, _ = _corpus_id(name_or_dir)
    return data_dir() / "corpora" / f"{corpus_id}.json.gz"


def prepare_corpus(
    name_or_dir: str | os.PathLike = "folk",
    *,
    workers: int | None = None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Corpus:
    """Parse (or read from cache) every source, split, report, and write the prepared file."""
    corpus_id, root = _corpus_id(name_or_dir)
    sources = folk_sources() if root is None else folder_sources(root)
    records = parse_sources(
        sources, cache_dir(), workers=workers, on_progress=on_progress, should_stop=should_stop
    )
    fingerprint = _fingerprint(sources)
    tunes, report = _build(corpus_id, sources, records)
    payload = {
        "format": FORMAT_VERSION, "name": corpus_id, "fingerprint": fingerprint, "report": report,
        "tunes": [
            {"collection": t.collection, "source": t.source, "split": t.split,
             "melody": melody_to_json(t.melody)}
            for t in tunes
        ],
    }
    _write_gzip_json(prepared_path(name_or_dir), payload)
    return Corpus(corpus_id, tuple(tunes), fingerprint, report)


def load_corpus(
    name_or_dir: str | os.PathLike = "folk",
    *,
    rebuild: bool = False,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Corpus:
    """The prepared corpus: loaded in seconds when prepared and current, else prepared first."""
    path = prepared_path(name_or_dir)
    corpus_id, root = _corpus_id(name_or_dir)
    if not rebuild and path.exists():
        sources = folk_sources() if root is None else folder_sources(root)
        try:
            payload = _read_gzip_json(path)
        except (OSError, ValueError, EOFError):
            payload = None  # damaged: prepare again
        if isinstance(payload, dict) and payload.get("format") == FORMAT_VERSION \
                and payload.get("fingerprint") == _fingerprint(sources):
            tunes = tuple(
                CorpusTune(t["melody"]["title"], t["collection"], t["source"], t["split"],
                           melody_from_json(t["melody"]))
                for t in payload["tunes"]
            )
            return Corpus(payload["name"], tunes, payload["fingerprint"], payload["report"])
    return prepare_corpus(name_or_dir, on_progress=on_progress, should_stop=should_stop)


def _fingerprint(sources: list) -> str:
    """Changes whenever the tunes a corpus holds could change: sources, parser, vocabulary, split."""
    from musicgen.tokens import VOCAB

    h = hashlib.sha256(f"format-{FORMAT_VERSION}-parser-{PARSER_VERSION}-split-{SPLIT_FRACTIONS}".encode())
    h.update("\n".join(VOCAB.tokens).encode())
    for src in sources:
        h.update(f"{src.collection}/{src.relative}:{src.digest()}\n".encode())
    return h.hexdigest()[:16]


def _build(corpus_id: str, sources: list, records: dict[str, list[dict]]) -> tuple[list[CorpusTune], dict]:
    """Tunes (parsed, representable) with splits, and the report of everything else."""
    from musicgen.tokens import VOCAB

    kept: list[tuple[str, str, Melody]] = []
    failed: list[dict] = []
    not_representable: list[dict] = []
    reductions: Counter = Counter()
    for src in sources:
        for rec in records.get(src.relative, []):
            source = f"{src.relative}#{rec['index']}"
            if "error" in rec:
                failed.append({"source": source, "title": rec.get("title", ""), "reason": rec["error"]})
                continue
            melody = melody_from_json(rec["melody"])
            for k, v in rec.get("report", {}).items():
                reductions[k] += int(v)
            reason = _round_trip_problem(VOCAB, melody)
            if reason:
                not_representable.append({"source": source, "title": melody.title, "reason": reason})
                continue
            kept.append((src.collection, source, melody))
    if not kept:
        raise CorpusError(f"no tune of the corpus '{corpus_id}' could be read ({len(failed)} failed)")
    splits = assign_splits([content_key(m) for _, _, m in kept], name=corpus_id)
    tunes = [CorpusTune(m.title, c, s, sp, m) for (c, s, m), sp in zip(kept, splits)]
    report = corpus_stats(tunes)
    report.update({
        "sources": len(sources),
        "failed": len(failed), "failed_tunes": failed,
        "not_representable": len(not_representable), "not_representable_tunes": not_representable,
        "reductions": dict(sorted(reductions.items())),
    })
    parsed = len(kept) + len(not_representable)
    report["round_trip_share"] = round(len(kept) / parsed, 4) if parsed else 0.0
    return tunes, report


def _round_trip_problem(vocab, melody: Melody) -> str | None:
    """Why the vocabulary cannot hold this tune exactly (None when encode/decode round-trips)."""
    from musicgen.errors import VocabularyError

    if melody.note_count == 0:
        return "no pitched notes"
    try:
        ids = vocab.encode(melody)
    except VocabularyError as exc:
        return str(exc)
    back = vocab.decode(ids, transpose=-vocab.shift_for(melody))
    if back.notes != melody.notes:
        return "notes differ after encode/decode"
    if back.pickup_ticks != melody.pickup_ticks and melody.duration_ticks > melody.meter.bar_ticks + melody.pickup_ticks:
        return "bar positions differ after encode/decode"
    return None


def corpus_stats(tunes: Iterable[CorpusTune]) -> dict:
    """Figures for `musicgen prepare --stats`: tunes, notes, splits, collections, meters, modes."""
    tunes = list(tunes)
    grid = Counter(n.duration_ticks for t in tunes for n in t.melody.notes)
    return {
        "tunes": len(tunes),
        "notes": sum(t.melody.note_count for t in tunes),
        "splits": dict(sorted(Counter(t.split for t in tunes).items())),
        "collections": dict(sorted(Counter(t.collection for t in tunes).items())),
        "meters": dict(Counter(str(t.melody.meter) for t in tunes).most_common()),
        "modes": dict(Counter(t.melody.key.mode for t in tunes).most_common()),
        "tonics": dict(Counter(t.melody.key.tonic_name for t in tunes).most_common()),
        "durations_ticks": {str(k): v for k, v in sorted(grid.items())},
        "durations_off_eighth_grid": sum(v for k, v in grid.items() if k % 3),
    }
