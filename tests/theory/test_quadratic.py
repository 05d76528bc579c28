"""The quadratic model ½ΔᵀHΔ: closed forms against sampling and against eigen-decompositions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.errors import UserInputError
from theory.quadratic import (
    expected_quadratic_loss,
    quadratic_basins,
    worst_case_quadratic_loss,
)
from theory.stats import median_of_means

spectra = st.lists(st.floats(0.0, 10.0), min_size=1, max_size=30).filter(lambda v: sum(v) > 1e-3)


def test_expected_loss_against_sampling():
    """Δ ~ N(0, σ² I) with a non-diagonal H = A Aᵀ: ½ΔᵀHΔ has variance σ⁴ tr(H²)/2; median of means at
    fail_prob 1e-6 contains σ² tr H / 2."""
    rng = np.random.default_rng(0)
    d, sigma = 8, 0.3
    A = rng.standard_normal((d, d))
    H = A @ A.T
    delta = sigma * rng.standard_normal((400_000, d))
    losses = 0.5 * np.einsum("ni,ij,nj->n", delta, H, delta)
    est, radius = median_of_means(losses, 1e-6, variance=sigma**4 * np.trace(H @ H) / 2)
    assert abs(est - expected_quadratic_loss(np.linalg.eigvalsh(H), sigma)) <= radius
    assert abs(est - sigma**2 * np.linalg.eigvalsh(H).max() * d / 2) > radius  # d λ_max ≠ tr H here


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 12), r=st.floats(0.01, 10.0))
def test_worst_case_is_the_top_eigenvector(seed, d, r):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d))
    H = A @ A.T
    lam, vecs = np.linalg.eigh(H)
    worst = worst_case_quadratic_loss(lam, r)
    top = r * vecs[:, -1]
    assert 0.5 * top @ H @ top == pytest.approx(worst, rel=1e-9)
    dirs = rng.standard_normal((200, d))
    dirs = r * dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    assert (0.5 * np.einsum("ni,ij,nj->n", dirs, H, dirs)).max() <= worst * (1 + 1e-9)


@given(lam=spectra, tau=st.floats(1e-4, 10.0))
def test_basins_meet_the_tolerance_in_both_units(lam, tau):
    b = quadratic_basins(lam, tau)
    assert expected_quadratic_loss(lam, b.most_case_alpha) == pytest.approx(tau, rel=1e-12)
    assert worst_case_quadratic_loss(lam, b.worst_case_norm) == pytest.approx(tau, rel=1e-12)
    d = len(lam)
    assert b.most_case_norm == pytest.approx(b.most_case_alpha * np.sqrt(d), rel=1e-12)
    assert b.worst_case_norm == pytest.approx(b.worst_case_alpha * np.sqrt(d), rel=1e-12)
    ratio = np.sqrt(d * max(lam) / sum(lam))
    assert b.ratio == pytest.approx(ratio, rel=1e-12)
    assert b.most_case_norm / b.worst_case_norm == pytest.approx(ratio, rel=1e-12)
    assert b.most_case_alpha / b.worst_case_alpha == pytest.approx(ratio, rel=1e-12)
    assert b.ratio >= 1.0 - 1e-12


@given(lam=spectra, tau=st.floats(1e-4, 10.0), extra=st.integers(1, 10_000))
def test_inert_directions_widen_the_basin_in_norm_not_in_alpha(lam, tau, extra):
    b0 = quadratic_basins(lam, tau)
    b1 = quadratic_basins(list(lam) + [0.0] * extra, tau)
    assert b1.most_case_alpha == pytest.approx(b0.most_case_alpha, rel=1e-12)
    growth = np.sqrt((len(lam) + extra) / len(lam))
    assert b1.most_case_norm == pytest.approx(b0.most_case_norm * growth, rel=1e-12)
    assert b1.worst_case_norm == pytest.approx(b0.worst_case_norm, rel=1e-12)


@pytest.mark.parametrize("lam", [[], [-1.0, 2.0], [0.0, 0.0], [np.inf]])
def test_quadratic_domain(lam):
    with pytest.raises(UserInputError, match="eigenvalues"):
        quadratic_basins(lam, 0.1)
