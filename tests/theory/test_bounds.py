"""Thms 4.2–4.4 against shapes whose smoothed score is known exactly (half-spaces: Φ form; balls: the
non-central χ² form), to 1e-10, and the closed forms' domains.

Only the ranges where the bounds are informative are drawn: r/σ ∈ [0.05, 3], p_A ∈ [0.05, 0.95].
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr, ndtri
from scipy.stats import ncx2

from theory.bounds import (
    certified_lower_bound,
    certified_radius,
    lipschitz_concentration_bound,
    lipschitz_lower_bound,
)
from theory.errors import UserInputError

TOL = 1e-10
p_as = st.floats(0.05, 0.95)
ratios = st.floats(0.05, 3.0)  # r / σ
sigmas = st.floats(1e-3, 10.0)
dims = st.sampled_from([1, 2, 10, 1000, 10**6])
seeds = st.integers(0, 2**32 - 1)


def _half_space(d: int, p_a: float, sigma: float, seed: int):
    """v, b, θ₀ with E 1{vᵀ(θ₀+ε) ≥ b} = p_a, and the exact smoothed score function."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(d)
    nv = np.linalg.norm(v)
    b = float(rng.standard_normal())
    theta0 = (b + sigma * nv * ndtri(p_a)) * v / nv**2

    def smoothed(theta: np.ndarray) -> float:
        return float(ndtr((v @ theta - b) / (sigma * nv)))

    return v, theta0, smoothed


@settings(max_examples=60)
@given(d=dims, p_a=p_as, ratio=ratios, sigma=sigmas, seed=seeds)
def test_half_space_random_move_obeys_both_bounds(d, p_a, ratio, sigma, seed):
    v, theta0, smoothed = _half_space(d, p_a, sigma, seed)
    r = ratio * sigma
    step = np.random.default_rng(seed + 1).standard_normal(d)
    theta1 = theta0 + r * step / np.linalg.norm(step)
    assert abs(smoothed(theta0) - p_a) <= TOL
    assert smoothed(theta1) >= certified_lower_bound(p_a, r, sigma) - TOL
    assert smoothed(theta1) >= lipschitz_lower_bound(p_a, r, sigma) - TOL


@settings(max_examples=60)
@given(d=dims, p_a=p_as, ratio=ratios, sigma=sigmas, seed=seeds)
def test_half_space_worst_move_attains_strong_bound(d, p_a, ratio, sigma, seed):
    v, theta0, smoothed = _half_space(d, p_a, sigma, seed)
    r = ratio * sigma
    theta1 = theta0 - r * v / np.linalg.norm(v)
    assert abs(smoothed(theta1) - certified_lower_bound(p_a, r, sigma)) <= TOL


@given(sigma=sigmas, seed=seeds)
def test_weak_bound_tight_at_half(sigma, seed):
    """At p_A = ½ on a half-space the smoothed score falls at rate exactly 1/(√(2π)σ)."""
    v, theta0, smoothed = _half_space(3, 0.5, sigma, seed)
    r = 1e-6 * sigma
    drop_rate = (0.5 - smoothed(theta0 - r * v / np.linalg.norm(v))) / r
    assert abs(drop_rate * sigma * np.sqrt(2 * np.pi) - 1.0) <= 1e-5
    assert smoothed(theta0 - r * v / np.linalg.norm(v)) >= lipschitz_lower_bound(0.5, r, sigma) - TOL


def _ball_smoothed(R2: float, dist: float, sigma: float, d: int, inside: bool) -> float:
    """E 1{‖θ+ε−c‖ ≤ R} (inside) or its complement, with ‖θ − c‖ = dist: non-central χ²_d(dist²/σ²)."""
    f = ncx2.cdf if inside else ncx2.sf
    return float(f(R2 / sigma**2, d, (dist / sigma) ** 2))


@settings(max_examples=60)
@given(d=dims, p_a=p_as, ratio=ratios, sigma=sigmas, centre=st.floats(0.0, 3.0), angle=st.floats(0.0, 1.0),
       inside=st.booleans())
def test_ball_and_complement_obey_both_bounds(d, p_a, ratio, sigma, centre, angle, inside):
    """Balls of any radius: move by r to any distance between |ρ₀ − r| and ρ₀ + r from the centre."""
    rho0 = centre * sigma * np.sqrt(d)
    q = p_a if inside else 1.0 - p_a
    R2 = sigma**2 * float(ncx2.ppf(q, d, (rho0 / sigma) ** 2))
    p0 = _ball_smoothed(R2, rho0, sigma, d, inside)
    r = ratio * sigma
    rho1 = abs(rho0 - r) + angle * (rho0 + r - abs(rho0 - r))
    p1 = _ball_smoothed(R2, rho1, sigma, d, inside)
    assert p1 >= certified_lower_bound(p0, r, sigma) - TOL
    assert p1 >= lipschitz_lower_bound(p0, r, sigma) - TOL


@given(p=st.floats(0.0, 1.0), r=st.floats(0.0, 1e3), sigma=sigmas)
def test_strong_implies_weak_everywhere(p, r, sigma):
    assert certified_lower_bound(p, r, sigma) >= lipschitz_lower_bound(p, r, sigma) - 1e-15


@given(p=st.floats(0.01, 0.99), frac=st.floats(0.01, 1.0), sigma=sigmas)
def test_certified_radius_keeps_exactly_q(p, frac, sigma):
    q = frac * p
    R = certified_radius(p, q, sigma)
    assert R >= 0
    assert abs(certified_lower_bound(p, R, sigma) - q) <= 1e-9


@given(p=st.floats(0.0, 1.0), r=st.floats(0.0, 1e3), sigma=sigmas)
def test_bounds_are_probabilities_and_monotone(p, r, sigma):
    lo = certified_lower_bound(p, r, sigma)
    assert 0.0 <= lo <= p + 1e-15
    assert certified_lower_bound(p, r + sigma, sigma) <= lo + 1e-15
    assert 0.0 <= lipschitz_lower_bound(p, r, sigma) <= p


def test_limits_never_nan_and_broadcasting():
    out = certified_lower_bound(np.array([[0.0], [1.0], [0.5]]), np.array([0.0, 1.0, 5.0]), 1.0)
    assert out.shape == (3, 3)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1], 1.0)
    assert certified_radius(1.0, 1.0, 1.0) == np.inf
    assert certified_radius(0.3, 0.0, 1.0) == np.inf
    assert certified_radius(0.3, 0.3, 1.0) == 0.0
    assert isinstance(certified_lower_bound(0.5, 1.0, 1.0), float)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: certified_lower_bound(1.2, 1.0, 1.0), "p_a"),
        (lambda: certified_lower_bound(0.5, -1.0, 1.0), "distance"),
        (lambda: certified_lower_bound(0.5, 1.0, 0.0), "sigma"),
        (lambda: lipschitz_lower_bound(0.5, np.nan, 1.0), "distance"),
        (lambda: certified_radius(0.5, 0.6, 1.0), "q"),
        (lambda: certified_radius(0.5, 0.4, -2.0), "sigma"),
        (lambda: lipschitz_concentration_bound(0.5, 1.0, 1.0, 0.0), "fail_prob"),
        (lambda: lipschitz_concentration_bound(0.5, -1.0, 1.0, 0.1), "lipschitz"),
    ],
)
def test_domain_errors_name_the_argument(call, name):
    with pytest.raises(UserInputError, match=name):
        call()


@given(L=st.floats(0.1, 10.0), sigma=sigmas, fail_prob=st.floats(1e-9, 0.5))
def test_concentration_bound_on_linear_score(L, sigma, fail_prob):
    """S = L vᵀθ (unit v) is L-Lipschitz; S(θ+ε) − E S ~ N(0, L²σ²) exactly, so the probability of falling
    below the Thm 4.4 bound is Φ(−√(2 log(1/δ))), which must be ≤ δ."""
    bound = lipschitz_concentration_bound(0.0, L, sigma, fail_prob)
    assert float(ndtr(bound / (L * sigma))) <= fail_prob
