"""Thm 4.5: the heuristic (parameter-noise) variant fails on the counter-example, the rigorous
(embedding-noise) variant holds — exactly on linear scores with repeats, and by Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from theory import counterexample as cx
from theory.bounds import (
    embedding_noise_dataset_bound,
    embedding_noise_distance,
    substitution_bound_heuristic,
    substitution_distance_heuristic,
)
from theory.errors import UserInputError


def test_counterexample_monte_carlo_confirms_exact_values():
    """Four Clopper–Pearson intervals at 1 − 1e-7 each (union: failure probability ≤ 4e-7 ≤ 1e-6)."""
    mc = cx.monte_carlo(n=200_000, seed=0)
    for est, exact in [(mc.p_a_parameter, cx.EXACT["p_a"]), (mc.p_a_embedding, cx.EXACT["p_a"]),
                       (mc.x_prime_parameter, 0.0), (mc.x_prime_embedding, cx.EXACT["x_prime_embedding_noise"])]:
        assert est.lo <= exact <= est.hi
    assert mc.heuristic_violated and mc.rigorous_holds
    assert mc.heuristic_bound == pytest.approx(float(ndtr(1 / (2 * np.sqrt(2)) - 1)), abs=1e-15)


def test_counterexample_distances_and_heuristic_bound():
    W = cx.EMBEDDING
    assert substitution_distance_heuristic(W, cx.X, cx.X_PRIME) == 1.0
    assert embedding_noise_distance(W, cx.X, cx.X_PRIME) == 1.0
    assert substitution_bound_heuristic(cx.EXACT["p_a"], W, cx.X, cx.X_PRIME, 1.0) == pytest.approx(0.259, abs=5e-4)
    # a repeated substituted token: the heuristic counts the column once, the rigorous distance twice
    assert substitution_distance_heuristic(W, (1, 1), (0, 0)) == 1.0
    assert embedding_noise_distance(W, (1, 1), (0, 0)) == pytest.approx(np.sqrt(2.0), abs=1e-15)


@st.composite
def substitution_datasets(draw):
    vocab, hidden, length = draw(st.integers(2, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    n_examples = draw(st.integers(1, 5))
    ids = st.lists(st.integers(0, vocab - 1), min_size=length, max_size=length)
    pairs = [(draw(ids), draw(ids)) for _ in range(n_examples)]
    return vocab, hidden, pairs, draw(st.integers(0, 2**32 - 1)), draw(st.floats(0.05, 2.0))


@settings(max_examples=60)
@given(data=substitution_datasets())
def test_rigorous_dataset_bound_holds_exactly_for_linear_scores(data):
    """Per example a half-space score 1{wᵀ vec(z) ≥ b} of the (positions × hidden) embedding sequence z;
    under embedding noise σ its smoothed value is Φ((wᵀ vec(e) − b)/(σ‖w‖)) exactly. The dataset mean
    after substitution must be ≥ Φ(Φ⁻¹(mean p_x) − max r_x/σ), repeats included."""
    vocab, hidden, pairs, seed, sigma = data
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((vocab, hidden))
    before, after, dists = [], [], []
    for tokens, new_tokens in pairs:
        w = rng.standard_normal(len(tokens) * hidden)
        b = float(w @ W[tokens].ravel()) + sigma * np.linalg.norm(w) * rng.uniform(-1.5, 1.5)
        score = lambda e, w=w, b=b: float(ndtr((w @ e.ravel() - b) / (sigma * np.linalg.norm(w))))  # noqa: E731
        before.append(score(W[tokens]))
        after.append(score(W[new_tokens]))
        dists.append(embedding_noise_distance(W, tokens, new_tokens))
    assert np.mean(after) >= embedding_noise_dataset_bound(np.mean(before), dists, sigma) - 1e-12
    for (tokens, new_tokens), r in zip(pairs, dists):
        assert r >= substitution_distance_heuristic(W, tokens, new_tokens) - 1e-12


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: embedding_noise_distance(np.zeros(3), (0,), (1,)), "embedding"),
        (lambda: embedding_noise_distance(np.zeros((2, 1)), (0, 1), (1,)), "tokens"),
        (lambda: embedding_noise_distance(np.zeros((2, 1)), (0, 2), (1, 1)), "tokens"),
        (lambda: embedding_noise_dataset_bound(0.5, [], 1.0), "distances"),
        (lambda: embedding_noise_dataset_bound(0.5, [1.0], -1.0), "sigma"),
    ],
)
def test_substitution_domain_errors(call, name):
    with pytest.raises(UserInputError, match=name):
        call()
