"""Clopper–Pearson, Hoeffding, order-statistic and median-of-means intervals. Coverage is computed
exactly from the binomial pmf (no sampling), and the Wald interval must fail the same check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import beta, binom, norm

from theory.errors import UserInputError
from theory.stats import (
    clopper_pearson,
    hoeffding_interval,
    hoeffding_n_needed,
    hoeffding_radius,
    median_interval,
    median_of_means,
    median_order_statistic_coverage,
    median_order_statistic_rank,
    n_all_success_needed,
)

N_GRID = [1, 2, 3, 5, 8, 13, 20, 30, 44, 51, 75, 100]
P_GRID = np.linspace(0.001, 0.999, 300)


def exact_coverage(interval, n: int, p_grid: np.ndarray) -> np.ndarray:
    """P_p(lo(X) ≤ p ≤ hi(X)), X ~ Bin(n, p), summed exactly over x = 0..n, for every p on the grid."""
    x = np.arange(n + 1)
    lo, hi = interval(x, n)
    inside = (lo[:, None] <= p_grid[None, :]) & (p_grid[None, :] <= hi[:, None])
    return (binom.pmf(x[:, None], n, p_grid[None, :]) * inside).sum(axis=0)


def wald(x, n, confidence):
    phat = x / n
    z = norm.ppf(1 - (1 - confidence) / 2)
    half = z * np.sqrt(phat * (1 - phat) / n)
    return phat - half, phat + half


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("sided", ["two", "lower", "upper"])
def test_clopper_pearson_exact_coverage(confidence, sided):
    for n in N_GRID:
        cov = exact_coverage(lambda x, m: clopper_pearson(x, m, confidence, sided), n, P_GRID)
        assert cov.min() >= confidence - 1e-12, (n, cov.min())


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_wald_fails_the_same_coverage_check(confidence):
    worst = min(exact_coverage(lambda x, m: wald(x, m, confidence), n, P_GRID).min() for n in N_GRID)
    assert worst < confidence - 0.05


def test_all_success_closed_form():
    assert clopper_pearson(50, 50, 0.99)[0] == 0.005 ** (1 / 50)
    assert clopper_pearson(0, 50, 0.99)[1] == 1 - 0.005 ** (1 / 50)
    assert n_all_success_needed(0.9, 0.99, "two") == 51
    assert n_all_success_needed(0.9, 0.99, "lower") == 44


@given(n=st.integers(1, 500), data=st.data(), confidence=st.floats(0.5, 0.999999))
def test_clopper_pearson_is_the_beta_quantile(n, data, confidence):
    x = data.draw(st.integers(0, n))
    g = 1 - confidence
    lo, hi = clopper_pearson(x, n, confidence)
    ref_lo = 0.0 if x == 0 else beta.ppf(g / 2, x, n - x + 1)
    ref_hi = 1.0 if x == n else beta.ppf(1 - g / 2, x + 1, n - x)
    assert lo == pytest.approx(ref_lo, rel=1e-9, abs=1e-12)
    assert hi == pytest.approx(ref_hi, rel=1e-9, abs=1e-12)
    one_lo, one_hi = clopper_pearson(x, n, confidence, "lower")
    assert one_hi == 1.0 and one_lo >= lo - 1e-15
    if x < n:
        assert clopper_pearson(x + 1, n, confidence)[0] >= lo


@given(p=st.floats(0.01, 0.999), confidence=st.floats(0.5, 0.9999), sided=st.sampled_from(["two", "lower"]))
def test_all_success_n_is_minimal(p, confidence, sided):
    n = n_all_success_needed(p, confidence, sided)
    assert clopper_pearson(n, n, confidence, sided)[0] >= p
    if n > 1:
        assert clopper_pearson(n - 1, n - 1, confidence, sided)[0] < p
    q = (1 - confidence) / 2 if sided == "two" else 1 - confidence
    assert abs(n - math.log(q) / math.log(p)) < 1 + 1e-9


@pytest.mark.parametrize("confidence", [0.9, 0.99])
def test_hoeffding_exact_coverage_for_bernoulli(confidence):
    for n in N_GRID:
        cov = exact_coverage(lambda x, m: hoeffding_interval(x / m, m, confidence), n, P_GRID)
        assert cov.min() >= confidence - 1e-12


@given(radius=st.floats(1e-3, 0.5), confidence=st.floats(0.5, 0.9999), sided=st.sampled_from(["two", "lower"]))
def test_hoeffding_n_needed_is_minimal(radius, confidence, sided):
    n = hoeffding_n_needed(radius, confidence, sided)
    assert hoeffding_radius(n, confidence, sided) <= radius * (1 + 1e-12)
    if n > 1:
        assert hoeffding_radius(n - 1, confidence, sided) > radius


@given(K=st.integers(1, 200))
def test_median_coverage_formula(K):
    """Coverage of [X_(k), X_(K+1−k)] = Σ_{i=k}^{K−k} C(K, i)/2^K (count of values below the median)."""
    for k in range(1, (K + 1) // 2 + 1):
        ref = sum(math.comb(K, i) for i in range(k, K - k + 1)) / 2**K
        assert median_order_statistic_coverage(K, k) == pytest.approx(ref, abs=1e-12)
    assert median_order_statistic_coverage(K, 1) == pytest.approx(1 - 2.0 ** (1 - K), abs=1e-15)


@given(K=st.integers(1, 300), confidence=st.floats(0.5, 0.999))
def test_median_interval_is_the_tightest_reaching_confidence(K, confidence):
    k = median_order_statistic_rank(K, confidence)
    cov = median_order_statistic_coverage(K, k)
    if k < (K + 1) // 2:
        assert median_order_statistic_coverage(K, k + 1) < confidence
    if cov < confidence:
        assert k == 1
    values = np.random.default_rng(K).standard_normal(K)
    est = median_interval(values, confidence, unit="alpha per coordinate")
    srt = np.sort(values)
    assert est.ci == (srt[k - 1], srt[K - k]) and est.coverage == cov and est.n == K
    assert est.method == "order-statistics"


def test_median_interval_covers_at_its_stated_rate():
    """Seeded check on uniforms: the hit frequency's Clopper–Pearson interval (1 − 1e-6) contains the
    exact coverage of [X_(k), X_(K+1−k)] for K = 9."""
    rng = np.random.default_rng(0)
    K, trials = 9, 20_000
    est_cov = median_interval(np.arange(K, dtype=float), 0.95).coverage
    samples = np.sort(rng.uniform(size=(trials, K)), axis=1)
    k = median_order_statistic_rank(K, 0.95)
    hits = int(np.count_nonzero((samples[:, k - 1] <= 0.5) & (0.5 <= samples[:, K - k])))
    lo, hi = clopper_pearson(hits, trials, 1 - 1e-6)
    assert lo <= est_cov <= hi


def test_median_interval_with_infinite_edges_and_bad_input():
    est = median_interval([1.0, 2.0, np.inf, np.inf, 3.0], 0.5)
    assert est.hi == np.inf and est.estimate == 3.0
    with pytest.raises(UserInputError, match="values"):
        median_interval([1.0, np.nan])
    with pytest.raises(UserInputError, match="values"):
        median_interval([])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: clopper_pearson(3, 2), "successes"),
        (lambda: clopper_pearson(1, 0), "n"),
        (lambda: clopper_pearson(1, 5, confidence=1.0), "confidence"),
        (lambda: clopper_pearson(1, 5, sided="left"), "sided"),
        (lambda: clopper_pearson(1.5, 5), "whole"),
        (lambda: n_all_success_needed(1.0), "p_lower"),
        (lambda: hoeffding_n_needed(0.0), "radius"),
    ],
)
def test_stats_domain_errors(call, name):
    with pytest.raises(UserInputError, match=name):
        call()


def test_median_of_means_covers_exponential_mean():
    """Exp(1) draws (mean 1, variance 1): the median-of-means radius at fail_prob 1e-6 contains the mean
    and is small enough to exclude a 15 % error (radius = 2√(1/⌊200000/111⌋) ≈ 0.047)."""
    values = np.random.default_rng(1).exponential(size=200_000)
    est, rad = median_of_means(values, 1e-6, variance=1.0)
    assert abs(est - 1.0) <= rad
    assert abs(est - 1.15) > rad
