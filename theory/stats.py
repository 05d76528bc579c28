"""Confidence intervals used by every estimator: Clopper–Pearson, Hoeffding, order statistics.

`confidence` is the nominal level 1 − γ. `sided` ∈ {"two", "lower", "upper"}: "lower" gives a one-sided
lower bound (upper end 1), "upper" a one-sided upper bound (lower end 0).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
from scipy.special import betaincinv
from scipy.stats import binom

from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.validation import as_float_array, require_range, scalar_or_array

SIDES = ("two", "lower", "upper")


def error_level(confidence: float) -> float:
    """γ = 1 − confidence, computed in decimal so that 0.99 gives exactly the float 0.01."""
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise UserInputError(f"confidence must lie in (0, 1), got {confidence!r}")
    return float(Decimal(1) - Decimal(repr(c)))


def checked_side(sided: str) -> str:
    if sided not in SIDES:
        raise UserInputError(f"sided must be one of {SIDES}, got {sided!r}")
    return sided


def _counts(successes: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(successes, "successes")
    m = as_float_array(n, "n")
    require_range(m, "n", 1, np.inf, hi_open=True)
    x, m = np.broadcast_arrays(x, m)
    if np.any(x != np.round(x)) or np.any(m != np.round(m)):
        raise UserInputError("successes and n must be whole numbers")
    if np.any((x < 0) | (x > m)):
        raise UserInputError("successes must lie in [0, n]")
    return x, m


def clopper_pearson(successes, n, confidence: float = 0.99, sided: str = "two"):
    """Exact binomial interval (lo, hi) for a success probability from `successes` out of `n` trials.

    γ = 1 − confidence. Two-sided: lo = B⁻¹(γ/2; x, n−x+1) (0 if x = 0), hi = B⁻¹(1−γ/2; x+1, n−x)
    (1 if x = n). "lower": lo uses quantile γ, hi = 1. "upper": hi uses 1 − γ, lo = 0.
    At x = n the lower end is the closed form (γ/2)^(1/n) (γ^(1/n) one-sided); at x = 0 the upper end is
    1 − (γ/2)^(1/n). Coverage ≥ confidence for every true p. Arrays broadcast; scalars give floats.
    """
    g = error_level(confidence)
    side = checked_side(sided)
    x, m = _counts(successes, n)
    q_lo = g / 2 if side == "two" else g
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(x == m, np.power(q_lo, 1.0 / m), betaincinv(x, m - x + 1, q_lo))
        hi = np.where(x == 0, 1.0 - np.power(q_lo, 1.0 / m), betaincinv(x + 1, m - x, 1.0 - q_lo))
    lo = np.where(x == 0, 0.0, lo)
    hi = np.where(x == m, 1.0, hi)
    if side == "lower":
        hi = np.ones_like(hi)
    elif side == "upper":
        lo = np.zeros_like(lo)
    return scalar_or_array(lo), scalar_or_array(hi)


def proportion_estimate(successes: int, n: int, confidence: float = 0.99, sided: str = "two",
                        unit: str = "score") -> Estimate:
    """The fraction successes/n as an `Estimate` with its Clopper–Pearson interval."""
    lo, hi = clopper_pearson(successes, n, confidence, sided)
    return Estimate(estimate=successes / n, ci=(lo, hi), confidence=confidence, n=int(n), unit=unit,
                    method=f"clopper-pearson ({sided}-sided)")


def n_all_success_needed(p_lower: float, confidence: float = 0.99, sided: str = "two") -> int:
    """Smallest n such that n successes out of n give a Clopper–Pearson lower end ≥ p_lower.

    Closed form: (γ/2)^(1/n) ≥ p (two-sided) or γ^(1/n) ≥ p (one-sided), i.e. n ≥ log(q)/log(p).
    Example: p_lower = 0.9 at confidence 0.99 → 51 two-sided, 44 one-sided.
    """
    side = checked_side(sided)
    if side == "upper":
        raise UserInputError("sided must be 'two' or 'lower' for a lower bound on a success rate")
    p = float(require_range(as_float_array(p_lower, "p_lower"), "p_lower", 0.0, 1.0, True, True))
    g = error_level(confidence)
    q = g / 2 if side == "two" else g
    n = max(1, math.ceil(math.log(q) / math.log(p)))
    while n > 1 and clopper_pearson(n - 1, n - 1, confidence, side)[0] >= p:
        n -= 1
    while clopper_pearson(n, n, confidence, side)[0] < p:
        n += 1
    return n


def hoeffding_radius(n, confidence: float = 0.99, sided: str = "two"):
    """Half-width t of the Hoeffding interval for the mean of n independent [0,1] variables:
    t = √(log(2/γ)/(2n)) two-sided, √(log(1/γ)/(2n)) one-sided."""
    g = error_level(confidence)
    side = checked_side(sided)
    m = require_range(as_float_array(n, "n"), "n", 1, np.inf, hi_open=True)
    k = 2.0 if side == "two" else 1.0
    return scalar_or_array(np.sqrt(np.log(k / g) / (2.0 * m)))


def hoeffding_interval(mean, n, confidence: float = 0.99, sided: str = "two"):
    """(lo, hi) for the expectation of [0,1] variables from their sample `mean` over n draws (Hoeffding),
    clipped to [0, 1]; "lower"/"upper" give one-sided bounds."""
    side = checked_side(sided)
    mu = require_range(as_float_array(mean, "mean"), "mean", 0.0, 1.0)
    t = hoeffding_radius(n, confidence, side)
    lo = np.maximum(0.0, mu - t) if side != "upper" else np.zeros_like(mu)
    hi = np.minimum(1.0, mu + t) if side != "lower" else np.ones_like(mu)
    return scalar_or_array(lo), scalar_or_array(hi)


def hoeffding_n_needed(radius: float, confidence: float = 0.99, sided: str = "two") -> int:
    """Smallest n whose Hoeffding half-width is ≤ `radius`: n = ⌈log(k/γ)/(2 radius²)⌉, k = 2 two-sided."""
    g = error_level(confidence)
    side = checked_side(sided)
    t = float(require_range(as_float_array(radius, "radius"), "radius", 0.0, 1.0, lo_open=True))
    k = 2.0 if side == "two" else 1.0
    return max(1, math.ceil(math.log(k / g) / (2.0 * t * t)))


# --- distribution-free median interval ----------------------------------------------------------------


def median_order_statistic_coverage(K: int, k: int) -> float:
    """Exact coverage of [X_(k), X_(K+1−k)] (1-based order statistics of K i.i.d. continuous values) for
    the population median: 1 − 2 P(Bin(K, ½) ≤ k − 1). For k = 1 ([min, max]) it is 1 − 2^(1−K)."""
    if not (isinstance(K, int | np.integer) and K >= 1):
        raise UserInputError(f"K must be an integer >= 1, got {K!r}")
    if not (isinstance(k, int | np.integer) and 1 <= k <= (K + 1) // 2):
        raise UserInputError(f"k must be an integer in [1, {(K + 1) // 2}], got {k!r}")
    return float(1.0 - 2.0 * binom.cdf(k - 1, K, 0.5))


def median_order_statistic_rank(K: int, confidence: float) -> int:
    """The largest k (tightest symmetric pair [X_(k), X_(K+1−k)]) whose coverage is ≥ confidence;
    k = 1 ([min, max]) when even that falls short (check `median_order_statistic_coverage`)."""
    error_level(confidence)
    best = 1
    for k in range(1, (K + 1) // 2 + 1):
        if median_order_statistic_coverage(K, k) >= confidence:
            best = k
        else:
            break
    return best


def median_interval(values, confidence: float = 0.95, unit: str = "") -> Estimate:
    """Distribution-free interval for the median of the distribution K values were drawn from.

    Returns an `Estimate`: estimate = sample median, ci = [X_(k), X_(K+1−k)] for the tightest k reaching
    `confidence`, coverage = its exact coverage (which may fall short of `confidence` when K is small:
    [min, max] covers with 1 − 2^(1−K), e.g. 0.875 for K = 4). Infinite values (an edge beyond the grid)
    are allowed; NaN is not.
    """
    v = np.sort(np.ravel(as_float_array(values, "values")))
    K = int(v.size)
    if K == 0:
        raise UserInputError("values must hold at least one number")
    k = median_order_statistic_rank(K, confidence)
    coverage = median_order_statistic_coverage(K, k)
    with np.errstate(invalid="ignore"):
        med = float(v[K // 2] if K % 2 else 0.5 * (v[K // 2 - 1] + v[K // 2]))
    return Estimate(estimate=med, ci=(float(v[k - 1]), float(v[K - k])), confidence=confidence, n=K,
                    unit=unit, coverage=coverage, method="order-statistics")


# --- median of means (unbounded variables with a known variance) ---------------------------------------


def median_of_means_blocks(fail_prob: float) -> int:
    """Blocks B = ⌈8 log(1/fail_prob)⌉: each block mean is within its radius w.p. ≥ ¾ (Chebyshev), and the
    median fails only if half the blocks do, w.p. ≤ exp(−2B(¼)²) = exp(−B/8) ≤ fail_prob (Hoeffding)."""
    f = float(require_range(as_float_array(fail_prob, "fail_prob"), "fail_prob", 0.0, 1.0, True, True))
    return math.ceil(8.0 * math.log(1.0 / f))


def median_of_means(values, fail_prob: float, variance: float) -> tuple[float, float]:
    """(estimate, radius): the median of B block means of i.i.d. `values` with known `variance`; with
    probability ≥ 1 − fail_prob the true mean lies within radius = 2 √(variance / block size)."""
    v = np.ravel(as_float_array(values, "values"))
    B = median_of_means_blocks(fail_prob)
    m = v.size // B
    if m < 1:
        raise UserInputError(f"values must hold at least {B} numbers for fail_prob={fail_prob}")
    means = v[: B * m].reshape(B, m).mean(axis=1)
    var = float(require_range(as_float_array(variance, "variance"), "variance", 0.0, np.inf, hi_open=True))
    return float(np.median(means)), 2.0 * math.sqrt(var / m)
