"""Evaluation: bits-per-note arithmetic, windows, a trained tiny model against uniform, the CLI."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch

from musicgen.cli import main
from musicgen.corpus import Corpus
from musicgen.evaluate import encode_split, evaluate_checkpoint, fit_ngram_baseline
from musicgen.evaluate.likelihood import _windows, bits_per_note, score_with_model
from musicgen.evaluate.music import MusicEvalConfig, held_out_seeds
from musicgen.melody import Key, Melody, Meter
from musicgen.models.base import NextTokenModel
from musicgen.tokens import VOCAB

BAR_MOTIFS = (  # one 4/4 bar of eighths each, in C
    [60, 62, 64, 65, 67, 65, 64, 62], [67, 69, 71, 72, 71, 69, 67, 64], [64, 64, 67, 67, 69, 69, 67, 67],
    [72, 71, 69, 67, 65, 64, 62, 60], [60, 64, 67, 72, 67, 64, 60, 64],
)


def motif_tunes(count: int, seed: int = 1, bars: int = 14) -> list[Melody]:
    """Tunes of `bars` motif bars plus a final long note, in C, D or G major (learnable, long enough)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        tonic = rng.choice([0, 2, 7])
        pitches = [p + tonic for _ in range(bars) for p in rng.choice(BAR_MOTIFS)]
        tune = Melody.from_pitches(pitches + [60 + tonic] * 8, 6, meter=Meter(4, 4),
                                   key=Key(tonic, "major"), title=f"tune {i}")
        out.append(tune)
    return out


class UniformModel(NextTokenModel):
    """Equal logits for every id: bits per token is exactly log2(V)."""

    kind = "uniform"

    def __init__(self, vocab_size: int, context: int | None = None) -> None:
        torch.nn.Module.__init__(self)
        self.vocab_size, self.context = vocab_size, context
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, ids, targets=None):
        if self.context is not None:
            assert ids.size(1) <= self.context
        return torch.zeros(ids.size(0), ids.size(1), self.vocab_size) + self.dummy, None

    @property
    def max_context(self):
        return self.context


class RepeatModel(UniformModel):
    """Puts probability P on the previous id and shares the rest evenly."""

    P = 0.6

    def forward(self, ids, targets=None):
        super().forward(ids)
        v = self.vocab_size
        probs = torch.full((*ids.shape, v), (1 - self.P) / (v - 1))
        probs.scatter_(-1, ids.unsqueeze(-1), self.P)
        return probs.log(), None


def test_uniform_model_gives_log2_v_per_token() -> None:
    tunes = motif_tunes(5)
    seqs = [VOCAB.encode(t) for t in tunes]
    scores = score_with_model(UniformModel(VOCAB.size), seqs, token_budget=700)
    tokens = sum(len(s) - 1 for s in seqs)
    notes = sum(t.note_count for t in tunes)
    assert scores.bits_per_note == pytest.approx(math.log2(VOCAB.size) * tokens / notes, rel=1e-6)
    assert list(scores.tokens) == [len(s) - 1 for s in seqs]
    assert list(scores.notes) == [t.note_count for t in tunes]


@pytest.mark.parametrize("context", [None, 7, 64])
def test_previous_token_model_matches_a_hand_computation(context) -> None:
    seqs = [VOCAB.encode(t) for t in motif_tunes(4, seed=5)]
    scores = score_with_model(RepeatModel(VOCAB.size, context), seqs, token_budget=500)
    p, v = RepeatModel.P, VOCAB.size
    for i, ids in enumerate(seqs):
        repeats = sum(1 for a, b in zip(ids, ids[1:]) if a == b)
        others = len(ids) - 1 - repeats
        expected = -repeats * math.log2(p) - others * math.log2((1 - p) / (v - 1))
        assert scores.bits[i] == pytest.approx(expected, rel=1e-5)
        assert scores.correct[i] == repeats
    assert scores.token_accuracy == pytest.approx(scores.correct.sum() / scores.tokens.sum())


@pytest.mark.parametrize("length", [2, 10, 11, 12, 40, 333])
@pytest.mark.parametrize("context,stride", [(10, 2), (10, 9), (64, 16)])
def test_windows_score_every_target_once(length: int, context: int, stride: int) -> None:
    scored = []
    for start, offset in _windows(length, context, stride):
        window_targets = range(start + 1, min(start + context + 1, length))
        assert start + offset + 1 >= start + context - stride or start == 0  # enough context
        scored += list(window_targets)[offset:]
    assert sorted(scored) == list(range(1, length))


def test_bits_per_note_is_total_over_total() -> None:
    assert bits_per_note([10.0, 30.0], [5, 15]) == 2.0
    assert math.isnan(bits_per_note([1.0], [0]))


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.from_melodies(motif_tunes(40, bars=8), name="motifs")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus):
    from musicgen.train import TrainConfig, train

    out = {}
    for kind in ("lstm", "transformer"):
        path = tmp_path_factory.mktemp(kind) / f"{kind}.safetensors"
        config = TrainConfig(model=kind, preset="tiny", batch_size=8, max_epochs=3, lr=2e-2,
                             warmup_steps=2, patience=0, seed=3, device="cpu", save_every_steps=1000)
        train(config, corpus, out_path=path)
        out[kind] = path
    return out


def test_ngram_baseline_is_cached_and_beats_uniform(corpus, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path))
    baseline = fit_ngram_baseline(corpus, orders=(2, 3, 4, 5))
    assert baseline.order in (2, 3, 4, 5)
    assert baseline.val_bits_per_note[baseline.order] == min(baseline.val_bits_per_note.values())
    assert list((tmp_path / "ngram").glob("*.npz"))
    again = fit_ngram_baseline(corpus, orders=(2, 3, 4, 5))
    assert again.order == baseline.order and again.val_bits_per_note == baseline.val_bits_per_note
    _, test_ids = encode_split(corpus, "test")
    a = again.model.log2_probs_many(test_ids, again.order)
    b = baseline.model.log2_probs_many(test_ids, baseline.order)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    # the motifs are very predictable: far below uniform's log2(V) ~ 7.3 bits per token
    assert baseline.val_bits_per_note[baseline.order] < 3.0


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_trained_tiny_model_beats_uniform_with_sane_report(kind, trained, corpus, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path))
    config = MusicEvalConfig(samples=3, seed_bars=2, continuation_bars=4)
    report = evaluate_checkpoint(trained[kind], corpus, "test", samples=3, music_config=config)
    tunes, seqs = encode_split(corpus, "test")
    uniform = math.log2(VOCAB.size) * sum(len(s) - 1 for s in seqs) / sum(t.melody.note_count for t in tunes)
    assert report["tunes"] == len(tunes) and report["notes"] == sum(t.melody.note_count for t in tunes)
    assert 0 < report["bits_per_note"] < 0.8 * uniform
    assert 0 < report["ngram_bits_per_note"] < uniform
    assert 0 <= report["token_accuracy"] <= 1
    assert set(report["per_collection"]) == {"motifs"}
    assert report["per_collection"]["motifs"]["bits_per_note"] == pytest.approx(report["bits_per_note"])
    music = report["music"]
    assert music["samples"] == min(3, len(tunes))
    for key in ("bar_exact_share", "in_scale_share", "copy_4bars_share"):
        assert music[key] is None or 0 <= music[key] <= 1
    assert set(music["overlap"]) == {"pitch_class", "note_length", "interval", "pitch_range"}
    assert music["reference"]["bar_exact_share"] == 1.0 and music["reference"]["in_scale_share"] == 1.0
    json.dumps(report, allow_nan=False)


def test_held_out_seeds_cut_seed_and_real_continuation() -> None:
    tune = motif_tunes(1, bars=14)[0]
    [item] = held_out_seeds([tune, motif_tunes(1, bars=3)[0]], MusicEvalConfig(seed_bars=4, continuation_bars=8))
    assert item.seed.duration_ticks == 4 * 48 and item.real.duration_ticks == 8 * 48
    assert item.real.notes[0].pitch == tune.notes[32].pitch


ABC_NOTES = {60: "C", 62: "D", 64: "E", 65: "F", 67: "G", 69: "A", 71: "B", 72: "c"}


def test_cli_json_report_and_bad_checkpoint(trained, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "tunes"
    folder.mkdir()
    rng = random.Random(4)
    books = []
    for i in range(24):
        bars = ["".join(ABC_NOTES[p] for p in rng.choice(BAR_MOTIFS)) for _ in range(13)]
        books.append(f"X:{i + 1}\nT:Tune {i + 1}\nM:4/4\nL:1/8\nK:C\n{'|'.join(bars)}|C8|]\n")
    (folder / "book.abc").write_text("\n".join(books), encoding="utf-8")
    code = main(["evaluate", str(trained["lstm"]), "--corpus", str(folder), "--json", "--samples", "2"])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    for field in ("bits_per_note", "ngram_bits_per_note", "ngram_order", "notes", "tunes",
                  "token_accuracy", "per_collection", "music"):
        assert field in report
    assert report["tunes"] >= 1 and report["bits_per_note"] > 0
    assert set(report["music"]) >= {"bar_exact_share", "in_scale_share", "overlap", "copy_4bars_share",
                                    "samples"}

    code = main(["evaluate", str(trained["lstm"]), "--corpus", str(folder), "--no-music"])
    table = capsys.readouterr().out
    assert code == 0 and "n-gram" in table and "music" not in table

    for bad in (tmp_path / "missing.safetensors", tmp_path / "broken.safetensors"):
        if bad.name.startswith("broken"):
            bad.write_bytes(b"not a checkpoint")
            bad.with_suffix(".json").write_text("{ truncated")
        code = main(["evaluate", str(bad), "--corpus", str(folder), "--json"])
        captured = capsys.readouterr()
        assert code == 1 and captured.out == ""
        assert captured.err.startswith("musicgen: error: ") and captured.err.count("\n") == 1
