"""The paired trial design (landscape.smoothing.TrialDesign): exact unbiasedness of the stratified drop by
enumerating every trial it can draw, its range, and the sequential σ-basin on a half-space model whose set
holds examples both correct and incorrect at θ₀ (so the trials are stratified). Truth for the model:
examples are thresholds b_i, correct at θ iff v·θ > b_i (v a unit vector, θ₀ = 0), so under ε ~ N(0, σ² I)
p_A(σ) = mean_i Φ(−b_i/σ), with the b_i < 0 correct and the b_i > 0 incorrect at θ₀."""

import itertools
import math

import numpy as np
import pytest
import torch
from analytic_models import HalfSpace, param_bits, same_bits, threshold_score
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import norm

from landscape.context import ProbeContext
from landscape.sigma_basin import sigma_basin
from landscape.smoothing import trial_design, trial_plan
from theory.errors import UserInputError


def _all_trials(design):
    """Every example set the design can draw, each with its probability (uniform within each stratum)."""
    choices = [list(itertools.combinations(members, count)) for members, count in zip(design.strata, design.counts)]
    total = math.prod(len(c) for c in choices)
    return [(sorted(i for part in parts for i in part), 1.0 / total) for parts in itertools.product(*choices)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=3, max_size=9), st.data())
def test_the_expected_drop_is_the_whole_set_drop_exactly(clean, data):
    """E V = mean_x (O(θ₀, x) − O(θ₀ + ε, x)) for any outcomes under noise, enumerated over every trial; and
    every trial's V lies in the design's drop bounds, which are [S₀ − 1, S₀] when stratified."""
    n = len(clean)
    b = data.draw(st.integers(1, n))
    noisy = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    pool = list(range(10, 10 + n))  # ids that are not positions
    design = trial_design(pool, b, clean)
    by_id = dict(zip(pool, clean))
    noisy_by_id = dict(zip(pool, noisy))
    whole = (sum(clean) - sum(noisy)) / n
    expected_v = 0.0
    lo, hi = design.drop_bounds
    for ids, prob in _all_trials(design):
        assert len(ids) == b
        v = design.drop(ids, [by_id[i] for i in ids], [noisy_by_id[i] for i in ids])
        assert lo - 1e-12 <= v <= hi + 1e-12
        expected_v += prob * v
    assert expected_v == pytest.approx(whole, abs=1e-12)
    s0 = sum(clean) / n
    if design.stratified:
        assert (lo, hi) == pytest.approx((s0 - 1, s0)) and b >= 2 and 0 < sum(clean) < n
    else:
        assert b == 1 or sum(clean) in (0, n)


def test_stratified_counts_follow_the_clean_score_and_draws_are_reproducible():
    clean = [1] * 7 + [0] * 13
    design = trial_design(range(20), 8, clean)
    assert design.stratified and design.counts == (3, 5)  # round(8 · 7/20) = 3 correct, 5 incorrect
    assert trial_design(range(20), 2, [1] * 19 + [0]).counts == (1, 1)  # each stratum at least one
    assert trial_design(range(20), 20, clean).counts == (7, 13)  # the whole set
    first = [ids for _, ids in itertools.islice(trial_plan(design, 3), 50)]
    again = [ids for _, ids in itertools.islice(trial_plan(design, 3), 50)]
    assert first == again
    for ids in first:
        assert ids == sorted(set(ids)) and sum(clean[i] for i in ids) == 3


def test_uniform_bounds_are_the_extreme_subsets():
    """Without strata (b = 1, or outcomes not 0–1) V = mean clean − mean noisy over b examples; its range is
    (mean of the b smallest clean outcomes − 1, mean of the b largest)."""
    assert trial_design(range(5), 1, [1, 0, 1, 1, 0]).drop_bounds == (-1.0, 1.0)
    design = trial_design(range(4), 2, [0.2, 0.5, 0.9, 1.0])
    assert not design.stratified
    assert design.drop_bounds == pytest.approx((0.35 - 1, 0.95))
    assert trial_design(range(4), 2).drop_bounds == (-1.0, 1.0)
    with pytest.raises(UserInputError):
        trial_design(range(4), 5, [1, 0, 1, 0])
    with pytest.raises(UserInputError):
        trial_design(range(4), 2, [1, 0, 1])


THRESHOLDS = np.array([-0.5, -1.0, -1.5, -2.0, 0.5, 1.0])
TAU, D = 0.08, 30
SIGMAS = np.geomspace(0.2, 6.0, 8)


def _true_drop(sigma: float) -> float:
    return float(np.mean(THRESHOLDS < 0) - np.mean(norm.cdf(-THRESHOLDS / sigma)))


def test_stratified_sequential_sigma_basin_covers_the_truth():
    v = torch.zeros(D, dtype=torch.float64)
    v[5] = 1.0
    model, score = HalfSpace(torch.zeros(D), v), threshold_score(THRESHOLDS)
    bits = param_bits(model)
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=400, b=3, confidence=0.99, ctx=ProbeContext(seed=2))
    assert same_bits(model, bits)
    extra = res.sigma_basin.extra
    assert extra["stratified"] and extra["drop_bounds"] == pytest.approx([-1 / 3, 2 / 3])
    assert res.design is not None and res.design.counts == (2, 1)
    star = brentq(lambda s: _true_drop(s) - TAU, 0.2, 100.0)
    assert res.sigma_basin.lo <= star <= res.sigma_basin.hi
    decided = [p for p in res.points if p.decision != "undecided"]
    assert decided
    for p in res.points:
        assert p.drop.lo <= _true_drop(p.sigma) <= p.drop.hi
        assert p.decision != "inside" or _true_drop(p.sigma) < TAU
        assert p.decision != "outside" or _true_drop(p.sigma) > TAU
