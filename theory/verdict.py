"""Verdicts for empirical claims: an interval against a criterion's region.

holds        the whole interval lies inside the region
fails        the whole interval lies outside it
inconclusive otherwise
not-measured (reason) when the quantity could not be measured here
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

HOLDS = "holds"
FAILS = "fails"
INCONCLUSIVE = "inconclusive"


NOT_MEASURED_PREFIX = "not-measured"
SEED_DEPENDENT = "inconclusive: seed-dependent"


def not_measured(reason: str) -> str:
    return f"not-measured ({reason})"


def is_measured(verdict_text: str) -> bool:
    """False for "not-measured (reason)"."""
    return not verdict_text.startswith(NOT_MEASURED_PREFIX)


def verdict_key(verdict_text: str) -> str:
    """holds / fails / inconclusive / not-measured: the verdict without its reason or qualifier."""
    return re.split(r"[ :(]", verdict_text, maxsplit=1)[0]


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


@dataclass(frozen=True)
class ClaimResult:
    """One row of the claims table: a paper claim, the criterion it is judged by, and what was measured.

    `value`/`ci` are in `unit`; `verdict` is holds / fails / inconclusive / not-measured (reason).
    `criterion` is human-readable (e.g. Region.describe()); `source` says which run produced the numbers.
    `kind` is "empirical claim" or "theorem check"; `entries` lists the per-entry and per-seed verdicts
    a multi-entry or multi-seed verdict was combined from (theory.claims.judge); `subject` the table row it
    belongs to ("toy models" or a named real model).
    """

    id: str
    claim: str
    criterion: str
    value: float | None
    ci: tuple[float, float] | None
    confidence: float | None
    unit: str
    n: int | None
    model: str
    source: str
    verdict: str
    kind: str = ""
    entries: tuple[str, ...] = ()
    subject: str = ""

    @classmethod
    def judged(cls, id: str, claim: str, region: Region, value: float, ci: tuple[float, float],
               confidence: float, unit: str, n: int, model: str, source: str) -> ClaimResult:
        """A measured claim whose verdict is the interval `ci` judged against `region`."""
        return cls(id=id, claim=claim, criterion=region.describe(unit), value=float(value),
                   ci=(float(ci[0]), float(ci[1])), confidence=confidence, unit=unit, n=n, model=model,
                   source=source, verdict=verdict(ci, region))

    @classmethod
    def unmeasured(cls, id: str, claim: str, criterion: str, reason: str, model: str = "",
                   source: str = "") -> ClaimResult:
        return cls(id=id, claim=claim, criterion=criterion, value=None, ci=None, confidence=None, unit="",
                   n=None, model=model, source=source, verdict=not_measured(reason))

    def to_dict(self) -> dict:
        def enc(x):
            if x is None or (isinstance(x, float) and math.isnan(x)):
                return None
            if isinstance(x, float) and math.isinf(x):
                return "inf" if x > 0 else "-inf"
            return x

        return {"id": self.id, "claim": self.claim, "criterion": self.criterion, "value": enc(self.value),
                "ci": None if self.ci is None else [enc(self.ci[0]), enc(self.ci[1])],
                "confidence": self.confidence, "unit": self.unit, "n": self.n, "model": self.model,
                "source": self.source, "verdict": self.verdict, "kind": self.kind, "entries": list(self.entries),
                "subject": self.subject}

    @classmethod
    def from_dict(cls, d: dict, default_claim: str = "") -> ClaimResult:
        """The row back from its to_dict() form ("inf"/"-inf" strings and nulls decoded); `default_claim`
        fills a missing "claim" text."""

        def num(x):
            return None if x is None else float(x)

        ci = d.get("ci")
        return cls(id=str(d["id"]), claim=str(d.get("claim", default_claim)),
                   criterion=str(d.get("criterion", "")), value=num(d.get("value")),
                   ci=None if ci is None else (num(ci[0]), num(ci[1])),
                   confidence=num(d.get("confidence")), unit=str(d.get("unit", "")),
                   n=None if d.get("n") is None else int(d["n"]), model=str(d.get("model", "")),
                   source=str(d.get("source", "")), verdict=str(d["verdict"]), kind=str(d.get("kind", "")),
                   entries=tuple(str(e) for e in d.get("entries", ())), subject=str(d.get("subject", "")))
