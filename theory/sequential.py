"""Anytime-valid confidence sequences for a bounded mean, by betting (hedged capital, predictable plug-in).

Waudby-Smith & Ramdas, "Estimating means of bounded random variables by betting", JRSS-B 2024
(arXiv 2010.09686), the hedged-capital confidence sequence (Section 4) with predictable plug-in bets;
the formulas were checked against the authors' code, github.com/gostevehoward/confseq,
`src/confseq/betting.py` (`betting_mart`, `hedged_cs`) and `src/confseq/betting_strategies.py`
(`lambda_predmix_eb`).

Values x_1, x_2, … are i.i.d. in `bounds` = (a, b) with mean μ; everything is computed on the [0, 1] scale
y_i = (x_i − a)/(b − a), with a candidate mean m on the same scale, and mapped back. α = 1 − confidence.

Predictable plug-in bet (depends on y_1..y_{t−1} only):
    μ̂_t = (1/2 + Σ_{i≤t} y_i)/(t + 1),   σ̂²_t = (1/4 + Σ_{i≤t} (y_i − μ̂_i)²)/(t + 1),   σ̂²_0 = 1/4,
    λ_t = √(2 log(k/α) / (σ̂²_{t−1} t log(t + 1))),
with k = 2 for the two-sided sequence (the paper's choice) and k = 1 for a one-sided one.
Capital processes for the null "mean = m", with truncation c = 1/2:
    K⁺_t(m) = Π_{i≤t} (1 + min(λ_i, c/m) (y_i − m)),   K⁻_t(m) = Π_{i≤t} (1 − min(λ_i, c/(1 − m)) (y_i − m)).
Each factor is ≥ 1 − c > 0, and under mean m both are nonnegative martingales starting at 1. Hedged
(θ = 1/2): K_t(m) = max(θ K⁺_t(m), (1 − θ) K⁻_t(m)) ≤ θ K⁺ + (1 − θ) K⁻, itself such a martingale, so by
Ville's inequality P(∃ t: K_t(μ) ≥ 1/α) ≤ α: the sets C_t = {m : K_t(m) < 1/α} cover μ at every t at once
with probability ≥ 1 − α, and so does their running intersection ∩_{s≤t} C_s, which is what is reported.

Two-sided: K_t(m) < 1/α ⇔ K⁺_t(m) < 2/α and K⁻_t(m) < 2/α. One-sided lower bound ("lower"): only K⁺ at
level α, {m : K⁺_t(m) < 1/α} — K⁺ alone is a test martingale, so Ville gives coverage 1 − α, and it rejects
only means that are too low (a lower bound). "upper" mirrors it with K⁻. Each factor of K⁺ is nonincreasing
in m (1 + λ(y − m) for m ≤ c/λ, 1 − c + c y/m beyond), so max_{s≤t} K⁺_s(m) is nonincreasing and the running
intersection of the lower sides is exactly {m > lo} with lo = inf{m : max_{s≤t} K⁺_s(m) < k/α}; likewise
K⁻ is nondecreasing and gives hi. The endpoints are found by bisection (33-point sections, vectorised over
the section points) on these monotone maxima to a resolution of 1e-12 on the [0, 1] scale, and rounded
outward: lo is the last point found excluded, hi likewise, then one float step outward in the user's units.

Measured (numpy default_rng(seed), two-sided 95 %): width ÷ the fixed-n two-sided Clopper–Pearson width
at the same level on Bernoulli(p) data, median over seeds 0–99 (seed 0 in brackets): p = 0.5: 1.51 (1.51)
at n = 100, 2.03 (2.07) at n = 1000; p = 0.1: 1.32 / 1.71; p = 0.01: 1.53 / 1.44 — the price of validity
at every t at once. It is not a theorem that the ratio exceeds 1: a running intersection whose path
wandered can be narrower (0.35 was seen once in those 600 runs). One call takes ≈ 1.2 ms on 100 values,
≈ 6 ms on 1,000 and ≈ 0.1 s on 10,000 (one CPU core); `capital` and `betting_decision` are O(n), < 1 ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory.errors import UserInputError
from theory.stats import checked_side, error_level
from theory.validation import as_float_array

_TRUNCATION = 0.5  # c: a bet never risks more than this fraction of the capital
_HEDGE_WEIGHT = 0.5  # θ: weight of K⁺ in the hedged process
_PRIOR_MEAN = 0.5  # the one fake observation regularising μ̂ and σ̂²
_PRIOR_VARIANCE = 0.25
_RESOLUTION = 1e-12  # bisection stops when the bracket of an endpoint is this narrow ([0, 1] scale)
_SECTIONS = 33  # points evaluated per bisection step


def _bounds(bounds) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"bounds must be two numbers (lo, hi), got {bounds!r}") from exc
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise UserInputError(f"bounds must be finite with lo < hi, got {bounds!r}")
    return a, b


def _unit_values(values, a: float, b: float) -> np.ndarray:
    """`values` (1-D, non-empty, inside [a, b]) mapped to [0, 1]."""
    x = as_float_array(values, "values")
    if x.ndim != 1:
        raise UserInputError(f"values must be a 1-D sequence in time order, got shape {x.shape}")
    if x.size == 0:
        raise UserInputError("values must hold at least one number")
    outside = (x < a) | (x > b)
    if outside.any():
        raise UserInputError(f"values must lie in bounds [{a:g}, {b:g}], got {float(x[outside][0])!r}")
    return np.clip((x - a) / (b - a), 0.0, 1.0)


def _bets(y: np.ndarray, alpha_side: float) -> np.ndarray:
    """Predictable plug-in bets λ_t = √(2 log(1/α_side) / (σ̂²_{t−1} t log(t+1))), t = 1..n (untruncated).

    α_side = α/2 for the two-sided sequence (log(2/α)), α for a one-sided one; y on [0, 1].
    """
    t = np.arange(1, y.size + 1, dtype=np.float64)
    mu_hat = (_PRIOR_MEAN + np.cumsum(y)) / (t + 1.0)
    sigma2_hat = (_PRIOR_VARIANCE + np.cumsum((y - mu_hat) ** 2)) / (t + 1.0)
    sigma2_before = np.concatenate(([_PRIOR_VARIANCE], sigma2_hat[:-1]))
    return np.sqrt(2.0 * math.log(1.0 / alpha_side) / (sigma2_before * t * np.log1p(t)))


def _log_capital_plus(y: np.ndarray, bets: np.ndarray, m: np.ndarray) -> np.ndarray:
    """log K⁺_t(m) for every candidate m (rows) and time t (columns), y and m on [0, 1]."""
    m = np.asarray(m, dtype=np.float64)[:, None]
    with np.errstate(divide="ignore"):
        lam = np.minimum(bets[None, :], _TRUNCATION / m)
    return np.cumsum(np.log1p(lam * (y[None, :] - m)), axis=1)


def _lower_end(y: np.ndarray, bets: np.ndarray, log_threshold: float) -> float:
    """inf{m ∈ [0, 1] : max_t K⁺_t(m) < e^log_threshold}, rounded down to the resolution.

    max_t log K⁺_t(m) is nonincreasing in m, ≥ 0 everywhere and ≤ 0 at m = 1 (every factor ≤ 1 there).
    """
    def excluded(m: np.ndarray) -> np.ndarray:
        return _log_capital_plus(y, bets, m).max(axis=1) >= log_threshold

    if not excluded(np.zeros(1))[0]:
        return 0.0
    lo, hi = 0.0, 1.0  # lo excluded, hi included
    while hi - lo > _RESOLUTION:
        points = lo + (hi - lo) * np.arange(1, _SECTIONS + 1) / (_SECTIONS + 1)
        out = excluded(points)
        first_in = int(np.argmin(out)) if not out.all() else _SECTIONS
        new_lo = points[first_in - 1] if first_in > 0 else lo
        new_hi = points[first_in] if first_in < _SECTIONS else hi
        if (new_lo, new_hi) == (lo, hi):  # float resolution reached
            break
        lo, hi = new_lo, new_hi
    return float(lo)


def _scalar(value, name: str) -> float:
    arr = as_float_array(value, name)
    if arr.ndim != 0:
        raise UserInputError(f"{name} must be a single number, got shape {arr.shape}")
    return float(arr)


def _prepare(values, confidence, bounds, sided):
    g = error_level(confidence)
    side = checked_side(sided)
    a, b = _bounds(bounds)
    y = _unit_values(values, a, b)
    alpha_side = g / 2.0 if side == "two" else g
    return y, a, b, side, alpha_side


def betting_interval(values, *, confidence: float = 0.95, bounds=(0.0, 1.0), sided: str = "two"):
    """Anytime-valid (lo, hi) for the mean of i.i.d. `values` in `bounds`, after the last value.

    The running intersection over t of the hedged-capital confidence sequence (module docstring): with
    probability ≥ `confidence` the true mean lies in the reported interval at every t simultaneously, so
    the interval may be checked after each new value and sampling stopped whenever it decides. The result
    depends on the order of `values` (the bets are predictable). "lower" spends all of α = 1 − confidence
    on the lower end and returns (lo, bounds[1]); "upper" returns (bounds[0], hi). In the units of `bounds`;
    endpoints are exact to 1e-12 (b − a) and rounded outward. If the running intersection is empty (an
    event of probability ≤ α, or evidence that the values are not i.i.d.), the whole `bounds` are returned.
    """
    y, a, b, side, alpha_side = _prepare(values, confidence, bounds, sided)
    bets = _bets(y, alpha_side)
    log_threshold = math.log(1.0 / alpha_side)
    lo01 = _lower_end(y, bets, log_threshold) if side != "upper" else 0.0
    hi01 = 1.0 - _lower_end(1.0 - y, bets, log_threshold) if side != "lower" else 1.0
    if lo01 > hi01:
        return a, b
    lo = a if lo01 == 0.0 else max(a, float(np.nextafter(a + (b - a) * lo01, -np.inf)))
    hi = b if hi01 == 1.0 else min(b, float(np.nextafter(a + (b - a) * hi01, np.inf)))
    return lo, hi


def capital(values, m: float, *, confidence: float = 0.95, bounds=(0.0, 1.0), sided: str = "two"):
    """The capital path K_t(m), t = 1..n, against the null "mean = m" (m in the units of `bounds`).

    "two": the hedged max(θ K⁺_t, (1 − θ) K⁻_t), compared with 1/α; "lower": K⁺_t alone, "upper": K⁻_t
    alone, each compared with 1/α. m is excluded at time t from the sequence iff K_s(m) ≥ 1/α for some
    s ≤ t. Overflow gives inf (a certain exclusion).
    """
    y, a, b, side, alpha_side = _prepare(values, confidence, bounds, sided)
    mm = _scalar(m, "m")
    if not a <= mm <= b:
        raise UserInputError(f"m must lie in bounds [{a:g}, {b:g}], got {m!r}")
    m01 = min(1.0, max(0.0, (mm - a) / (b - a)))
    bets = _bets(y, alpha_side)
    log_plus = _log_capital_plus(y, bets, np.array([m01]))[0]
    log_minus = _log_capital_plus(1.0 - y, bets, np.array([1.0 - m01]))[0]
    if side == "lower":
        log_k = log_plus
    elif side == "upper":
        log_k = log_minus
    else:
        log_k = np.maximum(math.log(_HEDGE_WEIGHT) + log_plus, math.log(1.0 - _HEDGE_WEIGHT) + log_minus)
    with np.errstate(over="ignore"):
        return np.exp(log_k)


@dataclass(frozen=True)
class BettingDecision:
    """Where the confidence sequence of `values` stands against a threshold τ.

    verdict:    "below" (every mean ≥ τ excluded), "above" (every mean ≤ τ excluded) or "undecided"
    decided_at: the first t (1-based) at which that became true — the sequence stays decided afterwards —
                or None when undecided
    n:          number of values seen
    """

    verdict: str
    decided_at: int | None
    n: int


def betting_decision(values, threshold: float, *, confidence: float = 0.95, bounds=(0.0, 1.0),
                     sided: str = "two") -> BettingDecision:
    """Whether the anytime-valid sequence lies entirely below or above `threshold` (units of `bounds`).

    Exact, from the capital at τ: "below" iff K⁻_t(τ) ≥ k/α at some t (K⁻ is nondecreasing in m, so every
    m ≥ τ is then excluded); "above" iff K⁺_t(τ) ≥ k/α (every m ≤ τ excluded); k = 2 two-sided, 1
    one-sided. With sided="upper" only "below" can be reached ("certify mean < τ" at level α), with
    "lower" only "above". Both at once is reported "undecided". The verdict reads the capital at τ only:
    if the running intersection became empty elsewhere (probability ≤ α; `betting_interval` then returns
    the whole bounds) a verdict may still be given. A threshold on or outside the bounds is a user error
    (the answer would be known without data).
    """
    y, a, b, side, alpha_side = _prepare(values, confidence, bounds, sided)
    tau = _scalar(threshold, "threshold")
    if not a < tau < b:
        raise UserInputError(f"threshold must lie strictly inside bounds ({a:g}, {b:g}), got {threshold!r}")
    t01 = (tau - a) / (b - a)
    bets = _bets(y, alpha_side)
    log_threshold = math.log(1.0 / alpha_side)

    def first_crossing(path: np.ndarray) -> int | None:
        hit = np.flatnonzero(path >= log_threshold)
        return int(hit[0]) + 1 if hit.size else None

    above = first_crossing(_log_capital_plus(y, bets, np.array([t01]))[0]) if side != "upper" else None
    below = first_crossing(_log_capital_plus(1.0 - y, bets, np.array([1.0 - t01]))[0]) \
        if side != "lower" else None
    if (above is None) == (below is None):
        return BettingDecision("undecided", None, int(y.size))
    return BettingDecision("above", above, int(y.size)) if above is not None \
        else BettingDecision("below", below, int(y.size))
