"""The shipped checkpoints: they load against this vocabulary, continue a corpus tune, and their
recorded figures are the ones the model cards state (and, slow, the ones evaluation measures)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from musicgen.checkpoint import load_checkpoint
from musicgen.corpus.sources import folk_sources
from musicgen.io import read_melody
from musicgen.pipeline import GenerationConfig, continue_melody, load_generator
from musicgen.tokens import VOCAB

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
SHIPPED = ["lstm-folk", "transformer-folk"]


def metadata(name: str) -> dict:
    return json.loads((CHECKPOINTS / f"{name}.json").read_text(encoding="utf-8"))


def oneills_first_file() -> Path:
    return next(s.path for s in folk_sources() if s.collection == "oneills1850")


@pytest.mark.parametrize("name", SHIPPED)
def test_vocabulary_matches_and_size_fits(name: str) -> None:
    model, meta = load_checkpoint(CHECKPOINTS / f"{name}.safetensors", expected_tokens=list(VOCAB.tokens))
    assert meta["vocabulary"]["tokens"] == list(VOCAB.tokens)
    assert meta["vocabulary"]["version"] == VOCAB.version
    assert (CHECKPOINTS / f"{name}.safetensors").stat().st_size <= 25 * 2**20
    assert model.num_parameters() > 100_000


@pytest.mark.parametrize("name", SHIPPED)
def test_continues_a_corpus_tune_in_its_key_and_meter(name: str) -> None:
    seed = read_melody(oneills_first_file(), tune=3).first_bars(4)
    generator = load_generator(name.split("-")[0])
    outputs = continue_melody(seed, generator, GenerationConfig(bars=4, variations=2, rng_seed=7))
    assert len(outputs) == 2
    for out in outputs:
        assert out.seed.notes == seed.notes
        assert out.meter == seed.meter and out.key == seed.key
        continuation = out.continuation
        assert continuation.note_count >= 4
        lines = out.bar_lines()
        assert all(b - a == seed.meter.bar_ticks for a, b in zip(lines, lines[1:]))


@pytest.mark.parametrize("name", SHIPPED)
def test_model_card_states_the_recorded_figures(name: str) -> None:
    card = (CHECKPOINTS / f"{name}.md").read_text(encoding="utf-8")
    metrics = metadata(name)["metrics"]
    for key in ("test_bits_per_note", "val_bits_per_note", "ngram_test_bits_per_note"):
        assert f"{metrics[key]:.3f}" in card, key
    for collection, figures in metrics["test_per_collection"].items():
        row = re.search(rf"\| {re.escape(collection)} \|[^\n]*", card)
        assert row and f"{figures['bits_per_note']:.3f}" in row.group(0), collection
    assert metadata(name)["corpus"]["fingerprint"] in card


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_recorded_oneills_test_figure_is_what_evaluation_measures(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prepare O'Neill's alone (splits hash each tune, so its test tunes are the folk test tunes)."""
    from musicgen.corpus import load_corpus
    from musicgen.evaluate.likelihood import score_with_model

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    corpus = load_corpus(oneills_first_file().parent)
    tunes = corpus.split("test")
    model, _ = load_checkpoint(CHECKPOINTS / f"{name}.safetensors")
    scores = score_with_model(model, [VOCAB.encode(t.melody) for t in tunes])
    recorded = metadata(name)["metrics"]["test_per_collection"]["oneills1850"]
    assert int(scores.notes.sum()) == recorded["notes"]
    assert scores.bits_per_note == pytest.approx(recorded["bits_per_note"], abs=1e-3)


@pytest.mark.parametrize("name", SHIPPED)
def test_readme_results_table_states_the_recorded_figures(name: str) -> None:
    readme = (CHECKPOINTS.parent / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {re.escape(name)} [^\n]*", readme, re.MULTILINE)
    assert row, f"no row for {name} in the README's results table"
    metrics = metadata(name)["metrics"]
    for key in ("test_bits_per_note", "test_oneills_ryans_bits_per_note"):
        assert f"{metrics[key]:.3f}" in row.group(0), key
    ngram = re.search(r"^\| Kneser-Ney 16-gram [^\n]*", readme, re.MULTILINE)
    assert ngram and f"{metrics['ngram_test_bits_per_note']:.3f}" in ngram.group(0)
