"""Derivation (m): the transition ratio R = α₀.₉/α₀.₁ of three smooth null shapes and of a cliff.

A curve losing the fraction f(u) of its drop at u = α/a reaches the fraction p at u_p = f⁻¹(p), so
R = u₀.₉/u₀.₁ does not depend on the scale a. sympy solves f(u) = p for u > 0:
  quadratic onset f = u²          → R = 3
  Gaussian bowl   f = 1 − e^(−u²) → R = √(ln 10 / ln(10/9)) ≈ 4.67
  ramp            f = u           → R = 9
  cliff (the limit of f = u^k, k → ∞) → R = 9^(1/k) → 1.
The registry's thresholds (theory.claims.statistics R_QUADRATIC, R_GAUSSIAN, R_RAMP) are checked equal.
"""

from __future__ import annotations

import sympy as sp

from theory.claims import statistics as S
from theory.derivations.core import Derivation, Step, identity, known_true

u = sp.Symbol("u", positive=True)
p = sp.Symbol("p", positive=True)
k = sp.Symbol("k", positive=True)

SHAPES = {"quadratic onset": u**2, "Gaussian bowl": 1 - sp.exp(-(u**2)), "ramp": u}
PAPER = {"quadratic onset": sp.Integer(3), "Gaussian bowl": sp.sqrt(sp.log(10) / sp.log(sp.Rational(10, 9))),
         "ramp": sp.Integer(9)}
IMPLEMENTED = {"quadratic onset": S.R_QUADRATIC, "Gaussian bowl": S.R_GAUSSIAN, "ramp": S.R_RAMP}


def ratio_of(shape: sp.Expr) -> sp.Expr:
    """u₀.₉/u₀.₁ for the fraction-lost curve `shape`(u) (the positive root of shape = p)."""
    (root,) = [r for r in sp.solve(sp.Eq(shape, p), u) if r.subs(p, sp.Rational(1, 2)).is_positive]
    return sp.simplify(root.subs(p, sp.Rational(9, 10)) / root.subs(p, sp.Rational(1, 10)))


def transition_ratio(claimed: dict[str, sp.Expr] | None = None) -> Derivation:
    """(m) R for each null shape equals the claimed value, and the implemented constants agree."""
    claimed = claimed or PAPER
    steps: list[Step] = []
    for name, shape in SHAPES.items():
        derived = ratio_of(shape)
        steps.append(identity(f"R({name}) = {claimed[name]}", derived, claimed[name], {}))
        steps.append(known_true(f"theory.claims.statistics value for {name} = derived R (1e-12)",
                                sp.Abs(sp.Float(IMPLEMENTED[name], 30) - sp.N(derived, 30)) < sp.Float("1e-12")))
    cliff = sp.limit(ratio_of(u**k).subs(k, 1 / sp.Symbol("e", positive=True)), sp.Symbol("e", positive=True), 0)
    steps.append(identity("R(u^k) = 9^(1/k) -> 1 as k -> oo (a cliff)", cliff, sp.Integer(1), {}))
    steps.append(known_true("the smooth nulls are ordered: 3 < R(Gaussian) < 9",
                            sp.And(PAPER["quadratic onset"] < PAPER["Gaussian bowl"], PAPER["Gaussian bowl"] < 9)))
    return Derivation("m", "Transition ratio of smooth null shapes",
                      "R = alpha_90/alpha_10 is 3 (quadratic onset), sqrt(ln 10/ln(10/9)) = 4.67 (Gaussian bowl), "
                      "9 (ramp), -> 1 (cliff)", sp.Eq(sp.Symbol("R_gauss"), claimed["Gaussian bowl"]), tuple(steps))
