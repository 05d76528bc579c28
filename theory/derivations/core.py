"""The checker: a derivation is a list of steps, each proved symbolically, checked numerically, or failed.

A step's verdict:
- "proved"               a sympy identity simplifies to 0, or a sign follows from sympy's assumptions or
                         from "value at the left end ≥ 0 and derivative ≥ 0" (checkable monotonicity);
- "checked numerically"  the symbolic route did not close, but the claim holds at seeded random points
                         (30-digit evaluation);
- "failed"               a sampled point violates the claim (or a Monte Carlo interval contradicts it).
A derivation is failed if any step failed, proved if every symbolic step is proved, otherwise checked
numerically. Monte Carlo steps can fail a derivation but never downgrade a proof.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

PROVED = "proved"
CHECKED = "checked numerically"
FAILED = "failed"
AGREES = "agrees"  # a Monte Carlo step that confirms the claim

SYMBOLIC = "symbolic"
MONTE_CARLO = "monte carlo"

Ranges = dict[sp.Symbol, tuple[float, float]]
N_POINTS = 24
DIGITS = 30


@dataclass(frozen=True)
class Step:
    """One checked statement: `expression` is the residual (identity) or the quantity shown ≥ 0."""

    statement: str
    expression: sp.Basic
    verdict: str
    kind: str = SYMBOLIC
    note: str = ""


@dataclass(frozen=True)
class Derivation:
    """A derivation (a)–(l): its claim in words, the derived expression, and the checked steps."""

    key: str
    title: str
    claim: str
    expression: sp.Basic
    steps: tuple[Step, ...]

    @property
    def verdict(self) -> str:
        if any(s.verdict == FAILED for s in self.steps):
            return FAILED
        if all(s.verdict == PROVED for s in self.steps if s.kind == SYMBOLIC):
            return PROVED
        return CHECKED


# --- normal CDF and quantile as sympy expressions ------------------------------------------------------


def Phi(z: sp.Expr) -> sp.Expr:
    """Standard normal CDF Φ(z) = (1 + erf(z/√2))/2."""
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


def Phi_inv(p: sp.Expr) -> sp.Expr:
    """Standard normal quantile Φ⁻¹(p) = √2 erfinv(2p − 1)."""
    return sp.sqrt(2) * sp.erfinv(2 * p - 1)


def phi(z: sp.Expr) -> sp.Expr:
    """Standard normal density φ(z)."""
    return sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)


# --- numeric fallback ----------------------------------------------------------------------------------


def _points(ranges: Ranges, seed: int) -> list[dict[sp.Symbol, sp.Float]]:
    rng = np.random.default_rng(seed)
    return [
        {sym: sp.Float(rng.uniform(lo, hi), DIGITS) for sym, (lo, hi) in ranges.items()} for _ in range(N_POINTS)
    ]


def _evaluate(expr: sp.Expr, point: dict[sp.Symbol, sp.Float]) -> float:
    value = sp.N(expr.subs(point), DIGITS)
    if not value.is_number or value.has(sp.zoo, sp.nan) or not value.is_real:
        return float("nan")
    return float(value)


def _simplifies_to_zero(expr: sp.Expr) -> bool:
    for candidate in (expr, expr.rewrite(sp.erf)):
        try:
            if sp.simplify(candidate) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError):
            continue
    return False


def identity(statement: str, lhs: sp.Expr, rhs: sp.Expr, ranges: Ranges, seed: int = 0) -> Step:
    """lhs = rhs: proved if lhs − rhs simplifies to 0, else checked/failed at seeded random points."""
    residual = sp.sympify(lhs - rhs)
    if isinstance(residual, sp.MatrixBase):  # a matrix identity: all entries vanish iff Σ entries² does
        residual = sum(e**2 for e in residual)
        lhs = sum(e**2 for e in sp.Matrix(lhs))
    if _simplifies_to_zero(residual):
        return Step(statement, sp.Eq(lhs, rhs), PROVED)
    values = [_evaluate(residual, pt) for pt in _points(ranges, seed)]
    scale = [abs(_evaluate(sp.sympify(lhs), pt)) + 1.0 for pt in _points(ranges, seed)]
    ok = all(np.isfinite(v) and abs(v) <= 1e-20 * s for v, s in zip(values, scale))
    worst = max((abs(v) for v in values if np.isfinite(v)), default=float("nan"))
    return Step(statement, sp.Eq(lhs, rhs), CHECKED if ok else FAILED, note=f"max |lhs − rhs| = {worst:.3g}")


def _sign_known_nonnegative(expr: sp.Expr) -> bool:
    for candidate in (expr, sp.simplify(expr), sp.factor(sp.simplify(expr))):
        if candidate.is_nonnegative:
            return True
    return False


def nonnegative(statement: str, expr: sp.Expr, ranges: Ranges, var: sp.Symbol | None = None,
                start: sp.Expr = sp.S.Zero, seed: int = 0) -> Step:
    """expr ≥ 0 on `ranges`: proved from sympy's assumptions, or (if `var` is given) from
    expr(var = start) ≥ 0 and ∂expr/∂var ≥ 0 for var ≥ start; else checked/failed at random points."""
    expr = sp.sympify(expr)
    proved = _sign_known_nonnegative(expr)
    if not proved and var is not None:
        proved = _sign_known_nonnegative(expr.subs(var, start)) and _sign_known_nonnegative(sp.diff(expr, var))
    if proved:
        return Step(statement, expr, PROVED)
    values = [_evaluate(expr, pt) for pt in _points(ranges, seed)]
    ok = all(np.isfinite(v) and v >= -1e-25 for v in values)
    worst = min((v for v in values if np.isfinite(v)), default=float("nan"))
    return Step(statement, expr, CHECKED if ok else FAILED, note=f"min over samples = {worst:.3g}")


def known_true(statement: str, relation: sp.Basic) -> Step:
    """A closed relation between numbers (no free symbols) that sympy decides."""
    value = sp.simplify(relation)
    if value is sp.true:
        return Step(statement, relation, PROVED)
    return Step(statement, relation, FAILED, note=f"sympy evaluates it to {value}")


def monte_carlo(statement: str, expression: sp.Basic, agrees: bool, note: str) -> Step:
    """A Monte Carlo confirmation: can fail a derivation, never proves one."""
    return Step(statement, expression, AGREES if agrees else FAILED, kind=MONTE_CARLO, note=note)


DerivationFn = Callable[..., Derivation]
