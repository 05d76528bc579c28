"""Thm 4.3 on shapes without a closed form (unions / intersections of half-spaces, a random ReLU net's
indicator), by Monte Carlo — and proof that the same estimator rejects a 10 % too-strong bound.

Procedure: p_A at θ₀ and the smoothed score at θ₁ = θ₀ + Δ (‖Δ‖ = r) from n seeded draws each, with
Clopper–Pearson intervals. The bound holds unless hi(θ₁) < Φ(Φ⁻¹(lo(p_A)) − r/σ). Each test makes at most
4 intervals at confidence 1 − 2.5e-7, so its failure probability is ≤ 1e-6 (union bound).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.special import ndtri

from theory.bounds import certified_lower_bound
from theory.stats import clopper_pearson

CONFIDENCE = 1 - 2.5e-7
Shape = Callable[[np.ndarray], np.ndarray]  # (batch, d) -> bool (batch,)


def smoothed_interval(shape: Shape, theta: np.ndarray, sigma: float, n: int, seed: int,
                      batch: int = 2000) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        hits += int(np.count_nonzero(shape(theta[None, :] + sigma * rng.standard_normal((m, theta.size)))))
    return clopper_pearson(hits, n, CONFIDENCE)


def bound_rejected(shape: Shape, theta0: np.ndarray, theta1: np.ndarray, sigma_noise: float,
                   sigma_claimed: float, n: int, seed: int) -> bool:
    """True when the data contradict E S(θ₁+ε) ≥ Φ(Φ⁻¹(p_A) − r/σ_claimed) at the chosen confidence.
    Also asserts that the case is informative (p_A within [0.05, 0.95]), else the test could not fail."""
    p_lo, p_hi = smoothed_interval(shape, theta0, sigma_noise, n, seed)
    assert 0.05 <= p_lo and p_hi <= 0.95, f"uninformative shape: p_A in [{p_lo:.3f}, {p_hi:.3f}]"
    _, s_hi = smoothed_interval(shape, theta1, sigma_noise, n, seed + 1)
    r = float(np.linalg.norm(theta1 - theta0))
    return s_hi < certified_lower_bound(p_lo, r, sigma_claimed)


def _unit_rows(k: int, d: int, seed: int) -> np.ndarray:
    V = np.random.default_rng(seed).standard_normal((k, d))
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def union(V: np.ndarray) -> Shape:
    return lambda X: (X @ V.T).max(axis=1) >= 0.0


def intersection(V: np.ndarray, offset: float) -> Shape:
    return lambda X: (X @ V.T).min(axis=1) >= -offset


def relu_net(d: int, seed: int, sigma: float, width: int = 16) -> Shape:
    """1{w₂ᵀ relu(W₁θ + b₁) + b₂ ≥ 0}, rows of W₁ of norm ≈ 1 and biases on the noise scale σ."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((width, d)) / np.sqrt(d)
    b1 = rng.standard_normal(width) * sigma
    w2 = rng.standard_normal(width)
    calibration = sigma * rng.standard_normal((2000, d))  # output bias: p_A ≈ ½ at θ₀ = 0
    b2 = -float(np.median(np.maximum(calibration @ W1.T + b1, 0.0) @ w2))
    return lambda X: np.maximum(X @ W1.T + b1, 0.0) @ w2 + b2 >= 0.0


def _check_shape(shape: Shape, d: int, sigma: float, r: float, n: int, seed: int) -> None:
    theta0 = np.zeros(d)
    step = np.random.default_rng(seed + 7).standard_normal(d)
    theta1 = theta0 + r * step / np.linalg.norm(step)
    assert not bound_rejected(shape, theta0, theta1, sigma, sigma, n, seed)


def _check_worst(shape: Shape, V: np.ndarray, sigma: float, r: float, n: int, seed: int) -> None:
    """Move against the mean normal (the direction that lowers the score fastest for these shapes)."""
    theta0 = np.zeros(V.shape[1])
    u = V.sum(axis=0)
    assert not bound_rejected(shape, theta0, theta0 - r * u / np.linalg.norm(u), sigma, sigma, n, seed)


@pytest.mark.parametrize("kind", ["union", "intersection"])
def test_half_space_combinations_small_d(kind):
    d, sigma = 20, 1.0
    V = _unit_rows(3, d, seed=11)
    shape = union(V) if kind == "union" else intersection(V, 0.5 * sigma)
    _check_worst(shape, V, sigma, r=1.0, n=20_000, seed=3)


def test_relu_net_indicator_small_d():
    _check_shape(relu_net(20, seed=5, sigma=1.0), 20, sigma=1.0, r=1.5, n=20_000, seed=4)


def test_rejects_ten_percent_too_strong_bound_on_tight_half_space():
    """Tight half-space (Δ ∥ −v) with noise 0.9σ while the certificate is claimed for σ: rejected; the
    honest claim (noise σ) is not. At p_A = ½, r = σ: truth Φ(−1/0.9) = 0.133 vs claim ≈ Φ(−1) = 0.159."""
    d, sigma = 10, 1.0
    v = _unit_rows(1, d, seed=1)[0]
    shape: Shape = lambda X: X @ v >= 0.0  # noqa: E731
    theta0, theta1 = np.zeros(d), -sigma * v
    assert bound_rejected(shape, theta0, theta1, 0.9 * sigma, sigma, n=50_000, seed=8)
    assert not bound_rejected(shape, theta0, theta1, sigma, sigma, n=50_000, seed=9)


def test_exact_half_space_agrees_with_monte_carlo():
    """The estimator's interval for a half-space contains the exact Φ value (p_A = Φ(0.3))."""
    d, sigma = 10, 0.5
    v = _unit_rows(1, d, seed=2)[0]
    theta = 0.3 * sigma * v
    lo, hi = smoothed_interval(lambda X: X @ v >= 0.0, theta, sigma, 50_000, seed=10)
    from scipy.special import ndtr

    assert lo <= float(ndtr(0.3)) <= hi
    assert ndtri(lo) < 0.3 < ndtri(hi)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["union", "intersection", "relu"])
def test_shapes_high_dimension(kind):
    d, sigma = 10_000, 0.01
    if kind == "relu":
        _check_shape(relu_net(d, seed=6, sigma=sigma), d, sigma, r=0.015, n=20_000, seed=12)
        return
    V = _unit_rows(3, d, seed=13)
    shape = union(V) if kind == "union" else intersection(V, 0.5 * sigma)
    _check_worst(shape, V, sigma, r=0.01, n=20_000, seed=14)


@pytest.mark.slow
def test_rejects_too_strong_bound_high_dimension():
    d, sigma = 10_000, 0.01
    v = _unit_rows(1, d, seed=15)[0]
    shape: Shape = lambda X: X @ v >= 0.0  # noqa: E731
    assert bound_rejected(shape, np.zeros(d), -sigma * v, 0.9 * sigma, sigma, n=50_000, seed=16)
