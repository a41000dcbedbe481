"""The folk corpus and custom corpora: where tunes come from, parse (parallel, cached), split, prepare.

The default corpus is the folk collections shipped inside music21's own corpus folder (no download):
O'Neill's 1850, Ryan's Mammoth Collection, Aird's Airs, the Essen folksong collection, miscFolk and
the Nottingham file. A custom corpus is any folder of .abc/.mid/.midi/.musicxml/.xml/.mxl files.

- sources   the files of a corpus and the collection each belongs to
- parse     parsing on all cores, one chunk of tunes per job; each source file's result is cached in
            the user cache folder under the hash of its bytes, so a second `prepare` only reads caches.
            A tune that fails is skipped, counted and listed with its reason in the report.
- codec     a melody as compact JSON
- tunes     Corpus and CorpusTune; the split by tune, from the hash of its transposition-invariant
            content (intervals and durations), so identical tunes always land in the same split;
            split version 2 keeps each family of variants in one split (families)
- prepare   prepare_corpus / load_corpus: one byte-reproducible gzip JSON file in the user data folder.
            Nothing derived from the collections is committed (their licences allow distribution
            with music21 only).
"""

from musicgen.corpus.codec import melody_from_json, melody_to_json
from musicgen.corpus.prepare import load_corpus, prepare_corpus, prepared_path
from musicgen.corpus.sources import FOLK_COLLECTIONS, Source, folder_sources, folk_sources
from musicgen.corpus.tunes import DEFAULT_SPLIT_VERSION, SPLIT_VERSIONS, Corpus, CorpusTune, assign_splits, \
    content_key, corpus_stats

__all__ = [
    "FOLK_COLLECTIONS",
    "Source",
    "folk_sources",
    "folder_sources",
    "melody_to_json",
    "melody_from_json",
    "Corpus",
    "CorpusTune",
    "assign_splits",
    "DEFAULT_SPLIT_VERSION",
    "SPLIT_VERSIONS",
    "content_key",
    "corpus_stats",
    "prepare_corpus",
    "prepared_path",
    "load_corpus",
]
