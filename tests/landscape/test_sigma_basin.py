"""σ-basin on half-spaces with thresholds b_i < 0 at θ₀ = 0: S(θ₀) = 1 and
p_A(σ) = mean_i Φ(−b_i/σ), decreasing in σ; the true σ-basin σ* solves p_A(σ*) = 1 − τ (brentq).
Each interval contains σ* with probability ≥ confidence = 0.99 (Bonferroni over the σ grid)."""

import numpy as np
import pytest
import torch
from analytic_models import HalfSpace, param_bits, same_bits, threshold_score
from scipy.optimize import brentq
from scipy.stats import norm

from landscape.context import ProbeContext
from landscape.sigma_basin import bisect_points, inside_resolvable, sigma_basin
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
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=120, mode=mode, bound=bound, confidence=0.99, search="grid",
                      ctx=ProbeContext(seed=4))
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
    res = sigma_basin(model, score, [0.5], tau=TAU, n=30, mode="pairs", search="grid", ctx=ProbeContext(seed=1))
    assert res.n_evals == 30 + 1                       # 30 draws + the baseline
    assert res.points[0].p_a.method.startswith("clopper-pearson")


def test_multiplicative_variant_is_relative_and_scale_invariant():
    # θ₀ = c·1 and S = 1{mean(θ) > c/2}: θ⊙(1+σz) gives the same outcomes for every c > 0
    d = 16
    outcomes = []
    for c in (1.0, 1000.0):
        v = torch.full((d,), 1.0 / d, dtype=torch.float64)
        model = HalfSpace(torch.full((d,), c), v)
        res = sigma_basin(model, threshold_score([c / 2]), [0.5, 2.0], tau=0.1, n=40, kind="multiplicative",
                          search="grid", ctx=ProbeContext(seed=8))
        assert res.sigma_basin.unit.startswith("relative")
        outcomes.append([p.p_a.estimate for p in res.points])
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("mode", ["set", "pairs"])
def test_bisect_measures_a_subset_with_the_grid_draws_and_a_wider_interval(mode):
    model, score = model_and_score()
    bits = param_bits(model)
    grid = np.geomspace(0.1, 3.0, 15)
    full = sigma_basin(model, score, grid, tau=TAU, n=60, mode=mode, confidence=0.99, search="grid",
                      ctx=ProbeContext(seed=2))
    fast = sigma_basin(model, score, grid, tau=TAU, n=60, mode=mode, confidence=0.99, search="bisect", ctx=ProbeContext(seed=2))
    assert same_bits(model, bits)
    by_sigma = {p.sigma: p for p in full.points}
    assert len(fast.points) < len(full.points)
    for p in fast.points:                       # same draws, same rounding seed, same Bonferroni level
        assert p.p_a == by_sigma[p.sigma].p_a and p.noise_seeds == by_sigma[p.sigma].noise_seeds
    # p̂_A is decreasing on this grid, so the binary search lands on the grid's point estimate
    est = [p.p_a.estimate for p in full.points]
    assert all(a >= b for a, b in zip(est, est[1:]))
    assert fast.sigma_basin.estimate == full.sigma_basin.estimate
    assert fast.sigma_basin.lo <= full.sigma_basin.lo and fast.sigma_basin.hi >= full.sigma_basin.hi
    assert fast.sigma_basin.lo <= true_sigma_basin() <= fast.sigma_basin.hi
    # the upward walk finds the grid's smallest certified-outside sigma (p̂_A < t there, so above the
    # boundary), and costs no more points than it walks
    assert fast.sigma_basin.hi == full.sigma_basin.hi
    walked = [p for p in fast.points if fast.sigma_basin.estimate < p.sigma <= fast.sigma_basin.hi]
    assert len(fast.points) <= bisect_points(len(grid)) + len(walked)


def test_bisect_point_count():
    assert [bisect_points(m) for m in (1, 2, 3, 7, 8, 15)] == [1, 2, 2, 3, 4, 4]


def test_inside_resolvable_is_the_clopper_pearson_half_width_against_tau():
    from scipy.stats import beta
    conf = 1 - 0.05 / 7
    for n, s0, tau in ((200, 0.455, 0.05), (1000, 0.455, 0.05), (200, 0.455, 0.15), (50, 1.0, 0.1)):
        k = round(s0 * n)
        lo = 0.0 if k == 0 else beta.ppf((1 - conf) / 2, k, n - k + 1)
        assert inside_resolvable(s0, s0 - tau, n, conf) == (lo >= s0 - tau)
    assert not inside_resolvable(0.455, 0.405, 200, conf)     # the quick check's n cannot resolve tau = 0.05
    assert inside_resolvable(0.455, 0.405, 1000, conf)
    model, score = model_and_score()                            # S(θ₀) = 1, tau = 0.1: resolvable at n = 120
    assert sigma_basin(model, score, [0.5], tau=TAU, n=120, mode="pairs", search="grid").inside_resolvable


def test_bad_inputs_are_refused():
    model, score = model_and_score()
    with pytest.raises(UserInputError):
        sigma_basin(model, score, [0.0, 1.0])
    with pytest.raises(UserInputError):
        sigma_basin(model, score, [1.0], kind="layer")
    with pytest.raises(UserInputError):
        sigma_basin(model, score, [1.0], search="golden")


@pytest.mark.parametrize("mode,b", [("pairs", 1), ("pairs", 3), ("set", 1)])
def test_sequential_paired_interval_contains_the_true_sigma_basin(mode, b):
    model, score = model_and_score()
    bits = param_bits(model)
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=400, mode=mode, b=b, confidence=0.99,
                      ctx=ProbeContext(seed=4))
    assert same_bits(model, bits)
    est, star = res.sigma_basin, true_sigma_basin()
    assert est.lo <= star <= est.hi and 0 < est.lo and est.hi < np.inf
    assert res.examples_per_trial == (len(B) if mode == "set" else b)
    for p in res.points:  # each decided σ is on the right side of τ, and the drop interval holds its truth
        drop = 1 - np.mean(norm.cdf(-B / p.sigma))
        assert p.drop.lo <= drop <= p.drop.hi
        assert p.decision == ("inside" if p.inside else "outside" if p.outside else "undecided")
        assert not p.inside or drop < TAU
        assert not p.outside or drop > TAU


def test_sequential_draws_each_noise_once_and_stops_when_decided(monkeypatch):
    import landscape.kinds.base as kinds_base

    model, score = model_and_score()
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=400, confidence=0.99, b=1, ctx=ProbeContext(seed=4))
    trials = max(p.trials for p in res.points)
    assert len(calls) == trials  # one draw per trial (one tensor), shared by every σ pending then
    assert len(set(calls)) == trials
    far = [p for p in res.points if abs(1 - np.mean(norm.cdf(-B / p.sigma)) - TAU) > 0.07 or p.sigma < 0.3]
    assert far and all(p.decision in ("inside", "outside") and p.trials < 400 for p in far)  # stopped early
    assert sum(p.trials for p in res.points) == res.n_evals - 1  # plus the clean baseline


def test_auto_b_minimises_the_stated_cost_and_is_recorded():
    model, score = model_and_score()
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=400, confidence=0.99, ctx=ProbeContext(seed=4))
    choice = res.sigma_basin.extra["b_choice"]
    costs = {int(k): v for k, v in choice["expected_cost_s"].items()}
    assert res.examples_per_trial == choice["b"] == min(costs, key=costs.get)
    assert set(costs) == {1, 2, len(B)} and choice["floor_trials"] >= 1
    # the variance model: a whole-set trial keeps only the between-draw variance, one example adds the within
    n_pool = len(B)
    var = {b: choice["var_between"] + choice["var_within"] * (n_pool - b) / ((n_pool - 1) * b) for b in costs}
    assert var[n_pool] == pytest.approx(choice["var_between"]) and var[1] >= var[n_pool]
    assert res.sigma_basin.lo <= true_sigma_basin() <= res.sigma_basin.hi


def test_auto_b_is_kept_in_the_store_so_a_rerun_repeats_it(tmp_path, monkeypatch):
    import landscape.sigma_basin as sb
    from landscape.store import ResultStore

    model, score = model_and_score()

    def run():
        return sigma_basin(model, score, SIGMAS, tau=TAU, n=200, confidence=0.99,
                           ctx=ProbeContext(store=ResultStore(tmp_path / "rows.jsonl"), model_id="hs", seed=4))

    first = run()

    def never(*args, **kwargs):
        raise AssertionError("the stored choice of b was not reused")

    monkeypatch.setattr(sb, "choose_examples_per_trial", never)
    again = run()
    assert again.examples_per_trial == first.examples_per_trial
    assert again.points == first.points and again.n_evals == 0
