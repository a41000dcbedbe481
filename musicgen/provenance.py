"""Where a phrase comes from: an index of every bar of a corpus, matched on intervals and durations.

Each bar of each tune gets two keys, both blind to transposition:

- *exact*: the onset, length and pitch (in semitones from the bar's first note; rests marked) of
  every note in the bar: the same bar in any key;
- *contour*: the pitches alone (repeated notes merged): the same line re-timed, as fiddlers vary it.

`BarIndex.search(melody, note_index)` keys the bars around the note (`WINDOW_BARS` either side),
finds every corpus bar with the same key, lines each tune up with the melody at that offset, and
ranks the tunes by the longest run of consecutive bars that match exactly *through the note's bar*
at one transposition, then by how many bars of the window match. A run of `KNOWN_TUNE_BARS` (4) or
more is flagged: the phrase is a known tune's. A run must pass through the note's bar, so a
continuation next to a seed taken from the corpus is not blamed for the seed's own bars.

`corpus_index(name)` builds the index of a prepared corpus once (seconds for the folk corpus's
250,000 bars) and caches it in the user cache folder (`musicgen.userdirs.cache_dir`), keyed by the
prepared corpus file, as NumPy arrays (no pickle). Torch-free and Qt-free.
"""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from musicgen.melody import Melody
from musicgen.progress import ProgressFn, StopFn, check_stop, report
from musicgen.replay import bar_spans

__all__ = [
    "INDEX_VERSION",
    "KNOWN_TUNE_BARS",
    "WINDOW_BARS",
    "BarIndex",
    "ProvenanceMatch",
    "TuneEntry",
    "bar_keys",
    "corpus_index",
    "index_path",
]

INDEX_VERSION = 1
KNOWN_TUNE_BARS = 4  # consecutive bars that make a phrase a known tune's
WINDOW_BARS = 4  # bars either side of the note's bar that are compared
_REST = 1000  # the "pitch" of a rest in a key
_MAX_HITS = 4000  # bars looked at per query bar (a bar shared by more says little)
_ALIGNMENTS = 300  # tune alignments scored in full per search


@dataclass(frozen=True)
class TuneEntry:
    title: str
    collection: str
    source: str
    split: str
    pickup: bool  # its first bar is a pickup (bar 0)


@dataclass(frozen=True)
class ProvenanceMatch:
    """A corpus tune lined up with the melody around a note."""

    tune: TuneEntry
    tune_bars: tuple[int, int]  # first and last bar numbers of the matched stretch in the tune
    melody_bars: tuple[int, int]  # the same stretch's bar numbers in the melody
    run_bars: int  # consecutive bars through the note's bar that match exactly
    matched_bars: int  # bars of the window that match exactly
    similar_bars: int  # bars of the window whose pitches match (rhythm aside)
    transposition: int  # semitones from the tune to the melody in the run (0 when no run)

    @property
    def known(self) -> bool:
        """The phrase around the note is this tune's (KNOWN_TUNE_BARS or more bars in a row)."""
        return self.run_bars >= KNOWN_TUNE_BARS


def bar_keys(melody: Melody) -> list[tuple[int, int, int, bool]]:
    """Per bar (a pickup first): (exact key, contour key, first pitch or -1, trivial). A trivial
    bar (fewer than three notes, or one pitch) is too common to find a tune by."""
    out, notes, index = [], melody.notes, 0
    for start, end in bar_spans(melody):
        while index < len(notes) and notes[index].end_ticks <= start:
            index += 1
        pieces, k = [], index
        while k < len(notes) and notes[k].onset_ticks < end:
            note = notes[k]
            onset = max(note.onset_ticks, start)
            pieces.append((onset - start, min(note.end_ticks, end) - onset, note.pitch))
            k += 1
        pitches = [p for _, _, p in pieces if p is not None]
        first = pitches[0] if pitches else -1
        exact = tuple((o, d, _REST if p is None else p - first) for o, d, p in pieces)
        contour = tuple(p - first for i, p in enumerate(pitches) if i == 0 or p != pitches[i - 1])
        out.append((hash(exact), hash(contour), first, len(pieces) < 3 or len(contour) < 2))
    return out


def _bar_number(row_in_tune: int, pickup: bool) -> int:
    """The bar number a musician reads (a pickup is bar 0, the first full bar is bar 1)."""
    return row_in_tune + (0 if pickup else 1)


class BarIndex:
    """Every bar of a corpus, keyed for `search` (see the module docstring)."""

    def __init__(self, name: str, fingerprint: str, tunes: list[TuneEntry], arrays: dict) -> None:
        self.name, self.fingerprint, self.tunes = name, fingerprint, tunes
        self.exact, self.contour = arrays["exact"], arrays["contour"]
        self.first, self.starts = arrays["first"], arrays["starts"]
        self._tune_of = np.repeat(np.arange(len(tunes)), np.diff(self.starts))
        self._orders = {kind: np.argsort(arrays[kind], kind="stable") for kind in ("exact", "contour")}
        self._sorted = {kind: arrays[kind][order] for kind, order in self._orders.items()}

    @property
    def bar_count(self) -> int:
        return len(self.exact)

    @classmethod
    def build(cls, corpus: Any, *, on_progress: ProgressFn | None = None,
              should_stop: StopFn | None = None) -> BarIndex:
        """Key every bar of every tune of a `musicgen.corpus.Corpus`."""
        tunes, columns, starts = [], ([], [], []), [0]
        total = len(corpus.tunes)
        for number, tune in enumerate(corpus.tunes):
            if number % 500 == 0:
                check_stop(should_stop, "indexing the corpus")
                report(on_progress, number, total, "indexing the corpus's bars")
            keys = bar_keys(tune.melody)
            for column, values in zip(columns, zip(*keys)):
                column.extend(values)
            starts.append(starts[-1] + len(keys))
            tunes.append(TuneEntry(tune.title, tune.collection, tune.source, tune.split,
                                   tune.melody.pickup_ticks > 0))
        report(on_progress, total, total, "indexed the corpus's bars")
        arrays = {"exact": np.array(columns[0], np.int64), "contour": np.array(columns[1], np.int64),
                  "first": np.array(columns[2], np.int16), "starts": np.array(starts, np.int64)}
        return cls(corpus.name, corpus.fingerprint, tunes, arrays)

    # --- files ----------------------------------------------------------------------------------
    def to_bytes(self, stamp: dict) -> bytes:
        """The index as an .npz file (no pickle), with ``stamp`` (what it was built from)."""
        meta = {"version": INDEX_VERSION, "name": self.name, "fingerprint": self.fingerprint,
                "stamp": stamp, "tunes": [list(vars(t).values()) for t in self.tunes]}
        buffer = io.BytesIO()
        np.savez(buffer, exact=self.exact, contour=self.contour, first=self.first,
                 starts=self.starts, meta=np.array(json.dumps(meta)))
        return buffer.getvalue()

    @classmethod
    def from_file(cls, path: Path) -> tuple[BarIndex, dict]:
        """An index saved by `to_bytes`, and its stamp."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in ("exact", "contour", "first", "starts")}
        tunes = [TuneEntry(*row) for row in meta["tunes"]]
        return cls(meta["name"], meta["fingerprint"], tunes, arrays), meta["stamp"]

    # --- search ---------------------------------------------------------------------------------
    def search(self, melody: Melody, note_index: int, limit: int = 5) -> list[ProvenanceMatch]:
        """The tunes closest to the bars around ``melody.notes[note_index]``, best first."""
        keys = bar_keys(melody)
        note_bar = self._bar_of(melody, melody.notes[note_index].onset_ticks)
        window = range(max(0, note_bar - WINDOW_BARS), min(len(keys), note_bar + WINDOW_BARS + 1))
        votes: Counter = Counter()
        for q in window:
            if keys[q][3]:
                continue
            for column, kind, weight in ((0, "exact", 2), (1, "contour", 1)):
                for row in self._rows(kind, keys[q][column]):
                    votes[(int(self._tune_of[row]), int(row) - q)] += weight
        scored = [self._score(keys, window, note_bar, tune, shift, melody.pickup_ticks > 0)
                  for (tune, shift), _ in votes.most_common(_ALIGNMENTS)]
        best: dict[str, ProvenanceMatch] = {}
        for match in sorted(scored, key=lambda m: (-m.run_bars, -m.matched_bars, -m.similar_bars)):
            if match.matched_bars + match.similar_bars and match.tune.source not in best:
                best[match.tune.source] = match
        return list(best.values())[:limit]

    def _bar_of(self, melody: Melody, tick: int) -> int:
        return max(i for i, (start, _) in enumerate(bar_spans(melody)) if start <= tick)

    def _rows(self, kind: str, key: int) -> np.ndarray:
        column = self._sorted[kind]
        lo, hi = np.searchsorted(column, key, "left"), np.searchsorted(column, key, "right")
        return self._orders[kind][lo:min(hi, lo + _MAX_HITS)]

    def _score(self, keys: list, window: range, note_bar: int, tune: int, shift: int,
               pickup: bool) -> ProvenanceMatch:
        """How well the tune lines up with the window when melody bar q faces tune row q + shift."""
        lo, hi = int(self.starts[tune]), int(self.starts[tune + 1])
        exact, similar, offsets = {}, 0, {}
        for q in window:
            row = q + shift
            if not lo <= row < hi:
                continue
            if keys[q][0] == self.exact[row] and (keys[q][2] < 0) == (self.first[row] < 0):
                exact[q] = True
                offsets[q] = keys[q][2] - int(self.first[row]) if keys[q][2] >= 0 else None
            similar += keys[q][1] == self.contour[row]
        first_bar, last_bar, transposition = _run(exact, offsets, note_bar)
        run = last_bar - first_bar + 1 if first_bar <= last_bar else 0
        if not run:
            matched = sorted(exact) or [q for q in window if lo <= q + shift < hi][:1] or [note_bar]
            first_bar, last_bar = matched[0], matched[-1]
        entry = self.tunes[tune]
        return ProvenanceMatch(
            entry, (_bar_number(first_bar + shift - lo, entry.pickup),
                    _bar_number(last_bar + shift - lo, entry.pickup)),
            (_bar_number(first_bar, pickup), _bar_number(last_bar, pickup)),
            run, len(exact), similar, transposition)


def _run(exact: dict, offsets: dict, note_bar: int) -> tuple[int, int, int]:
    """(first, last, transposition) of the consecutive exact matches at one transposition that
    pass through ``note_bar``; first > last when the note's bar does not match."""
    if note_bar not in exact:
        return 1, 0, 0
    shifts = {o for o in (offsets.get(note_bar),) if o is not None}

    def fits(q: int) -> bool:
        if q not in exact:
            return False
        offset = offsets.get(q)
        if offset is None:
            return True
        if not shifts:
            shifts.add(offset)
        return offset in shifts

    first = last = note_bar
    while fits(first - 1):
        first -= 1
    while fits(last + 1):
        last += 1
    return first, last, next(iter(shifts), 0)


# --- the cached index of a prepared corpus --------------------------------------------------------
def index_path(name: str = "folk") -> Path:
    """Where the index of a corpus is cached (user cache folder; per Python version, as bar keys
    are Python hashes)."""
    from musicgen.corpus import prepared_path
    from musicgen.userdirs import cache_dir

    stem = prepared_path(name).name.split(".")[0]
    version = f"{sys.version_info[0]}{sys.version_info[1]}"
    return cache_dir() / "provenance" / f"{stem}-v{INDEX_VERSION}-py{version}.npz"


def _stamp(name: str) -> dict:
    from musicgen.corpus import prepared_path

    path = prepared_path(name)
    stat = path.stat() if path.exists() else None
    return {"prepared": str(path), "size": stat.st_size if stat else None,
            "mtime_ns": stat.st_mtime_ns if stat else None}


def corpus_index(name: str = "folk", *, prepare: bool = True,
                 on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> BarIndex:
    """The bar index of a prepared corpus: from the cache when the corpus file is unchanged,
    else built (the corpus loaded, or prepared first) and cached. With ``prepare=False`` a
    corpus that was never prepared raises `CorpusError` instead of being prepared (minutes)."""
    from musicgen.corpus import load_corpus, prepared_path
    from musicgen.errors import CorpusError
    from musicgen.io import atomic_write_bytes

    path = index_path(name)
    if path.exists():
        try:
            index, stamp = BarIndex.from_file(path)
        except (OSError, ValueError, KeyError, TypeError):
            index, stamp = None, None  # damaged: build it again
        if index is not None and stamp == _stamp(name):
            return index
    if not prepare and not prepared_path(name).exists():
        raise CorpusError(f"The {name} corpus is not prepared yet, so known tunes cannot be looked "
                          "up: load it once in the Corpus tab (or run 'musicgen prepare').")
    report(on_progress, 0, 0, f"loading the {name} corpus")
    corpus = load_corpus(name, on_progress=on_progress, should_stop=should_stop)
    index = BarIndex.build(corpus, on_progress=on_progress, should_stop=should_stop)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, index.to_bytes(_stamp(name)))
    return index
