"""Statistics the claims' criteria use (closed forms; no models).

Transition ratio. For a curve that loses the fraction f(α/a) of its drop to chance at α (f increasing,
f(0) = 0, f(∞) = 1), α_p solves f(α_p/a) = p and R = α₀.₉/α₀.₁ is free of the scale a:
  quadratic onset f = min(u², 1):    α_p = a√p          R = √(0.9/0.1) = 3
  Gaussian bowl  f = 1 − exp(−u²):   α_p = a√(ln(1/(1−p)))  R = √(ln 10 / ln(10/9)) ≈ 4.67
  ramp           f = min(u, 1):      α_p = a p          R = 9
  cliff          f = 1{u ≥ 1}:                          R → 1
(derived and checked symbolically in theory.derivations.transition).

Prediction interval. For K i.i.d. continuous values and one more draw X from the same law,
P(X₍₁₎ ≤ X ≤ X₍K₎) = (K − 1)/(K + 1): ≥ 0.95 iff K ≥ 39.

Slope of log y on log x. The least-squares slope b = Σ wᵢ log yᵢ with wᵢ = (ξᵢ − ξ̄)/Σ(ξⱼ − ξ̄)², ξ = log x,
is linear in the log yᵢ; when every yᵢ lies in [loᵢ, hiᵢ] (simultaneous level ≥ 1 − Σ(1 − cᵢ), union
bound), b lies in [Σ wᵢ log(wᵢ > 0 ? loᵢ : hiᵢ), Σ wᵢ log(wᵢ > 0 ? hiᵢ : loᵢ)].

Sign test. For K i.i.d. continuous values with median μ, #{Xᵢ ≤ c} ~ Bin(K, P(X ≤ c)); under H₀: μ ≤ c,
P(X ≤ c) ≥ ½, so p = P(Bin(K, ½) ≤ #{Xᵢ ≤ c}) is a valid p-value of "μ > c".

Paired difference. Two models scored on the same n i.i.d. examples give per-example outcomes aᵢ, bᵢ in
[0, 1]; dᵢ = aᵢ − bᵢ in [−1, 1] are i.i.d. with mean E a − E b, and the variance that comes from which
example was drawn cancels in dᵢ. The interval is the betting confidence sequence's (theory.sequential) on
the dᵢ in example order, whose width follows their variance (small when the two models agree on most
examples) rather than their range.

Equivalence (TOST). "|E a − E b| < δ" is shown at level α when both one-sided nulls, E d ≤ −δ and
E d ≥ δ, are rejected at level α: exactly when the two-sided (1 − 2α) interval of E d lies inside (−δ, δ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.sequential import betting_interval

R_QUADRATIC = 3.0
R_GAUSSIAN = math.sqrt(math.log(10.0) / math.log(10.0 / 9.0))
R_RAMP = 9.0
PREDICTION_K_MIN = 39  # (K − 1)/(K + 1) ≥ 0.95


def prediction_coverage(k: int) -> float:
    """P(X₍₁₎ ≤ X ≤ X₍K₎) for a fresh draw X: (K − 1)/(K + 1)."""
    if k < 2:
        raise UserInputError(f"a prediction interval needs K >= 2 values, got {k}")
    return (k - 1) / (k + 1)


def sign_test_p_above(values: Sequence[float], c: float) -> float:
    """p-value of "the median exceeds c" (H₀: median ≤ c): P(Bin(K, ½) ≤ #{xᵢ ≤ c})."""
    if not values:
        raise UserInputError("the sign test needs at least one value")
    at_most = sum(1 for v in values if v <= c)
    return float(binom.cdf(at_most, len(values), 0.5))


def log_slope(x: Sequence[float], y: Sequence[Estimate], unit: str = "slope of log y vs log x") -> Estimate:
    """The least-squares slope of log y on log x with the interval of the module doc; a non-positive or
    infinite interval end gives an unbounded side."""
    if len(x) != len(y) or len(set(x)) < 2:
        raise UserInputError(f"a slope needs >= 2 distinct x values with one y each, got x={list(x)}")
    xi = [math.log(v) for v in x]
    mean = sum(xi) / len(xi)
    sxx = sum((v - mean) ** 2 for v in xi)
    w = [(v - mean) / sxx for v in xi]

    def log_or_inf(v: float) -> float:
        return math.log(v) if v > 0 and math.isfinite(v) else (math.inf if v > 0 else -math.inf)

    est = sum(wi * log_or_inf(e.estimate) for wi, e in zip(w, y))
    lo = sum(wi * log_or_inf(e.lo if wi > 0 else e.hi) for wi, e in zip(w, y))
    hi = sum(wi * log_or_inf(e.hi if wi > 0 else e.lo) for wi, e in zip(w, y))
    levels = [e.coverage if e.coverage is not None else e.confidence for e in y]
    conf = max(1e-9, 1.0 - sum(1.0 - c for c in levels))
    lo = -math.inf if math.isnan(lo) else lo
    hi = math.inf if math.isnan(hi) else hi
    return Estimate(est if math.isfinite(est) else math.nan, (lo, max(lo, hi)), min(conf, 1 - 1e-12), len(y),
                    unit, method="least-squares slope, intervals combined by the union bound")


def paired_mean(d: Sequence[float], bounds: tuple[float, float], confidence: float = 0.95,
                unit: str = "paired difference") -> Estimate:
    """Mean of i.i.d. per-example paired differences d in `bounds`, two-sided (module doc)."""
    x = np.asarray(d, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise UserInputError(f"paired differences need a non-empty 1-D sequence, got shape {x.shape}")
    if ((x < bounds[0]) | (x > bounds[1])).any():
        raise UserInputError(f"paired differences must lie in {bounds}")
    lo, hi = betting_interval(x, confidence=confidence, bounds=bounds)
    return Estimate(float(x.mean()), (lo, hi), confidence, int(x.size), unit,
                    method="paired per-example differences, betting confidence sequence",
                    extra={"discordant": int(np.count_nonzero(x))})


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95,
                      unit: str = "score difference") -> Estimate:
    """E a − E b from per-example outcomes a, b in [0, 1] on the same examples (module doc), two-sided."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size == 0:
        raise UserInputError(f"paired outcomes need two equal, non-empty 1-D sequences, got {x.shape} and {y.shape}")
    if ((x < 0) | (x > 1) | (y < 0) | (y > 1)).any():
        raise UserInputError("paired outcomes must lie in [0, 1]")
    est = paired_mean(x - y, (-1.0, 1.0), confidence, unit)
    est.extra.update(mean_a=float(x.mean()), mean_b=float(y.mean()))
    return est


@dataclass(frozen=True)
class EquivalenceGate:
    """The paired TOST of |E a − E b| < margin at level alpha (module doc): `difference` is the two-sided
    (1 − 2 alpha) interval of E a − E b; passed iff it lies inside (−margin, margin) and the examples number at
    least `min_examples` (the pre-registered set size)."""

    difference: Estimate
    margin: float
    alpha: float
    passed: bool
    min_examples: int = 1

    def describe(self) -> str:
        inside = -self.margin < self.difference.lo and self.difference.hi < self.margin
        text = (f"clean-score difference {self.difference.brief()} on {self.difference.n} examples "
                f"({1 - 2 * self.alpha:.0%} interval) {'inside' if inside else 'not inside'} +-{self.margin:.3g}")
        if self.difference.n < self.min_examples:
            text += f"; fewer than the {self.min_examples} examples the gate needs"
        return text

    def to_dict(self) -> dict:
        return {"difference": self.difference.to_dict(), "margin": self.margin, "alpha": self.alpha,
                "passed": self.passed, "min_examples": self.min_examples, "text": self.describe()}


def equivalence_gate(a: Sequence[float], b: Sequence[float], margin: float, alpha: float = 0.05,
                     min_examples: int = 1) -> EquivalenceGate:
    """Paired TOST on per-example outcomes of two models: is |E a − E b| < margin shown at level alpha, on at
    least `min_examples` examples?"""
    if not margin > 0 or not 0 < alpha < 0.5:
        raise UserInputError(f"the equivalence gate needs margin > 0 and alpha in (0, 0.5), got {margin}, {alpha}")
    diff = paired_difference(a, b, 1.0 - 2.0 * alpha)
    passed = bool(-margin < diff.lo and diff.hi < margin and diff.n >= min_examples)
    return EquivalenceGate(diff, float(margin), float(alpha), passed, int(min_examples))
