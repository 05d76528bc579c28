"""Verdicts for empirical claims: an interval against a criterion's region.

holds        the whole interval lies inside the region
fails        the whole interval lies outside it
inconclusive otherwise
not-measured (reason) when the quantity could not be measured here
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HOLDS = "holds"
FAILS = "fails"
INCONCLUSIVE = "inconclusive"


def not_measured(reason: str) -> str:
    return f"not-measured ({reason})"


@dataclass(frozen=True)
class Region:
    """An interval region [lo, hi] (either side may be infinite) that a claim asserts the value lies in."""

    lo: float = -math.inf
    hi: float = math.inf

    def describe(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        if math.isinf(self.lo):
            return f"value <= {self.hi:g}{u}"
        if math.isinf(self.hi):
            return f"value >= {self.lo:g}{u}"
        return f"{self.lo:g} <= value <= {self.hi:g}{u}"


def verdict(ci: tuple[float, float], region: Region) -> str:
    """holds / fails / inconclusive for a confidence interval `ci` against `region`."""
    lo, hi = float(ci[0]), float(ci[1])
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    if lo >= region.lo and hi <= region.hi:
        return HOLDS
    if hi < region.lo or lo > region.hi:
        return FAILS
    return INCONCLUSIVE
