"""σ-basin on half-spaces with thresholds b_i < 0 at θ₀ = 0: S(θ₀) = 1 and
p_A(σ) = mean_i Φ(−b_i/σ), decreasing in σ; the true σ-basin σ* solves p_A(σ*) = 1 − τ (brentq).
Each interval contains σ* with probability ≥ confidence = 0.99 (Bonferroni over the σ grid)."""

import numpy as np
import pytest
import torch
from analytic_models import HalfSpace, param_bits, same_bits, threshold_score
from scipy.optimize import brentq
from scipy.stats import norm

from landscape.sigma_basin import sigma_basin
from theory.errors import UserInputError

D, TAU = 40, 0.1
B = np.array([-0.5, -1.0, -1.5, -2.0])


def model_and_score():
    v = torch.zeros(D, dtype=torch.float64)
    v[2] = 1.0
    return HalfSpace(torch.zeros(D), v), threshold_score(B)


def true_sigma_basin() -> float:
    return brentq(lambda s: np.mean(norm.cdf(-B / s)) - (1 - TAU), 1e-3, 100.0)


SIGMAS = np.geomspace(0.1, 3.0, 8)


@pytest.mark.parametrize("mode,bound", [("set", "hoeffding"), ("set", "randomized-rounding"),
                                        ("pairs", "auto")])
def test_interval_contains_the_true_sigma_basin(mode, bound):
    model, score = model_and_score()
    bits = param_bits(model)
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=120, seed=4, mode=mode, bound=bound, confidence=0.99)
    assert same_bits(model, bits)
    est = res.sigma_basin
    star = true_sigma_basin()
    assert est.lo <= star <= est.hi
    assert est.lo <= est.estimate <= est.hi
    assert res.baseline == 1.0 and res.threshold == pytest.approx(1 - TAU)
    assert bound.split("-")[0] in est.method or bound == "auto"
    per_sigma = 1 - 0.01 / len(SIGMAS)
    assert all(p.p_a.confidence == pytest.approx(per_sigma) for p in res.points)
    assert all(p.p_a.n == 120 for p in res.points)
    # each point's interval holds its own truth (simultaneously, with probability ≥ 0.99)
    for p in res.points:
        assert p.p_a.lo <= np.mean(norm.cdf(-B / p.sigma)) <= p.p_a.hi


def test_pairs_mode_draws_one_example_per_noise():
    model, score = model_and_score()
    res = sigma_basin(model, score, [0.5], tau=TAU, n=30, seed=1, mode="pairs")
    assert res.n_evals == 30 + 1                       # 30 draws + the baseline
    assert res.points[0].p_a.method.startswith("clopper-pearson")


def test_multiplicative_variant_is_relative_and_scale_invariant():
    # θ₀ = c·1 and S = 1{mean(θ) > c/2}: θ⊙(1+σz) gives the same outcomes for every c > 0
    d = 16
    outcomes = []
    for c in (1.0, 1000.0):
        v = torch.full((d,), 1.0 / d, dtype=torch.float64)
        model = HalfSpace(torch.full((d,), c), v)
        res = sigma_basin(model, threshold_score([c / 2]), [0.5, 2.0], tau=0.1, n=40, seed=8, kind="multiplicative")
        assert res.sigma_basin.unit.startswith("relative")
        outcomes.append([p.p_a.estimate for p in res.points])
    assert outcomes[0] == outcomes[1]


def test_bad_inputs_are_refused():
    model, score = model_and_score()
    with pytest.raises(UserInputError):
        sigma_basin(model, score, [0.0, 1.0])
    with pytest.raises(UserInputError):
        sigma_basin(model, score, [1.0], kind="layer")
