"""Hedged-capital betting confidence sequences (theory.sequential).

The capital process is recomputed here from the paper's formulas in a plain Python loop (products, no
numpy, no module helper), and the reported endpoints must sit where that recomputation crosses 1/α;
mutated bets and caps must fail the same check. Time-uniform coverage is checked by simulation with a
tolerance from a stated failure probability.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory.sequential as sequential
from theory.errors import UserInputError
from theory.sequential import betting_decision, betting_interval, capital
from theory.stats import clopper_pearson

# --- independent recomputation (Waudby-Smith & Ramdas, hedged capital, predictable plug-in bets) --------

CAP = 0.5  # truncation c
THETA = 0.5  # hedge weight


def reference_capitals(values, m, *, confidence, bounds, sided):
    """[(K⁺_t(m), K⁻_t(m)) for t = 1..n], on the [0, 1] scale of `bounds`, written from the paper."""
    a, b = bounds
    alpha = 1.0 - confidence
    alpha_side = alpha / 2 if sided == "two" else alpha
    m01 = (m - a) / (b - a)
    k_plus, k_minus = 1.0, 1.0
    total, squares, sigma2_before = 0.0, 0.0, 0.25
    path = []
    for t, x in enumerate(values, start=1):
        y = (x - a) / (b - a)
        lam = math.sqrt(2.0 * math.log(1.0 / alpha_side) / (sigma2_before * t * math.log(t + 1)))
        lam_plus = lam if m01 <= 0 else min(lam, CAP / m01)
        lam_minus = lam if m01 >= 1 else min(lam, CAP / (1.0 - m01))
        k_plus *= 1.0 + lam_plus * (y - m01)
        k_minus *= 1.0 - lam_minus * (y - m01)
        path.append((k_plus, k_minus))
        total += y
        mu_hat = (0.5 + total) / (t + 1)
        squares += (y - mu_hat) ** 2
        sigma2_before = (0.25 + squares) / (t + 1)
    return path


def reference_excluded(values, m, *, confidence, bounds, sided) -> bool:
    """Whether m is outside the running intersection: K_t(m) ≥ 1/α at some t."""
    alpha = 1.0 - confidence
    for k_plus, k_minus in reference_capitals(values, m, confidence=confidence, bounds=bounds, sided=sided):
        k = {"two": max(THETA * k_plus, (1 - THETA) * k_minus), "lower": k_plus, "upper": k_minus}[sided]
        if k >= 1.0 / alpha:
            return True
    return False


def _check_endpoints(values, lo, hi, *, confidence, bounds, sided, delta=1e-4, interior_points=9) -> bool:
    """True iff the recomputed capital excludes lo − δ and hi + δ (δ relative to the bounds' width) and
    keeps every point of [lo + δ, hi − δ] (on a grid); endpoints at the bounds need no exclusion."""
    a, b = bounds
    d = delta * (b - a)
    kw = dict(confidence=confidence, bounds=bounds, sided=sided)
    if lo > a and not reference_excluded(values, max(a, lo - d), **kw):
        return False
    if hi < b and not reference_excluded(values, min(b, hi + d), **kw):
        return False
    if lo + d >= hi - d:
        return False
    return not any(reference_excluded(values, m, **kw) for m in np.linspace(lo + d, hi - d, interior_points))


def _sequences():
    rng = np.random.default_rng(20240611)
    bern = (rng.random(400) < 0.3).astype(float)
    three_point = rng.choice([-1.0, 0.0, 1.0], size=400, p=[0.2, 0.5, 0.3])
    skewed = rng.beta(0.5, 3.0, size=400)
    return [("bernoulli", bern, (0.0, 1.0)), ("three-point", three_point, (-1.0, 1.0)),
            ("beta", skewed, (0.0, 1.0))]


SEQUENCES = _sequences()


@pytest.mark.parametrize("sided", ["two", "lower", "upper"])
@pytest.mark.parametrize("name,values,bounds", SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_endpoints_match_independent_recomputation(name, values, bounds, sided):
    lo, hi = betting_interval(values, confidence=0.95, bounds=bounds, sided=sided)
    if sided == "lower":
        assert hi == bounds[1] and lo > bounds[0]
    if sided == "upper":
        assert lo == bounds[0] and hi < bounds[1]
    assert _check_endpoints(values, lo, hi, confidence=0.95, bounds=bounds, sided=sided)


@pytest.mark.parametrize("name,values,bounds", SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_capital_path_matches_independent_recomputation(name, values, bounds):
    a, b = bounds
    for m in (a, a + 0.37 * (b - a), a + 0.5 * (b - a), b):
        ref = reference_capitals(values, m, confidence=0.9, bounds=bounds, sided="lower")
        plus = np.array([p for p, _ in ref])
        minus = np.array([q for _, q in ref])  # one-sided bets are the same for K⁺ and K⁻
        np.testing.assert_allclose(capital(values, m, confidence=0.9, bounds=bounds, sided="lower"), plus,
                                   rtol=1e-9)
        np.testing.assert_allclose(capital(values, m, confidence=0.9, bounds=bounds, sided="upper"), minus,
                                   rtol=1e-9)
        ref2 = reference_capitals(values, m, confidence=0.9, bounds=bounds, sided="two")
        hedged = np.array([max(THETA * p, (1 - THETA) * q) for p, q in ref2])
        np.testing.assert_allclose(capital(values, m, confidence=0.9, bounds=bounds), hedged, rtol=1e-9)


def test_one_sided_capital_uses_one_sided_bets():
    """One-sided bets are λ with log(1/α): the lower capital must differ from K⁺ with two-sided bets."""
    _, values, bounds = SEQUENCES[0]
    ref_one = [p for p, _ in reference_capitals(values, 0.2, confidence=0.9, bounds=bounds, sided="lower")]
    ref_two = [p for p, _ in reference_capitals(values, 0.2, confidence=0.9, bounds=bounds, sided="two")]
    ours = capital(values, 0.2, confidence=0.9, bounds=bounds, sided="lower")
    np.testing.assert_allclose(ours, ref_one, rtol=1e-9)
    assert not np.allclose(ours, ref_two, rtol=1e-6)


# --- mutants must fail the recomputation check -----------------------------------------------------------

def _doubled_bets(y, alpha_side, original=sequential._bets):
    return 2.0 * original(y, alpha_side)


def _two_sided_bets_at_level_alpha(y, alpha_side, original=sequential._bets):
    return original(y, 2.0 * alpha_side)  # log(1/α) instead of log(2/α) in the two-sided bet


def _non_predictable_bets(y, alpha_side):
    t = np.arange(1, y.size + 1, dtype=np.float64)
    mu_hat = (0.5 + np.cumsum(y)) / (t + 1.0)
    sigma2 = (0.25 + np.cumsum((y - mu_hat) ** 2)) / (t + 1.0)  # σ̂²_t: uses y_t itself
    return np.sqrt(2.0 * math.log(1.0 / alpha_side) / (sigma2 * t * np.log1p(t)))


MUTANTS = [
    ("bets-doubled", "_bets", _doubled_bets),
    ("bets-level-alpha", "_bets", _two_sided_bets_at_level_alpha),
    ("bets-not-predictable", "_bets", _non_predictable_bets),
    ("cap-0.9", "_TRUNCATION", 0.9),
    ("cap-0.25", "_TRUNCATION", 0.25),
]


@pytest.mark.parametrize("name,attribute,replacement", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_recomputation_check_rejects_mutants(monkeypatch, name, attribute, replacement):
    monkeypatch.setattr(sequential, attribute, replacement)
    rejected = 0
    for _, values, bounds in SEQUENCES:
        lo, hi = betting_interval(values, confidence=0.95, bounds=bounds)
        rejected += not _check_endpoints(values, lo, hi, confidence=0.95, bounds=bounds, sided="two")
    assert rejected == len(SEQUENCES), f"mutant {name} passed the recomputation check {len(SEQUENCES) - rejected} times"


def test_interval_properties():
    """Prefixes give nested intervals (running intersection); reflecting and rescaling the data reflects
    and rescales the interval; every interval holds the sample mean of Bernoulli(½) data at n = 1000."""
    _, values, _ = SEQUENCES[2]
    previous = (0.0, 1.0)
    for t in (1, 5, 20, 100, 400):
        lo, hi = betting_interval(values[:t])
        assert previous[0] <= lo <= hi <= previous[1]
        previous = (lo, hi)
    lo, hi = betting_interval(values)
    rlo, rhi = betting_interval(1.0 - values)
    assert rlo == pytest.approx(1.0 - hi, abs=1e-9) and rhi == pytest.approx(1.0 - lo, abs=1e-9)
    slo, shi = betting_interval(3.0 * values - 2.0, bounds=(-2.0, 1.0))
    assert slo == pytest.approx(3.0 * lo - 2.0, abs=1e-9) and shi == pytest.approx(3.0 * hi - 2.0, abs=1e-9)
    assert slo <= 3.0 * lo - 2.0 + 1e-12  # rounding is outward, never inward beyond float noise


def test_degenerate_sequences():
    ones = np.ones(200)
    lo, hi = betting_interval(ones)
    assert hi == 1.0 and 0.5 < lo < 1.0
    assert _check_endpoints(ones, lo, hi, confidence=0.95, bounds=(0.0, 1.0), sided="two")
    lo, hi = betting_interval([0.5])
    assert (lo, hi) == (0.0, 1.0)  # one value can never exclude a mean at 95 %


def test_empty_running_intersection_reports_the_whole_bounds():
    """300 zeros then 300 ones are no i.i.d. sample: the early sequence sits near 0, the late one near 1,
    and their intersection is empty, which is reported as the uninformative (bounds[0], bounds[1])."""
    drift = np.r_[np.zeros(300), np.ones(300)]
    assert betting_interval(drift[:300])[1] < 0.05
    assert reference_excluded(drift, 0.05, confidence=0.95, bounds=(0.0, 1.0), sided="two")
    assert reference_excluded(drift, 0.95, confidence=0.95, bounds=(0.0, 1.0), sided="two")
    assert betting_interval(drift) == (0.0, 1.0)
    assert betting_interval(2.0 * drift - 1.0, bounds=(-1.0, 1.0)) == (-1.0, 1.0)


# --- decisions against a threshold ----------------------------------------------------------------------

@pytest.mark.parametrize("name,values,bounds", SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_decision_agrees_with_interval_and_first_time(name, values, bounds):
    a, b = bounds
    lo, hi = betting_interval(values, bounds=bounds)
    for tau in np.linspace(a, b, 23)[1:-1]:
        dec = betting_decision(values, tau, bounds=bounds)
        if hi < tau - 1e-9:
            assert dec.verdict == "below"
        elif lo > tau + 1e-9:
            assert dec.verdict == "above"
        elif lo + 1e-9 < tau < hi - 1e-9:
            assert dec.verdict == "undecided" and dec.decided_at is None
        if dec.decided_at is not None:
            t = dec.decided_at
            assert betting_decision(values[:t], tau, bounds=bounds).verdict == dec.verdict
            assert betting_decision(values[:t], tau, bounds=bounds).decided_at == t
            if t > 1:
                assert betting_decision(values[: t - 1], tau, bounds=bounds).verdict == "undecided"


def test_one_sided_decisions():
    _, values, _ = SEQUENCES[0]  # Bernoulli(0.3), 400 draws
    assert betting_decision(values, 0.6, sided="upper").verdict == "below"
    assert betting_decision(values, 0.1, sided="upper").verdict == "undecided"
    assert betting_decision(values, 0.1, sided="lower").verdict == "above"
    assert betting_decision(values, 0.6, sided="lower").verdict == "undecided"


# --- time-uniform coverage by simulation -----------------------------------------------------------------

FAIL_PROB = 1e-6  # probability that a correct method fails the coverage check below


def _draws(law: str, rng, size):
    if law.startswith("bernoulli-"):
        return (rng.random(size) < float(law.split("-")[1])).astype(float), (0.0, 1.0)
    if law == "three-point":
        return rng.choice([-1.0, 0.0, 1.0], size=size, p=[0.6, 0.1, 0.3]), (-1.0, 1.0)
    return rng.beta(0.3, 5.0, size=size), (0.0, 1.0)  # skewed Beta


TRUE_MEAN = {"bernoulli-0.01": 0.01, "bernoulli-0.3": 0.3, "bernoulli-0.5": 0.5, "three-point": -0.3,
             "beta": 0.3 / 5.3}
LAWS = list(TRUE_MEAN)


def _assert_miscoverage_at_most(misses: int, reps: int, alpha: float):
    """Fails with probability ≤ FAIL_PROB when the true miscoverage is ≤ α: the one-sided Clopper–Pearson
    lower bound at level 1 − FAIL_PROB on the miscoverage rate must not exceed α."""
    lower = clopper_pearson(misses, reps, confidence=1.0 - FAIL_PROB, sided="lower")[0]
    assert lower <= alpha, f"{misses}/{reps} miscovered, CP lower bound {lower:.4f} > α = {alpha}"


@pytest.mark.parametrize("law", LAWS)
def test_time_uniform_coverage(law):
    """2,000 sequences of 200 draws each; the reported interval after t = 200 is the running intersection
    over t ≤ 200, so it holds the true mean iff the mean was inside at every t."""
    reps, n, confidence = 2000, 200, 0.9
    rng = np.random.default_rng(1000 + LAWS.index(law))
    misses = 0
    for _ in range(reps):
        values, bounds = _draws(law, rng, n)
        lo, hi = betting_interval(values, confidence=confidence, bounds=bounds)
        misses += not lo <= TRUE_MEAN[law] <= hi
    _assert_miscoverage_at_most(misses, reps, 1.0 - confidence)


def test_one_sided_time_uniform_coverage():
    reps, n, confidence = 2000, 200, 0.9
    rng = np.random.default_rng(77)
    misses_lower = misses_upper = 0
    for _ in range(reps):
        values, _ = _draws("bernoulli-0.3", rng, n)
        misses_lower += betting_interval(values, confidence=confidence, sided="lower")[0] > 0.3
        misses_upper += betting_interval(values, confidence=confidence, sided="upper")[1] < 0.3
    _assert_miscoverage_at_most(misses_lower, reps, 1.0 - confidence)
    _assert_miscoverage_at_most(misses_upper, reps, 1.0 - confidence)


@pytest.mark.slow
@pytest.mark.parametrize("law", LAWS)
def test_time_uniform_coverage_long(law):
    """10⁴ sequences of 10⁴ draws: the true mean is in the running intersection at every t ≤ 10⁴ iff the
    capital at the true mean never reaches 1/α (checked against the interval on the first sequences)."""
    reps, n, confidence = 10_000, 10_000, 0.9
    rng = np.random.default_rng(5000 + LAWS.index(law))
    misses = 0
    for r in range(reps):
        values, bounds = _draws(law, rng, n)
        excluded = bool(np.any(capital(values, TRUE_MEAN[law], confidence=confidence, bounds=bounds)
                               >= 1.0 / (1.0 - confidence)))
        if r < 20:
            lo, hi = betting_interval(values, confidence=confidence, bounds=bounds)
            assert excluded == (not lo <= TRUE_MEAN[law] <= hi)
        misses += excluded
    _assert_miscoverage_at_most(misses, reps, 1.0 - confidence)


# --- width against the fixed-n Clopper–Pearson interval --------------------------------------------------

@pytest.mark.parametrize("n", [100, 1000])
def test_wider_than_fixed_n_clopper_pearson(n):
    """A sanity check on one seed (not a theorem: a running intersection can be narrower on some paths)."""
    values = (np.random.default_rng(0).random(n) < 0.5).astype(float)
    lo, hi = betting_interval(values, confidence=0.95)
    cp_lo, cp_hi = clopper_pearson(int(values.sum()), n, confidence=0.95)
    ratio = (hi - lo) / (cp_hi - cp_lo)
    assert math.isfinite(ratio) and ratio > 1.0


# --- user errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: betting_interval([]),
    lambda: betting_interval([0.2, 1.2]),
    lambda: betting_interval([0.2, -0.1]),
    lambda: betting_interval([0.2, float("nan")]),
    lambda: betting_interval([0.2, float("inf")]),
    lambda: betting_interval([[0.2, 0.3]]),
    lambda: betting_interval(["a"]),
    lambda: betting_interval([0.2], confidence=0.0),
    lambda: betting_interval([0.2], confidence=1.0),
    lambda: betting_interval([0.2], confidence=1.5),
    lambda: betting_interval([0.2], sided="both"),
    lambda: betting_interval([0.2], bounds=(1.0, 0.0)),
    lambda: betting_interval([0.2], bounds=(0.0, float("inf"))),
    lambda: betting_interval([0.2], bounds=(0.0,)),
    lambda: capital([0.2], 1.5),
    lambda: capital([0.2], [0.5, 0.6]),
    lambda: betting_decision([0.2], [0.5]),
    lambda: capital([0.2], 0.5, sided="up"),
    lambda: betting_decision([0.2], 1.0),
    lambda: betting_decision([0.2], -0.5, bounds=(-1.0, 1.0), confidence=2.0),
    lambda: betting_decision([], 0.5),
])
def test_user_errors(call):
    with pytest.raises(UserInputError):
        call()
