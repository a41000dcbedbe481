"""Tune families on real tunes (O'Neill's first 50), and the family-aware split (split version 2).

The threshold must relate a tune to its transposed, re-timed and lightly varied copies, and must
never be reached by unrelated tunes: the same tunes shuffled, or played backwards (unless the tune
is a near-palindrome, whose reversal is the tune itself).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from musicgen.corpus import Corpus, prepare_corpus, prepared_path
from musicgen.corpus.families import FamilyConfig, ShingleIndex, family_labels
from musicgen.corpus.sources import folk_sources
from musicgen.corpus.tunes import split_keys
from musicgen.errors import CorpusError
from musicgen.io import read_tune_book
from musicgen.melody import Key, Melody, Meter, Note

THRESHOLD = FamilyConfig().threshold


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def oneills() -> list[Melody]:
    path = next(s.path for s in folk_sources() if s.relative == "oneills1850/0001-0050.abc")
    return [r.melody for r in read_tune_book(path) if r.melody is not None]


def rebuilt(melody: Melody, notes: list[Note], factor: int = 1) -> Melody:
    out, t = [], 0
    for n in notes:
        out.append(Note(n.pitch, t, n.duration_ticks * factor))
        t += n.duration_ticks * factor
    return melody.replace(notes=tuple(out), pickup_ticks=0)


def varied(melody: Melody) -> Melody:
    """Two notes moved a tone (a quarter and three quarters of the way through)."""
    notes = list(melody.notes)
    pitched = [i for i, n in enumerate(notes) if n.pitch is not None]
    for i in (pitched[len(pitched) // 4], pitched[3 * len(pitched) // 4]):
        n = notes[i]
        notes[i] = Note(n.pitch + 2, n.onset_ticks, n.duration_ticks)
    return melody.replace(notes=tuple(notes))


def test_transposed_retimed_and_varied_copies_are_related(oneills: list[Melody]) -> None:
    assert len(oneills) >= 45
    index = ShingleIndex(oneills)
    for i, tune in enumerate(oneills):
        for copy in (tune.transposed(-3), rebuilt(tune, list(tune.notes), 2), varied(tune)):
            j, similarity = index.best_match(copy)
            assert j == i and similarity >= THRESHOLD, (i, similarity)


def test_shuffled_and_reversed_tunes_never_reach_the_threshold(oneills: list[Melody]) -> None:
    index = ShingleIndex(oneills)
    rng = random.Random(11)
    highest = 0.0
    for tune in oneills:
        for _ in range(3):
            notes = list(tune.notes)
            rng.shuffle(notes)
            highest = max(highest, index.best_match(rebuilt(tune, notes))[1])
        backwards = rebuilt(tune, list(reversed(tune.notes)))
        if ShingleIndex([tune]).best_match(backwards)[1] < THRESHOLD:  # not a near-palindrome
            highest = max(highest, index.best_match(backwards)[1])
    assert highest < THRESHOLD / 2


def test_family_labels_join_copies_and_keep_unrelated_tunes_apart(oneills: list[Melody]) -> None:
    tunes = oneills[:20]
    copies = [rebuilt(t, list(t.notes), 2).transposed(5) for t in tunes]
    labels = family_labels(tunes + copies)
    assert labels[20:] == labels[:20]
    assert len(set(labels[:20])) == 20


def random_walks(count: int, seed: int = 5) -> list[Melody]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        pitch, pitches = 67, []
        for _ in range(48):
            pitch = min(84, max(55, pitch + rng.choice([-4, -3, -2, -1, 1, 2, 3, 5])))
            pitches.append(pitch)
        out.append(Melody.from_pitches(pitches, 6, meter=Meter(6, 8), key=Key(7, "major"), title=f"walk {i}"))
    return out


def test_the_family_split_keeps_retimed_copies_with_their_originals() -> None:
    originals = random_walks(60)
    copies = [rebuilt(m, list(m.notes), 2).replace(meter=Meter(6, 4)) for m in originals]
    tunes = originals + copies
    by_family = Corpus.from_melodies(tunes, name="walks", split_version=2)
    splits = [t.split for t in by_family.tunes]
    assert splits[:60] == splits[60:]
    assert {"train", "val", "test"} <= set(splits)
    by_content = Corpus.from_melodies(tunes, name="walks")
    old = [t.split for t in by_content.tunes]
    assert old[:60] != old[60:]  # the content hash sends some copies elsewhere
    assert by_family.fingerprint != by_content.fingerprint
    assert split_keys(tunes, 1) != split_keys(tunes, 2)


def test_split_versions_prepare_apart_and_a_bad_version_is_one_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "walks"
    folder.mkdir()
    from musicgen.io import write_melody

    for i, melody in enumerate(random_walks(12)):
        write_melody(melody, folder / f"walk{i:02d}.abc")
    first = prepare_corpus(folder, workers=1)
    second = prepare_corpus(folder, workers=1, split_version=2)
    assert prepared_path(folder) != prepared_path(folder, 2)
    assert prepared_path(folder).exists() and prepared_path(folder, 2).exists()
    assert first.fingerprint != second.fingerprint
    assert first.report["split_version"] == 1 and second.report["split_version"] == 2
    sentence = r"^unknown split version 3: use 1 \(by content\) or 2 \(by family\)$"
    with pytest.raises(CorpusError, match=sentence):
        prepare_corpus(folder, split_version=3)
