"""`Estimate`: the one record shape for every measured quantity, in results, JSON and reports.

{estimate, ci: [lo, hi], confidence, coverage, n, unit} plus the method that produced the interval.
`confidence` is the nominal level asked for; `coverage` the level the method guarantees (for order
statistics it is 1 − 2^{1−K}, which differs from the nominal one), or None when equal to `confidence`.
JSON never holds NaN: missing numbers are written as null.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from theory.errors import InternalError


def _finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _nan_if_none(x: Any) -> float:
    return float("nan") if x is None else float(x)


def format_interval(value: float, ci: tuple[float, float], digits: int = 3) -> str:
    """`value [lo, hi]` with `digits` significant digits: format_interval(1.58, (0.0, 6.3245)) == "1.58 [0, 6.32]"."""
    return f"{value:.{digits}g} [{ci[0]:.{digits}g}, {ci[1]:.{digits}g}]"


@dataclass(frozen=True)
class Estimate:
    """A measured quantity with its confidence interval.

    estimate:   point estimate (NaN when undefined, e.g. no data)
    ci:         (lo, hi) interval; infinities allowed (an unbounded side)
    confidence: nominal confidence level of `ci` in (0, 1)
    coverage:   guaranteed coverage of `ci` when it differs from `confidence` (else None)
    n:          number of independent trials / directions / draws behind the interval
    unit:       what the numbers are in, e.g. "alpha per coordinate", "||dtheta||_2", "score"
    method:     how the interval was computed, e.g. "clopper-pearson", "order-statistics"
    """

    estimate: float
    ci: tuple[float, float]
    confidence: float
    n: int
    unit: str
    coverage: float | None = None
    method: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        lo, hi = (float(self.ci[0]), float(self.ci[1]))
        object.__setattr__(self, "ci", (lo, hi))
        object.__setattr__(self, "estimate", float(self.estimate))
        if not (math.isnan(lo) or math.isnan(hi)) and lo > hi:
            raise InternalError(f"Estimate ci must satisfy lo <= hi, got ({lo}, {hi})")
        if not 0.0 < self.confidence < 1.0:
            raise InternalError(f"Estimate confidence must lie in (0, 1), got {self.confidence}")

    @property
    def lo(self) -> float:
        return self.ci[0]

    @property
    def hi(self) -> float:
        return self.ci[1]

    def brief(self, digits: int = 3) -> str:
        """`estimate [lo, hi]` with `digits` significant digits, e.g. "1.58 [0, 6.32]" (for logs)."""
        return format_interval(self.estimate, self.ci, digits)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes None (null). Infinities are written as the strings "inf"/"-inf"."""

        def enc(x: float | None) -> Any:
            x = _finite_or_none(x)
            if x is not None and math.isinf(x):
                return "inf" if x > 0 else "-inf"
            return x

        d = asdict(self)
        d["estimate"] = enc(self.estimate)
        d["ci"] = [enc(self.ci[0]), enc(self.ci[1])]
        d["coverage"] = enc(self.coverage)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        def dec(x: Any) -> float:
            if isinstance(x, str):
                return float(x)
            return _nan_if_none(x)

        return cls(
            estimate=dec(d["estimate"]),
            ci=(dec(d["ci"][0]), dec(d["ci"][1])),
            confidence=float(d["confidence"]),
            n=int(d["n"]),
            unit=str(d["unit"]),
            coverage=None if d.get("coverage") is None else dec(d["coverage"]),
            method=str(d.get("method", "")),
            extra=dict(d.get("extra", {})),
        )


def ratio_estimate(num: Estimate, den: Estimate, unit: str = "ratio") -> Estimate:
    """num/den of two positive quantities, interval [num.lo/den.hi, num.hi/den.lo]: when both intervals
    hold, so does this one, so it holds with probability ≥ 1 − (1 − c_num) − (1 − c_den) (Bonferroni), c an
    interval's stated coverage where it has one (exact order-statistic intervals), else its confidence.
    A zero denominator end gives +inf (0 below), ∞/∞ is undefined (0 below, +inf above); the point estimate
    is num/den. The one ratio of intervals of the suite."""

    def div(a: float, b: float) -> float:
        if b == 0:
            return math.inf if a > 0 else math.nan
        if math.isinf(a) and math.isinf(b):
            return math.nan
        return a / b

    def held(e: Estimate) -> float:
        return e.coverage if e.coverage is not None else e.confidence

    lo, hi = div(num.lo, den.hi), div(num.hi, den.lo)
    lo = 0.0 if math.isnan(lo) else lo
    hi = math.inf if math.isnan(hi) else max(hi, lo)
    confidence = min(1.0 - 1e-12, max(1e-9, 1.0 - (1.0 - held(num)) - (1.0 - held(den))))
    return Estimate(estimate=div(num.estimate, den.estimate), ci=(lo, hi), confidence=confidence,
                    n=min(num.n, den.n), unit=unit, method="ratio of intervals, bonferroni over the two")
