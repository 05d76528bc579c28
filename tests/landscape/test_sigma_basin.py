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
    import landscape.trial_size as sb
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


def test_bracket_window_starts_at_the_nearest_point_and_spans_the_target_ratio():
    from landscape.sigma_basin import bracket_window

    grid = [1.0, 2.0, 4.0, 8.0, 16.0]
    assert bracket_window(grid, 4.0) == (2, 4)            # middle point, and the largest within 4×
    assert bracket_window(grid, 4.0, start=1.9) == (1, 3)
    assert bracket_window(grid, 1.5, start=2.0) == (1, 2)  # at least the next point
    assert bracket_window(grid, 4.0, start=16.0) == (4, 5)  # nothing above the last point


@pytest.mark.parametrize("start", [None, 3.0, 0.1])
def test_bracket_search_scores_two_sigma_per_trial_and_meets_its_ratio(start):
    model, score = model_and_score()
    star = true_sigma_basin()
    ratio = SIGMAS[2] / SIGMAS[0] * 1.0001                  # two grid steps
    full = sigma_basin(model, score, SIGMAS, tau=TAU, n=400, b=1, confidence=0.99, ctx=ProbeContext(seed=4))
    res = sigma_basin(model, score, SIGMAS, tau=TAU, n=400, b=1, confidence=0.99, ctx=ProbeContext(seed=4),
                      target_ratio=ratio, start=start)
    est = res.sigma_basin
    assert est.lo <= star <= est.hi
    first = SIGMAS[len(SIGMAS) // 2] if start is None else min(SIGMAS, key=lambda s: abs(np.log(s / start)))
    assert first in [p.sigma for p in res.points if p.trials > 0]   # the window starts where it was told
    # it stops when the declared resolution is reached, or when every σ it could still try between the
    # ends was left undecided at its budget
    between = [p for p in res.points if est.lo < p.sigma < est.hi]
    assert est.hi <= ratio * est.lo or (between and all(p.decision == "undecided" and p.trials == 400
                                                        for p in between))
    assert all(p.trials <= 400 for p in res.points)
    for p in res.points:                                    # decisions are right (their truths are known)
        drop = 1 - np.mean(norm.cdf(-B / p.sigma))
        assert not p.inside or drop < TAU
        assert not p.outside or drop > TAU
    trials = sum(p.trials for p in res.points)
    assert trials == res.n_evals - 1
    assert trials < sum(p.trials for p in full.points)


def test_bracket_search_leaves_an_undecidable_end_at_its_budget_and_moves_on():
    model, score = model_and_score()
    star = true_sigma_basin()
    # the two middle σ sit at the boundary (no budget decides them); 60 trials are below the floor that any
    # inside certificate needs (τ = 0.1 on [−1, 1] at 99 %), while 10σ* is far outside
    grid = [star / 3.0, star * 0.999, star * 1.001, star * 10.0]
    res = sigma_basin(model, score, grid, tau=TAU, n=60, b=4, confidence=0.99, ctx=ProbeContext(seed=6),
                      target_ratio=1.01, start=star)
    got = {p.sigma: (p.decision, p.trials) for p in res.points}
    assert got[grid[1]] == ("undecided", 60) and got[grid[2]] == ("undecided", 60)  # the first window
    assert got[grid[0]] == ("undecided", 60)       # the lower end moved down, and cannot be certified either
    assert got[grid[3]][0] == "outside" and got[grid[3]][1] < 60   # the upper end moved up and decided
    assert res.sigma_basin.ci == (0.0, grid[3])


def test_joint_search_over_two_scores_draws_each_noise_once_and_matches_each_alone(monkeypatch):
    """Two capabilities of one model on one noise plan: each result is the one its score gets alone (same
    trials, same decisions), and trial j's noise is drawn once for both."""
    import landscape.kinds.base as kinds_base
    from landscape.sigma_basin import SigmaTask, joint_sigma_basins

    model, score = model_and_score()
    other = threshold_score(B * 2.0, name="wider")
    grids = (SIGMAS, SIGMAS * 2.0)
    kw = dict(tau=TAU, n=300, b=2, confidence=0.99, target_ratio=3.0)
    alone = [sigma_basin(model, s, g, ProbeContext(seed=4), start=g[3], **kw) for s, g in zip((score, other), grids)]
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    tasks = [SigmaTask(model, s, ProbeContext(seed=4), g, g[3], 2) for s, g in zip((score, other), grids)]
    joint = joint_sigma_basins(tasks, **{k: v for k, v in kw.items() if k != "b"})
    for a, j in zip(alone, joint):
        assert [(p.sigma, p.trials, p.decision, p.drop.ci) for p in a.points] == \
               [(p.sigma, p.trials, p.decision, p.drop.ci) for p in j.points]
        assert a.sigma_basin.ci == j.sigma_basin.ci
    used = {seed for r in joint for p in r.points for seed in p.noise_seeds}
    assert len(calls) == len(set(calls)) == len(used)          # one draw per trial index, not one per score
    assert len(calls) < sum(p.trials for r in joint for p in r.points)


def test_short_memory_draws_the_noise_again_with_the_same_result(monkeypatch, capsys):
    """When free memory cannot hold a noise vector, each σ draws it again: the same bits, so the same
    decisions and intervals, only more noise draws."""
    import landscape.directions as directions
    import landscape.kinds.base as kinds_base

    model, score = model_and_score()
    kw = dict(tau=TAU, n=200, b=2, confidence=0.99, ctx=ProbeContext(seed=4))
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    held = sigma_basin(model, score, SIGMAS, **kw)
    drawn_held = len(calls)
    monkeypatch.setattr(directions, "free_bytes", lambda device: 16)   # 16 bytes free: nothing fits
    calls.clear()
    short = sigma_basin(model, score, SIGMAS, **kw)
    assert "drawing it again at every sigma" in capsys.readouterr().err
    assert [(p.sigma, p.trials, p.decision, p.drop.ci) for p in short.points] == \
           [(p.sigma, p.trials, p.decision, p.drop.ci) for p in held.points]
    assert len(calls) == sum(p.trials for p in short.points) > drawn_held   # one draw per (trial, σ)


def test_bracket_search_narrows_from_between_settled_ends():
    """The start σ sits on the boundary (undecidable): the lower end moves down and is certified inside, the
    upper end 4σ* is certified outside, the ratio 8 exceeds the target 4, so the never-visited 2σ* in
    between is scored, certified outside, and closes the interval to the target."""
    model, score = model_and_score()
    star = true_sigma_basin()
    grid = [star * f for f in (0.25, 0.5, 1.0, 2.0, 4.0)]
    res = sigma_basin(model, score, grid, tau=TAU, n=400, b=4, confidence=0.99, ctx=ProbeContext(seed=7),
                      target_ratio=4.0, start=star)
    got = {round(p.sigma / star, 2): (p.decision, p.trials) for p in res.points}
    assert got[1.0] == ("undecided", 400) and got[0.5][0] == "inside" and got[4.0][0] == "outside"
    assert got[2.0][0] == "outside" and 0.25 not in got
    assert res.sigma_basin.ci == (grid[1], grid[3])
