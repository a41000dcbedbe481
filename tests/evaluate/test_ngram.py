"""The Kneser-Ney n-gram baseline: proper distributions, low bits on repetitive data, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from musicgen.evaluate.ngram import KneserNeyModel

V = 30


def random_sequences(seed: int, count: int = 150) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [
        [1, *rng.integers(3, V, size=int(rng.integers(3, 40))).tolist(), 2] for _ in range(count)
    ]


@pytest.fixture(scope="module")
def model() -> KneserNeyModel:
    # skewed data so counts of every size appear: random tokens plus a frequent motif
    seqs = random_sequences(0) + [[1, 5, 6, 7, 5, 6, 8, 2]] * 40
    return KneserNeyModel.fit(seqs, V, max_order=6)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
@pytest.mark.parametrize(
    "context", [[], [1], [1, 5], [1, 5, 6, 7, 5, 6], [9, 9, 9, 9, 9], [29, 3, 17], [0, 0, 0]]
)
def test_probabilities_sum_to_one_and_are_positive(model: KneserNeyModel, order: int, context: list[int]) -> None:
    dist = model.distribution(context, order)
    assert dist.shape == (V,)
    assert dist.sum() == pytest.approx(1.0, abs=1e-9)
    assert (dist > 0).all()


def test_sequence_scores_agree_with_the_distribution(model: KneserNeyModel) -> None:
    seq = [1, 5, 6, 7, 5, 6, 8, 11, 4, 2]
    log2p = model.log2_probs(seq, 4)
    expected = [np.log2(model.distribution(seq[:i], 4)[seq[i]]) for i in range(1, len(seq))]
    np.testing.assert_allclose(log2p, expected, rtol=1e-12)


def test_higher_order_learns_the_motif(model: KneserNeyModel) -> None:
    motif = [1, 5, 6, 7, 5, 6, 8, 2]
    bits = [-model.log2_probs(motif, k).sum() for k in (1, 2, 4)]
    assert bits[0] > bits[1] > bits[2]
    # after "5 6 7 5 6" the motif continues with 8 most of the time
    assert model.distribution([1, 5, 6, 7, 5, 6], 6).argmax() == 8


def test_repetitive_corpus_gives_low_bits_per_token() -> None:
    tune = [1, 10, 11, 12, 13, 10, 11, 12, 13, 14, 2]
    lm = KneserNeyModel.fit([tune] * 50, V, max_order=5)
    bits_per_token = -lm.log2_probs(tune, 5).mean()
    assert bits_per_token < 0.3  # uniform would be log2(30) = 4.9
    random_bits = -np.mean([lm.log2_probs(s, 5).mean() for s in random_sequences(1, 20)])
    assert random_bits > 4


def test_counts_do_not_cross_tune_boundaries() -> None:
    lm = KneserNeyModel.fit([[1, 3, 2], [1, 4, 2]], V, max_order=3)
    # "2 1" never occurs inside a tune: the bigram level has no context "2"
    assert lm._gram_id([2, 1]) == -1
    assert lm._gram_id([1, 3]) >= 0


def test_save_and_load_give_identical_scores(model: KneserNeyModel, tmp_path) -> None:
    path = tmp_path / "kn.npz"
    model.save(path)
    loaded = KneserNeyModel.load(path)
    seq = random_sequences(5, 1)[0]
    np.testing.assert_array_equal(loaded.log2_probs(seq, 6), model.log2_probs(seq, 6))
    assert loaded.max_order == 6


def test_fit_is_deterministic() -> None:
    a = KneserNeyModel.fit(random_sequences(3), V, 4)
    b = KneserNeyModel.fit(list(reversed(random_sequences(3))), V, 4)
    seq = random_sequences(4, 1)[0]
    np.testing.assert_allclose(a.log2_probs(seq, 4), b.log2_probs(seq, 4), rtol=1e-12)


def test_bad_arguments_are_refused(model: KneserNeyModel) -> None:
    with pytest.raises(ValueError):
        model.log2_probs([1, 2], 7)
    with pytest.raises(ValueError):
        KneserNeyModel.fit([[1, V + 3]], V, 3)
    with pytest.raises(ValueError):
        KneserNeyModel.fit([], V, 3)


def test_batched_scores_equal_one_by_one(model: KneserNeyModel) -> None:
    seqs = random_sequences(7, 12) + [[1], [], [1, 5, 6, 7, 5, 6, 8, 2]]
    many = model.log2_probs_many(seqs, 5)
    for seq, got in zip(seqs, many):
        assert got.shape == (max(len(seq) - 1, 0),)
        np.testing.assert_allclose(got, model.log2_probs(seq, 5) if len(seq) > 1 else [], rtol=1e-12)
