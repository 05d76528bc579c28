"""Half-space model S(θ) = 1{vᵀθ > b}, ‖v‖ = 1: p_A = Φ(m/σ) with m = vᵀθ₀ − b, and the exact certified
radius for a floor q is σ(Φ⁻¹(p_A) − Φ⁻¹(q)) (move by −r·v). Statistical assertions hold with failure
probability ≤ 1 − confidence = 1 % each (fixed seeds, so each test is deterministic)."""

import numpy as np
import pytest
import torch
from analytic_models import HalfSpace, param_bits, same_bits, threshold_score
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, norm

from landscape.certificates import (
    certify,
    check_displacement,
    guaranteed_score_curve,
    parameter_distance,
)
from landscape.context import ProbeContext
from landscape.smoothing import smoothed_estimate
from theory.errors import UserInputError

D, MARGIN, SIGMA = 30, 0.8, 1.0
P_A = float(norm.cdf(MARGIN / SIGMA))


def half_space():
    v = torch.zeros(D, dtype=torch.float64)
    v[1] = 1.0
    return HalfSpace(torch.zeros(D), v), threshold_score([-MARGIN])


@settings(max_examples=25)
@given(st.floats(0.01, 0.99), st.integers(5, 80), st.sampled_from([0.9, 0.99]))
def test_exact_binomial_coverage_of_the_one_sided_lower_bound(p, n, conf):
    # P_{k ~ Bin(n, p)}[lower(k) > p] summed exactly over k, through the estimator's own interval code
    miss = sum(binom.pmf(k, n, p) for k in range(n + 1)
               if smoothed_estimate(np.r_[np.ones(k), np.zeros(n - k)], conf, sided="lower").lo > p)
    assert miss <= 1 - conf + 1e-12


@pytest.mark.parametrize("paired", [True, False])
def test_p_a_lower_and_certified_radius_are_below_the_exact_ones(paired):
    model, score = half_space()
    bits = param_bits(model)
    cert = certify(model, score, SIGMA, n=300, q=0.5, confidence=0.99, ctx=ProbeContext(seed=5), paired=paired)
    assert same_bits(model, bits)
    assert cert.p_a.n == 300 and cert.p_a.confidence == 0.99 and cert.p_a.hi == 1.0
    assert ("paired drop" if paired else "clopper-pearson") in cert.p_a.method and cert.mode == "pairs"
    assert cert.p_lower <= P_A
    exact_radius = SIGMA * (norm.ppf(P_A) - norm.ppf(0.5))
    assert cert.certified and 0 < cert.radius <= exact_radius
    # the guaranteed curve never exceeds the exact smoothed score along the worst direction −v
    r = np.linspace(0, 3, 13)
    curve = guaranteed_score_curve(cert, r)
    exact = norm.cdf((MARGIN - r) / SIGMA)
    assert np.all(np.array(curve.strong) <= exact + 1e-12)
    assert np.all(np.array(curve.weak) <= np.array(curve.strong) + 1e-12)   # strong ⇒ weak


def test_floor_defaults_to_chance_and_an_unreachable_floor_certifies_nothing():
    model, score = half_space()
    cert = certify(model, score, SIGMA, n=50, ctx=ProbeContext(seed=1))
    assert cert.q == score.chance
    none = certify(model, score, SIGMA, n=50, q=0.999, ctx=ProbeContext(seed=1))
    assert not none.certified and none.radius == 0.0


@pytest.mark.parametrize("kw", [dict(kind="multiplicative"), dict(kind="layer"), dict(param_filter=("theta",))])
def test_non_isotropic_noise_is_refused(kw):
    model, score = half_space()
    with pytest.raises(UserInputError):
        certify(model, score, SIGMA, n=10, **kw)


def test_displacement_check_measures_the_fine_tuned_point():
    model, score = half_space()
    cert = certify(model, score, SIGMA, n=200, q=0.5, ctx=ProbeContext(seed=2))
    shift = 0.5
    moved, _ = half_space()
    with torch.no_grad():
        moved.theta -= shift * moved.v                 # the worst direction, ‖Δθ‖ = shift
    bits = param_bits(moved)
    check = check_displacement(model, moved, score, cert, n=200, ctx=ProbeContext(seed=9))
    assert same_bits(moved, bits)
    assert check.displacement_norm == pytest.approx(shift, rel=1e-12)
    assert parameter_distance(model, dict(moved.named_parameters())) == pytest.approx(shift, rel=1e-12)
    truth = norm.cdf((MARGIN - shift) / SIGMA)
    assert check.guaranteed <= truth                  # the theorem, with p_lower ≤ p_A
    assert check.measured.lo <= truth <= check.measured.hi
    assert check.verdict != "fails"


def test_an_error_inside_the_score_leaves_the_weights_bitwise():
    model, score = half_space()
    bits = param_bits(model)
    calls = []

    class Failing:
        name, chance, n_examples = "failing", 0.5, 1

        def __call__(self, m, example_ids=None):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("evaluation failed")
            return score(m, example_ids)

    with pytest.raises(RuntimeError):
        certify(model, Failing(), SIGMA, n=10, ctx=ProbeContext(seed=0))
    assert same_bits(model, bits)


def test_several_examples_per_trial_bound_the_exact_smoothed_score():
    from landscape.evaluate import ProbeEvaluator
    from landscape.smoothing import draw_noise

    thresholds = np.array([-0.4, -0.8, -1.2, -1.6, 0.5])
    v = torch.zeros(D, dtype=torch.float64)
    v[1] = 1.0
    model, score = HalfSpace(torch.zeros(D), v), threshold_score(thresholds)
    p_a = float(np.mean(norm.cdf(-thresholds / SIGMA)))
    bits = param_bits(model)
    cert = certify(model, score, SIGMA, n=200, q=0.3, confidence=0.99, ctx=ProbeContext(seed=8), b=3)
    assert same_bits(model, bits) and cert.examples_per_trial == 3
    assert cert.p_lower <= p_a and cert.certified
    draws = draw_noise(ProbeEvaluator(model, score, ProbeContext(seed=8)), SIGMA, 200, mode="pairs", b=3)
    assert all(len(set(ids)) == 3 and list(ids) == sorted(ids) for ids in draws.subsets)
    # each trial's value lies in [0, 1] with mean p_A: Hoeffding's two-sided deviation at failure probability 1e-6
    assert draws.example_ids is None
    assert abs(float(draws.values.mean()) - p_a) <= np.sqrt(np.log(2 / 1e-6) / (2 * 200))
    with pytest.raises(UserInputError):
        certify(model, score, SIGMA, n=10, b=6)


def test_certificates_of_two_scores_share_each_noise_draw(monkeypatch):
    """certify_many on one noise plan: each certificate equals the one certify makes alone, and draw j's noise
    is made once for both scores."""
    import landscape.kinds.base as kinds_base
    from landscape.certificates import certify_many

    model, score = half_space()
    other = threshold_score([-0.4, -1.2], name="other")
    alone = [certify(model, s, sig, ProbeContext(seed=3), n=40, q=0.3, b=b)
             for s, sig, b in ((score, SIGMA, 1), (other, 0.5, 2))]
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    both = certify_many([(model, score, SIGMA, ProbeContext(seed=3), 1), (model, other, 0.5, ProbeContext(seed=3), 2)],
                        n=40, q=0.3)
    assert len(calls) == 40
    for a, j in zip(alone, both):
        assert (a.p_a.lo, a.p_a.estimate, a.radius, a.noise_seeds, a.examples_per_trial) == \
               (j.p_a.lo, j.p_a.estimate, j.radius, j.noise_seeds, j.examples_per_trial)
