"""A corpus held in memory: its tunes, their splits (by content hash), and its statistics.

Two ways to split, by `split_version`:

- 1 (today's default, the split the shipped models trained on): each tune by the hash of its
  transposition-invariant content (`content_key`), so identical tunes share a split; variants,
  transposed-and-varied or re-timed copies of one tune can straddle it.
- 2 (the family split, ready for the next retraining): tunes are first grouped into families of
  near-duplicates (`corpus.families`), and each family goes to one split, by the hash of its
  smallest content key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from musicgen.corpus.codec import melody_to_json
from musicgen.errors import CorpusError
from musicgen.melody import Melody

__all__ = ["CorpusTune", "Corpus", "content_key", "assign_splits", "split_keys", "corpus_stats",
           "round_trip_problem", "vocabulary_key",
           "SPLIT_FRACTIONS", "SPLIT_VERSIONS", "DEFAULT_SPLIT_VERSION"]

SPLIT_FRACTIONS = {"test": 0.05, "val": 0.05}  # the rest is train
SPLIT_VERSIONS = (1, 2)  # 1: by content hash; 2: by tune family (see the module docstring)
# Stays 1 until the shipped models are retrained on the family split: their corpus fingerprint, and
# so their test set, must not move under them.
DEFAULT_SPLIT_VERSION = 1


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
        """The tunes of one split; ``"all"`` gives every tune."""
        if name == "all":
            return list(self.tunes)
        if name not in ("train", "val", "test"):
            raise CorpusError(f"unknown split '{name}': use train, val, test or all")
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
        cls, melodies: Sequence[Melody], name: str = "memory", collections: Sequence[str] | None = None,
        *, split_version: int = DEFAULT_SPLIT_VERSION,
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
        splits = assign_splits(split_keys([r["melody"] for r in records], split_version), name=name)
        tunes = tuple(
            CorpusTune(r["title"], r["collection"], r["source"], s, r["melody"])
            for r, s in zip(records, splits)
        )
        digest = hashlib.sha256()
        for t in tunes:
            music = melody_to_json(t.melody)
            music.pop("fields", None)  # the music alone: header fields do not change a fingerprint
            digest.update(json.dumps(music, sort_keys=True).encode())
        if split_version != 1:
            digest.update(f"split-{split_version}".encode())
        return cls(name, tunes, digest.hexdigest()[:16], {"tunes": len(tunes), "split_version": split_version})


# --- splitting ---------------------------------------------------------------------------------
def content_key(melody: Melody) -> str:
    """A hash of the tune's notes that ignores transposition: intervals, rests and durations."""
    pitches = [n.pitch for n in melody.notes if n.pitch is not None]
    first = pitches[0] if pitches else 0
    text = ",".join(
        f"{'r' if n.pitch is None else n.pitch - first}:{n.duration_ticks}" for n in melody.notes
    )
    return hashlib.sha256(text.encode()).hexdigest()


def split_keys(melodies: Sequence[Melody], split_version: int = DEFAULT_SPLIT_VERSION) -> list[str]:
    """The key each tune is split by: its content key (version 1), or its family's smallest
    content key (version 2), so `assign_splits` keeps a family together."""
    if split_version not in SPLIT_VERSIONS:
        raise CorpusError(f"unknown split version {split_version}: use 1 (by content) or 2 (by family)")
    keys = [content_key(m) for m in melodies]
    if split_version == 1:
        return keys
    from musicgen.corpus.families import family_labels

    labels = family_labels(melodies, same=keys)
    smallest: dict[int, str] = {}
    for label, key in zip(labels, keys):
        smallest[label] = min(key, smallest.get(label, key))
    return [smallest[label] for label in labels]


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


# --- what the vocabulary can hold ----------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def vocabulary_key() -> str:
    """A short hash of the vocabulary's tokens: a round-trip verdict cached under another
    vocabulary is checked again."""
    from musicgen.tokens import VOCAB

    return hashlib.sha256("\n".join(VOCAB.tokens).encode()).hexdigest()[:16]


def round_trip_problem(melody: Melody) -> str | None:
    """Why the vocabulary cannot hold this tune exactly (None when encode/decode round-trips)."""
    from musicgen.errors import VocabularyError
    from musicgen.tokens import VOCAB as vocab

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
