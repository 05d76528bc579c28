"""E‖Z‖ and Var‖Z‖ for Z ~ N(0, I_d) against mpmath (60 digits) and against sampling."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import gammaln

from theory.errors import UserInputError
from theory.gaussian_norm import gaussian_norm_mean, gaussian_norm_variance
from theory.stats import median_of_means

DIMS = [1, 2, 3, 10, 1e3, 1e6, 1e9, 1e11]


def reference(d: float) -> tuple[float, float]:
    with mpmath.workdps(60):
        D = mpmath.mpf(d)
        mean = mpmath.sqrt(2) * mpmath.gamma((D + 1) / 2) / mpmath.gamma(D / 2)
        return mean, D - mean**2


def errors(mean_fn, var_fn, d: float) -> tuple[float, float]:
    mean, var = reference(d)
    return float(abs((mean_fn(d) - mean) / mean)), float(abs(var_fn(d) - var))


@pytest.mark.parametrize("d", DIMS)
def test_against_mpmath_at_the_issue_dimensions(d):
    rel_mean, abs_var = errors(gaussian_norm_mean, gaussian_norm_variance, d)
    assert rel_mean <= 1e-13
    assert abs_var <= 1e-9


@given(log_d=st.floats(0.0, 12.0))
def test_against_mpmath_for_any_real_dimension(log_d):
    d = 10.0**log_d
    rel_mean, abs_var = errors(gaussian_norm_mean, gaussian_norm_variance, d)
    assert rel_mean <= 1e-13
    assert abs_var <= 1e-9


def test_the_naive_formula_fails_the_same_check():
    """exp(gammaln − gammaln) and d − E² (the obvious code) miss the tolerances at large d."""

    def naive_mean(d):
        return np.sqrt(2.0) * np.exp(gammaln((d + 1) / 2) - gammaln(d / 2))

    def naive_var(d):
        return d - naive_mean(d) ** 2

    worst = [errors(naive_mean, naive_var, d) for d in DIMS]
    assert max(m for m, _ in worst) > 1e-13 or max(v for _, v in worst) > 1e-9
    assert max(v for _, v in worst) > 1e-9


@pytest.mark.parametrize("d", [1, 4, 100, 10_000])
def test_mean_against_sampling(d):
    """‖Z‖ = √(χ²_d) sampled; median of means with radius from the exact variance, fail_prob 1e-6. The
    leading correction −√d/(4d) is larger than the radius here, so √d alone would fail."""
    rng = np.random.default_rng(d)
    norms = np.sqrt(rng.chisquare(d, size=1_200_000))
    est, radius = median_of_means(norms, 1e-6, gaussian_norm_variance(d))
    assert abs(est - gaussian_norm_mean(d)) <= radius
    if d <= 100:
        assert abs(est - np.sqrt(d)) > radius


def test_shapes_and_domain():
    out = gaussian_norm_mean(np.array([1.0, 100.0, 1e8]))
    assert out.shape == (3,)
    assert gaussian_norm_variance(1e12) == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(UserInputError, match="d must"):
        gaussian_norm_mean(0.0)
